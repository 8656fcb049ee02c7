package notify

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// amAlert is one alert of Alertmanager's v2 API (POST /api/v2/alerts
// takes a JSON array of them).
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// severityNames are Azure's names of Sev0..Sev4, lower case, as
// Alertmanager routes usually match them.
var severityNames = [...]string{"critical", "error", "warning", "info", "verbose"}

// testHold is how long Alertmanager keeps a test alert.
const testHold = 5 * time.Minute

// alertmanagerAlerts renders a as Alertmanager alerts. A Fired alert ends
// at now+hold unless a Resolved one ends it earlier, so Alertmanager keeps
// it while Tether (which sends each state change once) says nothing.
func alertmanagerAlerts(a Alert, resourceID string, now time.Time, hold time.Duration) []amAlert {
	if a.ResourceID != "" {
		resourceID = a.ResourceID
	}
	labels := map[string]string{
		"alertname":      a.RuleName,
		"severity":       severityNames[a.Severity],
		"azure_severity": "Sev" + strconv.Itoa(a.Severity),
		"signal_type":    a.SignalType,
		"rule_id":        a.RuleID,
		"source":         "tether",
		"hub":            lastSegment(resourceID),
	}
	if a.MetricName != "" {
		labels["metric"] = a.MetricName
	}
	ann := map[string]string{
		"summary":  summary(a),
		"alert_id": a.ID(),
	}
	if a.Description != "" {
		ann["description"] = a.Description
	}
	if a.Query != "" {
		ann["query"] = a.Query
	}
	if a.WindowSize > 0 {
		ann["window"] = a.WindowSize.String()
	}
	out := amAlert{Labels: labels, Annotations: ann, StartsAt: a.FiredAt.UTC().Format(time.RFC3339Nano)}
	switch a.State {
	case StateResolved:
		out.EndsAt = a.ResolvedAt.UTC().Format(time.RFC3339Nano)
	case StateTest:
		labels["tether_test"] = "true"
		out.EndsAt = now.Add(testHold).UTC().Format(time.RFC3339Nano)
	default:
		out.EndsAt = now.Add(hold).UTC().Format(time.RFC3339Nano)
	}
	if u, err := url.Parse(a.Link); err == nil && u.IsAbs() {
		out.GeneratorURL = a.Link
	}
	return []amAlert{out}
}

// alertmanagerURL is where alerts are posted: the receiver's URL, with
// /api/v2/alerts added unless it is there already.
func alertmanagerURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v2/alerts") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/alerts"
		u.RawPath = ""
	}
	return u.String()
}
