package alert

import (
	"context"
	"time"
)

// Notification is a rule's firing or resolution, for its action groups.
type Notification struct {
	RuleName    string
	RuleID      string // the hub's resource ID + /alertRules/NAME
	Severity    int
	State       string // Fired or Resolved
	FiredAt     time.Time
	ResolvedAt  time.Time // zero while fired
	SignalType  string    // Metric or Log
	MetricName  string
	Aggregation string
	Operator    string // gt, ge, lt, le, eq, ne; "" for a drop rule
	Threshold   float64
	MetricValue float64
	WindowSize  time.Duration
	Frequency   time.Duration
	Query       string
	ResultCount int64
	Description string
	Condition   string // the condition in words
}

// record writes the changes to the history and sends the firings and
// resolutions to the notifier, each on its own goroutine.
func (e *Engine) record(ctx context.Context, cs []change) {
	es := make([]Event, len(cs))
	for i, c := range cs {
		r := c.rule
		es[i] = Event{Time: c.at, Rule: r.Name, State: string(c.to), PreviousState: string(c.from), Severity: r.Severity,
			SignalType: string(r.Signal), MetricName: r.Metric, Aggregation: r.Aggregation, Operator: r.Operator,
			Threshold: c.out.Threshold, Value: c.out.Value, Window: r.Window, Query: r.Query, ResultCount: c.out.ResultCount,
			Description: r.Description}
		if r.DropPercent != 0 {
			es[i].Operator = "le"
		}
	}
	if err := e.o.Store.AppendAlertEvents(ctx, es); err != nil && ctx.Err() == nil {
		e.o.Logger.Error("record alert state changes", "changes", len(es), "err", err)
	}
	for i, c := range cs {
		if c.to != Fired && c.to != Resolved {
			continue
		}
		e.o.Logger.Info("alert "+string(c.to), "rule", c.rule.Name, "severity", c.rule.Severity, "value", c.out.Value, "condition", c.rule.Condition())
		if e.o.Notifier == nil || len(c.rule.Groups) == 0 {
			continue
		}
		n := Notification{RuleName: c.rule.Name, RuleID: e.o.ResourceID + "/alertRules/" + c.rule.Name, Severity: c.rule.Severity,
			State: string(c.to), FiredAt: c.firedAt, SignalType: es[i].SignalType, MetricName: c.rule.Metric,
			Aggregation: c.rule.Aggregation, Operator: es[i].Operator, Threshold: c.out.Threshold, MetricValue: c.out.Value,
			WindowSize: c.rule.Window, Frequency: c.rule.Frequency, Query: c.rule.Query, ResultCount: c.out.ResultCount,
			Description: c.rule.Description, Condition: c.rule.Condition()}
		if c.to == Resolved {
			n.ResolvedAt = c.at
		}
		e.send(c.rule.Groups, n)
	}
}

// send calls the notifier on its own goroutine, bounded in number and
// time, so that a slow receiver holds up neither evaluation nor other
// rules.
func (e *Engine) send(groups []string, n Notification) {
	e.sends.Add(1)
	go func() {
		defer e.sends.Done()
		e.sem <- struct{}{}
		defer func() { <-e.sem }()
		ctx, cancel := context.WithTimeout(context.Background(), e.o.NotifyTimeout)
		defer cancel()
		if err := e.o.Notifier.Notify(ctx, groups, n); err != nil {
			e.o.Logger.Error("alert notification not sent", "rule", n.RuleName, "state", n.State, "groups", groups, "err", err)
		}
	}()
}
