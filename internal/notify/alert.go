package notify

import (
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// The states an alert notification announces: Azure's monitorCondition,
// plus Test for a notification sent on request.
const (
	StateFired    = "Fired"
	StateResolved = "Resolved"
	StateTest     = "Test"
)

// The signal types of an alert rule: Azure's signalType.
const (
	SignalMetric = "Metric"
	SignalLog    = "Log"
)

// Alert is what the alert engine tells the dispatcher: one state change
// of one rule (or a test). It is the contract between internal/alert
// (through the server) and this package; the receivers render it as
// Azure's common alert schema, an Alertmanager alert or an email.
type Alert struct {
	RuleName string `json:"ruleName"`
	RuleID   string `json:"ruleId"`   // stable across renames; "" means RuleName
	Severity int    `json:"severity"` // 0 (critical) to 4 (verbose), as Azure's Sev0..Sev4
	State    string `json:"state"`    // StateFired, StateResolved or StateTest

	FiredAt    time.Time `json:"firedAt"`             // when the rule started firing; required
	ResolvedAt time.Time `json:"resolvedAt,omitzero"` // required for StateResolved

	SignalType string `json:"signalType"` // SignalMetric or SignalLog

	// A metric rule (and a log rule that measures a column).
	MetricName  string  `json:"metricName,omitempty"`  // connectedDeviceCount, or the measured column
	Aggregation string  `json:"aggregation,omitempty"` // avg, min, max, total or count (Azure's names too)
	Operator    string  `json:"operator,omitempty"`    // lt, le, gt, ge, eq, ne (Azure's names and symbols too)
	Threshold   float64 `json:"threshold"`
	MetricValue float64 `json:"metricValue"` // the value that crossed (or, resolved, no longer crosses) the threshold

	WindowSize time.Duration `json:"windowSize,omitempty"` // the evaluation window

	// A log rule.
	Query       string `json:"query,omitempty"`
	ResultCount int    `json:"resultCount,omitempty"` // rows the query returned

	Description string `json:"description,omitempty"`
	ResourceID  string `json:"resourceId,omitempty"` // the hub's resource ID; "": the dispatcher's
	Link        string `json:"link,omitempty"`       // where a person looks further (portal, log query)
}

// validate checks a and fills its defaults: RuleID, SignalType of a test,
// ResolvedAt of a test.
func (a *Alert) validate() error {
	bad := func(format string, args ...any) error {
		return tether.Errorf(tether.ArgumentInvalid, "alert notification: "+format, args...)
	}
	if strings.TrimSpace(a.RuleName) == "" {
		return bad("RuleName is empty")
	}
	if a.RuleID == "" {
		a.RuleID = a.RuleName
	}
	if a.Severity < 0 || a.Severity > 4 {
		return bad("severity %d is out of range: use 0 (critical) to 4 (verbose)", a.Severity)
	}
	switch a.State {
	case StateFired, StateTest:
	case StateResolved:
		if a.ResolvedAt.IsZero() {
			return bad("a Resolved notification needs ResolvedAt")
		}
	default:
		return bad("state %q: use Fired, Resolved or Test", a.State)
	}
	if a.FiredAt.IsZero() {
		return bad("FiredAt is not set")
	}
	switch a.SignalType {
	case SignalMetric, SignalLog:
	case "":
		if a.State != StateTest {
			return bad("signal type is empty: use Metric or Log")
		}
		a.SignalType = SignalMetric
	default:
		return bad("signal type %q: use Metric or Log", a.SignalType)
	}
	if a.Operator != "" && azureOperator(a.Operator) == "" {
		return bad("operator %q: use lt, le, gt, ge, eq or ne", a.Operator)
	}
	if a.Aggregation != "" && azureAggregation(a.Aggregation) == "" {
		return bad("aggregation %q: use avg, min, max, total or count", a.Aggregation)
	}
	for _, f := range []float64{a.Threshold, a.MetricValue} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return bad("threshold and value must be finite numbers")
		}
	}
	if a.WindowSize < 0 || a.ResultCount < 0 {
		return bad("window size and result count cannot be negative")
	}
	return nil
}

// ID is the alert instance's ID: the same for a rule's Fired and its
// Resolved notification (both carry the FiredAt of the episode), a
// version 4 style UUID derived from the rule and FiredAt.
func (a Alert) ID() string {
	id := a.RuleID
	if id == "" {
		id = a.RuleName
	}
	key := id + "\x00" + a.FiredAt.UTC().Format(time.RFC3339Nano)
	if a.State == StateTest {
		key += "\x00test" // a test is not the episode it imitates
	}
	sum := sha256.Sum256([]byte(key))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// azureOperator returns Azure's name of an operator, or "".
func azureOperator(op string) string {
	switch strings.ToLower(op) {
	case "lt", "<", "lessthan":
		return "LessThan"
	case "le", "<=", "lessthanorequal":
		return "LessThanOrEqual"
	case "gt", ">", "greaterthan":
		return "GreaterThan"
	case "ge", ">=", "greaterthanorequal":
		return "GreaterThanOrEqual"
	case "eq", "==", "=", "equals", "equal":
		return "Equals"
	case "ne", "!=", "notequals", "notequal":
		return "NotEquals"
	}
	return ""
}

// operatorSymbol returns an operator as a symbol for people: "<".
func operatorSymbol(op string) string {
	switch azureOperator(op) {
	case "LessThan":
		return "<"
	case "LessThanOrEqual":
		return "<="
	case "GreaterThan":
		return ">"
	case "GreaterThanOrEqual":
		return ">="
	case "Equals":
		return "=="
	case "NotEquals":
		return "!="
	}
	return op
}

// azureAggregation returns Azure's timeAggregation name, or "".
func azureAggregation(agg string) string {
	switch strings.ToLower(agg) {
	case "avg", "average", "mean":
		return "Average"
	case "min", "minimum":
		return "Minimum"
	case "max", "maximum":
		return "Maximum"
	case "total", "sum":
		return "Total"
	case "count":
		return "Count"
	}
	return ""
}

// isoDuration formats d as an ISO 8601 duration, as Azure writes window
// sizes: PT5M, PT10S, PT1H30M, P1D.
func isoDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dD", days)
		d -= days * 24 * time.Hour
	}
	if d == 0 {
		return b.String()
	}
	b.WriteString("T")
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
		d -= m * time.Minute
	}
	if d > 0 {
		s := fmt.Sprintf("%.3f", d.Seconds())
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		b.WriteString(s + "S")
	}
	return b.String()
}

// formatNumber prints a threshold or value as Azure does: "15", "0.5".
func formatNumber(f float64) string { return fmt.Sprintf("%g", f) }
