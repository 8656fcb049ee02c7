package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Sample reads, at now, every metric an enabled metric rule watches, and
// forgets samples older than any rule needs.
func (e *Engine) Sample(now time.Time) {
	if e.o.Metrics == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	keep := map[string]time.Duration{}
	for _, en := range e.rules {
		r := en.rule
		if !r.Enabled || r.Signal != SignalMetric {
			continue
		}
		keep[r.Metric] = max(keep[r.Metric], 2*r.Window+SampleEvery)
	}
	for name, d := range keep {
		s := e.series[name]
		if s == nil {
			s = &series{counter: e.metrics[name].Counter}
			e.series[name] = s
		}
		if v, ok := e.o.Metrics.Value(name); ok {
			s.add(now, v)
		}
		s.trim(now.Add(-d))
	}
	for name := range e.series {
		if _, ok := keep[name]; !ok {
			delete(e.series, name)
		}
	}
}

// change is one state change to record and, for Fired and Resolved, to
// notify.
type change struct {
	rule     Rule
	from, to State
	at       time.Time
	out      Outcome
	firedAt  time.Time
}

// Evaluate evaluates the enabled rules that are due at now.
func (e *Engine) Evaluate(ctx context.Context, now time.Time) {
	e.mu.Lock()
	var due []*entry
	for _, en := range e.rules {
		if en.rule.Enabled && !now.Before(en.next) {
			due = append(due, en)
			en.next = en.next.Add(en.rule.Frequency)
			if !en.next.After(now) {
				en.next = now.Add(en.rule.Frequency)
			}
		}
	}
	e.mu.Unlock()
	var changes []change
	for _, en := range due {
		out, err := e.evaluate(ctx, en, now)
		e.mu.Lock()
		if e.rules[en.rule.Name] != en { // deleted or replaced meanwhile
			e.mu.Unlock()
			continue
		}
		en.lastEval = now
		if err != nil {
			en.lastErr = err.Error()
			e.mu.Unlock()
			continue
		}
		en.lastErr, en.lastValue, en.hasValue = "", out.Value, !math.IsNaN(out.Value)
		prev := en.status
		next, changed := Step(prev, out.Met, en.rule.Pending, en.rule.AutoResolve, now)
		en.status = next
		if changed {
			changes = append(changes, change{rule: en.rule, from: prev.State, to: next.State, at: now, out: out, firedAt: next.FiredAt})
		}
		e.mu.Unlock()
		if changed {
			if b, err := json.Marshal(next); err == nil {
				if err := e.o.Store.SetAlertStatus(ctx, en.rule.Name, b); err != nil && ctx.Err() == nil {
					e.o.Logger.Error("store alert state", "rule", en.rule.Name, "err", err)
				}
			}
		}
	}
	if len(changes) > 0 {
		e.record(ctx, changes)
	}
}

// evaluate computes one rule's outcome at now.
func (e *Engine) evaluate(ctx context.Context, en *entry, now time.Time) (Outcome, error) {
	if en.rule.Signal == SignalLog {
		return e.evaluateLog(ctx, en.rule, now)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return evaluateMetric(en.rule, e.series[en.rule.Metric], en.since, now)
}

// evaluateMetric aggregates the samples in the window. Only samples taken
// since the rule was created, changed or enabled count, and a rule is
// first evaluated once it has a full window of them: a total over half a
// window would look like a drop.
func evaluateMetric(r Rule, s *series, since, now time.Time) (Outcome, error) {
	if s == nil {
		return Outcome{}, fmt.Errorf("no samples of %s yet", r.Metric)
	}
	from := now.Add(-r.Window)
	if r.DropPercent != 0 {
		prevFrom := from.Add(-r.Window)
		if prevFrom.Before(since) {
			return Outcome{}, fmt.Errorf("waiting for two full windows of samples (until %s)", since.Add(2*r.Window).UTC().Format(time.RFC3339))
		}
		cur, n := s.aggregate(r.Aggregation, from, now)
		prev, m := s.aggregate(r.Aggregation, prevFrom, from)
		if n == 0 || m == 0 {
			return Outcome{}, fmt.Errorf("no samples of %s in a window", r.Metric)
		}
		limit := prev * (1 - r.DropPercent/100)
		return Outcome{Met: prev > 0 && cur <= limit, Value: cur, Threshold: limit}, nil
	}
	if from.Before(since) {
		return Outcome{}, fmt.Errorf("waiting for a full window of samples (until %s)", since.Add(r.Window).UTC().Format(time.RFC3339))
	}
	v, n := s.aggregate(r.Aggregation, from, now)
	if n == 0 {
		return Outcome{}, fmt.Errorf("no samples of %s in the window yet", r.Metric)
	}
	return Outcome{Met: r.compare(v), Value: v, Threshold: r.Threshold}, nil
}

// evaluateLog runs the rule's query over the window.
func (e *Engine) evaluateLog(ctx context.Context, r Rule, now time.Time) (Outcome, error) {
	if e.o.Logs == nil {
		return Outcome{}, fmt.Errorf("no KQL engine")
	}
	qctx, cancel := context.WithTimeout(ctx, min(r.Frequency, 30*time.Second))
	defer cancel()
	res, err := e.o.Logs.Query(qctx, r.Query, now.Add(-r.Window), now)
	if err != nil {
		return Outcome{}, fmt.Errorf("query: %w", err)
	}
	out := Outcome{ResultCount: int64(len(res.Rows)), Threshold: r.Threshold}
	if r.Column == "" {
		out.Value = float64(len(res.Rows))
	} else {
		col := -1
		for i, c := range res.Columns {
			if c == r.Column {
				col = i
			}
		}
		if col < 0 {
			return Outcome{}, fmt.Errorf("the result has no column %q (it has %v)", r.Column, res.Columns)
		}
		vals := make([]float64, 0, len(res.Rows))
		for _, row := range res.Rows {
			switch v := row[col].(type) {
			case int64:
				vals = append(vals, float64(v))
			case float64:
				vals = append(vals, v)
			case int:
				vals = append(vals, float64(v))
			case nil:
			default:
				return Outcome{}, fmt.Errorf("column %q is not numeric (%T)", r.Column, v)
			}
		}
		out.Value = aggregate(r.Aggregation, vals)
		if math.IsNaN(out.Value) {
			return out, nil // no rows: the condition does not hold
		}
	}
	out.Met = r.compare(out.Value)
	return out, nil
}
