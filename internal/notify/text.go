package notify

import (
	"fmt"
	"strings"
	"time"
)

// summary says in one line what happened, for email subjects and
// Alertmanager's summary annotation.
func summary(a Alert) string {
	var cond string
	switch {
	case a.SignalType == SignalLog && a.MetricName == "":
		cond = fmt.Sprintf("%d rows %s %s", a.ResultCount, operatorSymbol(a.Operator), formatNumber(a.Threshold))
	case a.MetricName != "":
		agg := strings.ToLower(a.Aggregation)
		if agg != "" {
			agg += " "
		}
		cond = fmt.Sprintf("%s%s %s %s %s", agg, a.MetricName, formatNumber(a.MetricValue), operatorSymbol(a.Operator), formatNumber(a.Threshold))
	}
	if a.WindowSize > 0 && cond != "" {
		cond += " over " + a.WindowSize.String()
	}
	state := a.State
	if state == StateTest {
		state = "Test"
	}
	s := fmt.Sprintf("%s: Sev%d %s", state, a.Severity, a.RuleName)
	if cond != "" {
		s += " (" + cond + ")"
	}
	return s
}

// emailBody is the plain-text body of an alert email.
func emailBody(a Alert, resourceID string) string {
	var b strings.Builder
	if a.State == StateTest {
		b.WriteString("This is a test notification sent on request; no rule fired.\n\n")
	}
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-14s %s\n", k+":", v)
		}
	}
	row("Alert rule", a.RuleName)
	row("State", a.State)
	row("Severity", fmt.Sprintf("Sev%d (%s)", a.Severity, severityNames[a.Severity]))
	row("Signal", a.SignalType)
	row("Fired", a.FiredAt.UTC().Format(time.RFC3339))
	if a.State == StateResolved {
		row("Resolved", a.ResolvedAt.UTC().Format(time.RFC3339))
	}
	if a.MetricName != "" {
		row("Metric", a.MetricName)
		row("Aggregation", a.Aggregation)
		row("Value", formatNumber(a.MetricValue))
	}
	if a.SignalType == SignalLog {
		row("Query", a.Query)
		row("Rows", fmt.Sprint(a.ResultCount))
	}
	if a.Operator != "" {
		row("Condition", operatorSymbol(a.Operator)+" "+formatNumber(a.Threshold))
	}
	if a.WindowSize > 0 {
		row("Window", a.WindowSize.String())
	}
	row("Description", a.Description)
	if a.ResourceID != "" {
		resourceID = a.ResourceID
	}
	row("Resource", resourceID)
	row("Link", a.Link)
	row("Alert ID", a.ID())
	b.WriteString("\n-- \nSent by Tether's action group notifications.\n")
	return b.String()
}
