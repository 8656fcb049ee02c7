package alert

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// Limits of a rule's timing.
const (
	MinFrequency    = 10 * time.Second
	MaxFrequency    = 24 * time.Hour
	MaxMetricWindow = 24 * time.Hour     // metric samples are kept in memory
	MaxLogWindow    = 2 * 24 * time.Hour // as Azure's log alerts
	maxPending      = 100
)

// SignalType says what a rule watches.
type SignalType string

// The signal types.
const (
	SignalMetric SignalType = "Metric"
	SignalLog    SignalType = "Log"
)

// Aggregations and operators, as the CLI and API spell them.
var (
	aggregations = []string{"avg", "min", "max", "total", "count"}
	operators    = map[string]string{"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Rule is a validated alert rule.
type Rule struct {
	Name        string
	Description string
	Signal      SignalType
	Severity    int
	Enabled     bool
	AutoResolve bool
	Metric      string // metric rules
	Query       string // log rules
	Column      string // log rules: "" means the row count
	Aggregation string
	Operator    string  // "" when DropPercent is set
	Threshold   float64 // with Operator
	DropPercent float64
	Window      time.Duration
	Frequency   time.Duration
	Pending     int // evaluations in a row before firing, at least 1
	Groups      []string
	Created     time.Time
	Updated     time.Time
}

func invalid(format string, args ...any) error {
	return tether.Errorf(tether.ArgumentInvalid, format, args...)
}

// parseRule checks in and returns the rule it describes. Checks that need
// the engine's collaborators (metric names, KQL, action groups) are made
// by the engine.
func parseRule(in wire.AlertRule) (Rule, error) {
	r := Rule{Name: in.Name, Description: in.Description, Severity: in.Severity, Enabled: true, AutoResolve: true,
		Metric: strings.TrimSpace(in.Metric), Query: strings.TrimSpace(in.Query), Column: strings.TrimSpace(in.Column),
		Aggregation: strings.ToLower(strings.TrimSpace(in.Aggregation)), Operator: strings.ToLower(strings.TrimSpace(in.Operator)),
		DropPercent: in.DropPercent, Pending: in.PendingEvaluations, Groups: in.ActionGroups}
	if !nameRE.MatchString(r.Name) {
		return r, invalid("alert rule name %q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", r.Name)
	}
	if in.Enabled != nil {
		r.Enabled = *in.Enabled
	}
	if in.AutoResolve != nil {
		r.AutoResolve = *in.AutoResolve
	}
	if r.Severity < 0 || r.Severity > 4 {
		return r, invalid("severity %d: use 0 (critical), 1 (error), 2 (warning), 3 (informational) or 4 (verbose)", r.Severity)
	}
	switch {
	case r.Metric != "" && r.Query != "":
		return r, invalid("a rule watches a metric or a query, not both: give metric or query")
	case r.Metric != "":
		r.Signal = SignalMetric
		if r.Column != "" {
			return r, invalid("column is for log rules (with query); a metric rule has one value per sample")
		}
	case r.Query != "":
		r.Signal = SignalLog
	default:
		return r, invalid("a rule needs a metric (such as connectedDeviceCount) or a KQL query")
	}
	if r.Aggregation == "" {
		r.Aggregation = "avg"
		if r.Signal == SignalLog {
			r.Aggregation = "total"
		}
	}
	if !slices.Contains(aggregations, r.Aggregation) {
		return r, invalid("aggregation %q: use one of %s", in.Aggregation, strings.Join(aggregations, ", "))
	}
	if r.Signal == SignalLog && r.Column == "" && r.Aggregation != "total" && in.Aggregation != "" {
		return r, invalid("aggregation %q needs a column: without one a log rule counts the result's rows", in.Aggregation)
	}
	if err := r.parseCondition(in); err != nil {
		return r, err
	}
	if err := r.parseTiming(in); err != nil {
		return r, err
	}
	seen := map[string]bool{}
	for _, g := range r.Groups {
		if strings.TrimSpace(g) == "" {
			return r, invalid("an action group name is empty")
		}
		if seen[g] {
			return r, invalid("action group %q is named twice", g)
		}
		seen[g] = true
	}
	if len(r.Description) > 1024 {
		return r, invalid("description: at most 1024 characters, not %d", len(r.Description))
	}
	return r, nil
}

func (r *Rule) parseCondition(in wire.AlertRule) error {
	if r.DropPercent != 0 {
		if r.Operator != "" || in.Threshold != nil {
			return invalid("dropPercent replaces operator and threshold: give one or the other")
		}
		if r.Signal != SignalMetric {
			return invalid("dropPercent is for metric rules")
		}
		if !(r.DropPercent > 0 && r.DropPercent <= 100) {
			return invalid("dropPercent %v: use a percentage above 0 and at most 100", r.DropPercent)
		}
		return nil
	}
	if _, ok := operators[r.Operator]; !ok {
		return invalid("operator %q: use gt, ge, lt, le, eq or ne (or dropPercent)", in.Operator)
	}
	if in.Threshold == nil {
		return invalid("a threshold is required with operator %s", r.Operator)
	}
	r.Threshold = *in.Threshold
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		return invalid("threshold must be a finite number")
	}
	return nil
}

func (r *Rule) parseTiming(in wire.AlertRule) error {
	var err error
	if in.Window == "" {
		return invalid("window is required, such as 5m")
	}
	if r.Window, err = ParseDuration(in.Window); err != nil {
		return invalid("window: %v", err)
	}
	if in.Frequency == "" {
		return invalid("frequency is required, such as 1m (10s at least)")
	}
	if r.Frequency, err = ParseDuration(in.Frequency); err != nil {
		return invalid("frequency: %v", err)
	}
	if r.Frequency < MinFrequency {
		return invalid("frequency %v: the shortest is %v", r.Frequency, MinFrequency)
	}
	if r.Frequency > MaxFrequency {
		return invalid("frequency %v: the longest is %v", r.Frequency, MaxFrequency)
	}
	if r.Frequency%time.Second != 0 || r.Window%time.Second != 0 {
		return invalid("window and frequency are whole seconds")
	}
	if r.Window < r.Frequency {
		return invalid("window %v is shorter than frequency %v: evaluations would skip data; make the window at least as long as the frequency", r.Window, r.Frequency)
	}
	maxWindow := MaxMetricWindow
	if r.Signal == SignalLog {
		maxWindow = MaxLogWindow
	}
	if r.Window > maxWindow {
		return invalid("window %v: the longest for a %s rule is %v", r.Window, strings.ToLower(string(r.Signal)), maxWindow)
	}
	if r.Pending == 0 {
		r.Pending = 1
	}
	if r.Pending < 1 || r.Pending > maxPending {
		return invalid("pendingEvaluations %d: use 1 to %d", r.Pending, maxPending)
	}
	return nil
}

// wire returns r as the API shows it, without state.
func (r Rule) wire() wire.AlertRule {
	en, ar := r.Enabled, r.AutoResolve
	out := wire.AlertRule{Name: r.Name, Description: r.Description, SignalType: string(r.Signal), Severity: r.Severity,
		Enabled: &en, AutoResolve: &ar, Metric: r.Metric, Query: r.Query, Column: r.Column, Aggregation: r.Aggregation,
		Operator: r.Operator, DropPercent: r.DropPercent, Window: shortDuration(r.Window), Frequency: shortDuration(r.Frequency),
		PendingEvaluations: r.Pending, ActionGroups: r.Groups, CreatedTime: wire.Time(r.Created), UpdatedTime: wire.Time(r.Updated)}
	if r.Operator != "" {
		t := r.Threshold
		out.Threshold = &t
	}
	return out
}

// compare applies the rule's operator.
func (r Rule) compare(v float64) bool {
	switch r.Operator {
	case "gt":
		return v > r.Threshold
	case "ge":
		return v >= r.Threshold
	case "lt":
		return v < r.Threshold
	case "le":
		return v <= r.Threshold
	case "eq":
		return v == r.Threshold
	case "ne":
		return v != r.Threshold
	}
	return false
}

// Condition describes the rule's condition in words, for messages.
func (r Rule) Condition() string {
	what := r.Aggregation + " " + r.Metric
	if r.Signal == SignalLog {
		what = "rows"
		if r.Column != "" {
			what = r.Aggregation + " of " + r.Column
		}
	}
	if r.DropPercent != 0 {
		return fmt.Sprintf("%s over %v dropped by %v%% or more against the previous %v", what, r.Window, r.DropPercent, r.Window)
	}
	return fmt.Sprintf("%s over %v %s %v", what, r.Window, operators[r.Operator], r.Threshold)
}
