package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// load reads the stored rules once.
func (e *Engine) load(ctx context.Context) error {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	if e.loaded {
		return nil
	}
	stored, err := e.o.Store.AlertRules(ctx)
	if err != nil {
		return fmt.Errorf("load alert rules: %w", err)
	}
	now := e.o.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range stored {
		var in wire.AlertRule
		if err := json.Unmarshal(s.Spec, &in); err != nil {
			e.o.Logger.Error("stored alert rule unreadable; skipped", "rule", s.Name, "err", err)
			continue
		}
		r, err := parseRule(in)
		if err != nil {
			e.o.Logger.Error("stored alert rule invalid; skipped", "rule", s.Name, "err", err)
			continue
		}
		r.Created, r.Updated = s.Created, s.Updated
		en := &entry{rule: r, since: now, next: now.Add(r.Frequency), status: Status{State: Inactive, Since: s.Updated}}
		if len(s.Status) > 0 {
			if err := json.Unmarshal(s.Status, &en.status); err != nil {
				e.o.Logger.Error("stored alert status unreadable; starting Inactive", "rule", s.Name, "err", err)
			}
		}
		e.rules[r.Name] = en
	}
	e.loaded = true
	return nil
}

func notFound(name string) error {
	return &tether.Error{Kind: tether.KindNotFound, Code: tether.NotFound, Message: fmt.Sprintf("No alert rule named '%s'.", name)}
}

// PutRule creates or replaces the rule in.Name, reports whether it
// created it, and returns it as stored. A replaced rule starts over as
// Inactive. Every mistake is an ArgumentInvalid error that says what to
// fix: an unknown metric, a query that does not compile (with its
// position), an impossible window and frequency, an unknown action group.
func (e *Engine) PutRule(ctx context.Context, in wire.AlertRule) (wire.AlertRule, bool, error) {
	if err := e.load(ctx); err != nil {
		return wire.AlertRule{}, false, err
	}
	r, err := parseRule(in)
	if err != nil {
		return wire.AlertRule{}, false, err
	}
	if err := e.check(ctx, r); err != nil {
		return wire.AlertRule{}, false, err
	}
	now := e.o.Now()
	e.mu.Lock()
	old := e.rules[r.Name]
	e.mu.Unlock()
	r.Created, r.Updated = now, now
	if old != nil {
		r.Created = old.rule.Created
	}
	spec, err := json.Marshal(r.wire())
	if err != nil {
		return wire.AlertRule{}, false, err
	}
	st := Status{State: Inactive, Since: now}
	status, _ := json.Marshal(st)
	created, err := e.o.Store.PutAlertRule(ctx, StoredRule{Name: r.Name, Spec: spec, Status: status, Created: r.Created, Updated: now})
	if err != nil {
		return wire.AlertRule{}, false, err
	}
	en := &entry{rule: r, status: st, since: now, next: now.Add(r.Frequency)}
	e.mu.Lock()
	e.rules[r.Name] = en
	out := en.wire()
	e.mu.Unlock()
	if old != nil && old.status.State != Inactive {
		e.record(ctx, []change{{rule: old.rule, from: old.status.State, to: Inactive, at: now}})
	}
	return out, created, nil
}

// check makes the checks that need the collaborators.
func (e *Engine) check(ctx context.Context, r Rule) error {
	switch r.Signal {
	case SignalMetric:
		if e.o.Metrics == nil {
			return tether.Errorf(tether.ServiceUnavailable, "metric rules need the hub's metrics, which this hub does not run")
		}
		m, ok := e.metrics[r.Metric]
		if !ok {
			return invalid("unknown metric %q; the metrics are: %s", r.Metric, strings.Join(e.metricNames(), ", "))
		}
		if m.Counter && r.DropPercent != 0 && r.Aggregation == "count" {
			return invalid("dropPercent with aggregation count compares sample counts; use total for a counter")
		}
	case SignalLog:
		if e.o.Logs == nil {
			return tether.Errorf(tether.ServiceUnavailable, "log rules need the KQL engine, which this hub does not run")
		}
		if err := e.o.Logs.Check(r.Query); err != nil {
			return invalid("query does not compile: %v", err)
		}
	}
	if len(r.Groups) > 0 && e.o.Groups == nil {
		return invalid("this hub has no action groups; leave out the action groups or create them first")
	}
	for _, g := range r.Groups {
		ok, err := e.o.Groups.ActionGroupExists(ctx, g)
		if err != nil {
			return err
		}
		if !ok {
			return invalid("no action group named %q; create it first (tether action-group create %s --webhook URL)", g, g)
		}
	}
	return nil
}

func (e *Engine) metricNames() []string {
	var ns []string
	for n := range e.metrics {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Rule returns one rule with its state.
func (e *Engine) Rule(ctx context.Context, name string) (wire.AlertRule, error) {
	if err := e.load(ctx); err != nil {
		return wire.AlertRule{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	en := e.rules[name]
	if en == nil {
		return wire.AlertRule{}, notFound(name)
	}
	return en.wire(), nil
}

// Rules returns every rule with its state, by name.
func (e *Engine) Rules(ctx context.Context) ([]wire.AlertRule, error) {
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []wire.AlertRule{}
	for _, en := range e.rules {
		out = append(out, en.wire())
	}
	slices.SortFunc(out, func(a, b wire.AlertRule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteRule removes a rule; its history stays in the Alerts table.
func (e *Engine) DeleteRule(ctx context.Context, name string) error {
	if err := e.load(ctx); err != nil {
		return err
	}
	if err := e.o.Store.DeleteAlertRule(ctx, name); err != nil {
		return err
	}
	e.mu.Lock()
	delete(e.rules, name)
	e.mu.Unlock()
	return nil
}

// SetEnabled enables or disables a rule. A disabled rule is not
// evaluated and goes back to Inactive, without a notification; an enabled
// one starts over with fresh samples.
func (e *Engine) SetEnabled(ctx context.Context, name string, enabled bool) (wire.AlertRule, error) {
	if err := e.load(ctx); err != nil {
		return wire.AlertRule{}, err
	}
	now := e.o.Now()
	e.mu.Lock()
	en := e.rules[name]
	if en == nil {
		e.mu.Unlock()
		return wire.AlertRule{}, notFound(name)
	}
	r := en.rule
	r.Enabled, r.Updated = enabled, now
	prev := en.status
	st := Status{State: Inactive, Since: now}
	if enabled == en.rule.Enabled {
		st = prev
	}
	e.mu.Unlock()
	spec, err := json.Marshal(r.wire())
	if err != nil {
		return wire.AlertRule{}, err
	}
	status, _ := json.Marshal(st)
	if _, err := e.o.Store.PutAlertRule(ctx, StoredRule{Name: name, Spec: spec, Status: status, Created: r.Created, Updated: now}); err != nil {
		return wire.AlertRule{}, err
	}
	e.mu.Lock()
	en = &entry{rule: r, status: st, since: now, next: now.Add(r.Frequency)}
	e.rules[name] = en
	out := en.wire()
	e.mu.Unlock()
	if prev.State != st.State {
		e.record(ctx, []change{{rule: r, from: prev.State, to: st.State, at: now}})
	}
	return out, nil
}

// History returns the newest limit state changes of a rule (or of all,
// for ""), newest first.
func (e *Engine) History(ctx context.Context, name string, limit int) ([]wire.AlertEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	es, err := e.o.Store.AlertEvents(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	out := make([]wire.AlertEvent, len(es))
	for i, x := range es {
		out[i] = wire.AlertEvent{Time: wire.Time(x.Time), AlertName: x.Rule, State: x.State, PreviousState: x.PreviousState,
			Severity: x.Severity, SignalType: x.SignalType, MetricName: x.MetricName, Aggregation: x.Aggregation,
			Operator: x.Operator, Threshold: x.Threshold, Value: x.Value, WindowSize: ISODuration(x.Window), Query: x.Query,
			ResultCount: x.ResultCount, Description: x.Description}
	}
	return out, nil
}

// wire shows the entry; e.mu is held.
func (en *entry) wire() wire.AlertRule {
	out := en.rule.wire()
	out.State = string(en.status.State)
	if !en.rule.Enabled {
		out.State = "Disabled"
	}
	if !en.status.Since.IsZero() {
		t := wire.Time(en.status.Since)
		out.StateSince = &t
	}
	if !en.lastEval.IsZero() {
		t := wire.Time(en.lastEval)
		out.LastEvaluated = &t
	}
	if en.hasValue {
		v := en.lastValue
		out.LastValue = &v
	}
	out.LastError = en.lastErr
	return out
}

func sortRules(rs []Rule) {
	slices.SortFunc(rs, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
}
