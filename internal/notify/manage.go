package notify

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// The methods below are the service API's view of action groups, in the
// wire types: the API's ActionGroups interface.

// CreateGroup validates in and creates the action group with a new
// secret, which the answer carries (and no later answer does). Bad input
// is an ArgumentInvalid error naming the receiver; an existing name is a
// conflict error.
func (d *Dispatcher) CreateGroup(ctx context.Context, in wire.ActionGroup) (wire.ActionGroup, error) {
	g := Group{Name: in.Name}
	for i, r := range in.Receivers {
		rr, err := fromWire(i, r)
		if err != nil {
			return wire.ActionGroup{}, err
		}
		g.Receivers = append(g.Receivers, rr)
	}
	rs, err := normalize(g)
	if err != nil {
		return wire.ActionGroup{}, err
	}
	g.Receivers = rs
	if g.Secret, err = d.newSecret(); err != nil {
		return wire.ActionGroup{}, err
	}
	now := d.o.Now()
	g.Created, g.Updated = now, now
	if err := d.o.Store.CreateActionGroup(ctx, g); err != nil {
		return wire.ActionGroup{}, err
	}
	d.log.Info("action group created", "group", g.Name, "receivers", len(g.Receivers))
	out := toWire(g)
	out.Secret = g.Secret.Reveal()
	return out, nil
}

// fromWire reads the i-th receiver of a request.
func fromWire(i int, r wire.Receiver) (Receiver, error) {
	switch r.Type {
	case KindWebhook, KindAlertmanager:
		if r.Address != "" {
			return Receiver{}, invalid("receiver %d (%s) takes a url, not an address", i+1, r.Type)
		}
		return Receiver{Kind: r.Type, Target: r.URL}, nil
	case KindEmail:
		if r.URL != "" {
			return Receiver{}, invalid("receiver %d (email) takes an address, not a url", i+1)
		}
		return Receiver{Kind: KindEmail, Target: r.Address}, nil
	case "":
		return Receiver{}, invalid("receiver %d has no type: use webhook, alertmanager or email", i+1)
	}
	return Receiver{}, invalid("receiver %d: type %q is not one of webhook, alertmanager or email", i+1, r.Type)
}

// toWire shows g, its URLs redacted and its secret hidden.
func toWire(g Group) wire.ActionGroup {
	out := wire.ActionGroup{Name: g.Name, Receivers: []wire.Receiver{}, CreatedTime: wire.Time(g.Created),
		UpdatedTime: wire.Time(g.Updated), PendingCount: g.Pending, DeadCount: g.Dead}
	for _, r := range g.Receivers {
		if r.Kind == KindEmail {
			out.Receivers = append(out.Receivers, wire.Receiver{Type: r.Kind, Address: r.Target})
		} else {
			out.Receivers = append(out.Receivers, wire.Receiver{Type: r.Kind, URL: Redact(r.Target)})
		}
	}
	return out
}

// Group returns one action group, redacted.
func (d *Dispatcher) Group(ctx context.Context, name string) (wire.ActionGroup, error) {
	g, err := d.o.Store.ActionGroup(ctx, name)
	if err != nil {
		return wire.ActionGroup{}, err
	}
	return toWire(g), nil
}

// GroupList returns every action group, redacted, by name.
func (d *Dispatcher) GroupList(ctx context.Context) ([]wire.ActionGroup, error) {
	gs, err := d.o.Store.ActionGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.ActionGroup, len(gs))
	for i, g := range gs {
		out[i] = toWire(g)
	}
	return out, nil
}

// DeleteGroup removes an action group and the notifications waiting for
// it; its history stays until it ages out.
func (d *Dispatcher) DeleteGroup(ctx context.Context, name string) error {
	if err := d.o.Store.DeleteActionGroup(ctx, name); err != nil {
		return err
	}
	d.log.Info("action group deleted", "group", name)
	return nil
}

// Exists reports whether every named action group exists, and returns
// a not found error naming the first that does not: for the alert
// engine's check when a rule is created.
func (d *Dispatcher) Exists(ctx context.Context, names []string) error {
	for _, n := range names {
		if _, err := d.o.Store.ActionGroup(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// History returns the newest limit attempts (0: 100) of one action group,
// or of all for "", newest first. The history of a deleted group is kept
// until it ages out; a name with neither a group nor a history is a not
// found error.
func (d *Dispatcher) History(ctx context.Context, group string, limit int) ([]wire.NotificationAttempt, error) {
	if limit <= 0 {
		limit = 100
	}
	as, err := d.o.Store.NotificationAttempts(ctx, group, limit)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 && group != "" {
		if _, err := d.o.Store.ActionGroup(ctx, group); err != nil {
			return nil, err
		}
	}
	out := make([]wire.NotificationAttempt, len(as))
	for i, a := range as {
		out[i] = attemptToWire(a)
	}
	return out, nil
}

func attemptToWire(a Attempt) wire.NotificationAttempt {
	w := wire.NotificationAttempt{ID: a.ID, ActionGroup: a.Group, Receiver: a.Kind, Target: a.Target,
		AlertID: a.AlertID, AlertRule: a.Rule, MonitorCondition: a.Condition, Time: wire.Time(a.Time),
		Attempt: a.Attempt, StatusCode: a.StatusCode, Error: a.Error,
		LatencyMs: float64(a.Latency.Microseconds()) / 1000, Outcome: a.Outcome}
	if !a.NextAttempt.IsZero() {
		t := wire.Time(a.NextAttempt)
		w.NextAttemptTime = &t
	}
	return w
}

// TestAlert is the alert a test of an action group sends when no rule is
// named: a made-up metric alert, marked as a test.
func TestAlert(group string, now time.Time) Alert {
	return Alert{RuleName: "test-" + group, RuleID: "tether-test", Severity: 4, State: StateTest, FiredAt: now,
		SignalType: SignalMetric, MetricName: "connectedDeviceCount", Aggregation: "min", Operator: "lt",
		Threshold: 1, MetricValue: 0, WindowSize: 5 * time.Minute,
		Description: fmt.Sprintf("A test notification of action group %s, sent on request.", group)}
}

// Test sends a (its State set to Test) to every receiver of the named
// action groups at once, each within the Timeout, and waits for all of
// them. Each send is recorded in the history (outcome delivered or
// failed) and is not retried. An unknown group is a not found error.
func (d *Dispatcher) Test(ctx context.Context, groups []string, a Alert) (wire.NotificationTest, error) {
	a.State = StateTest
	if a.FiredAt.IsZero() {
		a.FiredAt = d.o.Now()
	}
	if err := a.validate(); err != nil {
		return wire.NotificationTest{}, err
	}
	if len(groups) == 0 {
		return wire.NotificationTest{}, invalid("alert rule %q has no action groups to test", a.RuleName)
	}
	var gs []Group
	for _, name := range groups {
		g, err := d.o.Store.ActionGroup(ctx, name)
		if err != nil {
			return wire.NotificationTest{}, err
		}
		gs = append(gs, g)
	}
	out := wire.NotificationTest{ActionGroups: groups, AlertRule: a.RuleName}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, d.o.Parallel)
	)
	now := d.o.Now()
	for _, g := range gs {
		for _, r := range g.Receivers {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				at := d.testOne(ctx, g, r, a, now)
				mu.Lock()
				out.Results = append(out.Results, attemptToWire(at))
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return wire.NotificationTest{}, err
	}
	order := map[string]int{}
	i := 0
	for _, g := range gs {
		for _, r := range g.Receivers {
			order[g.Name+"\x00"+r.Kind+"\x00"+Redact(r.Target)] = i
			i++
		}
	}
	sortResults(out.Results, order)
	for _, r := range out.Results {
		if r.Outcome == OutcomeDelivered {
			out.Delivered++
		} else {
			out.Failed++
		}
	}
	return out, nil
}

// testOne sends one test and records it.
func (d *Dispatcher) testOne(ctx context.Context, g Group, r Receiver, a Alert, now time.Time) Attempt {
	at := Attempt{Group: g.Name, Kind: r.Kind, Target: Redact(r.Target), AlertID: a.ID(), Rule: a.RuleName,
		Condition: StateTest, Time: now, Attempt: 1}
	sctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	start := d.o.Now()
	res := d.send(sctx, g, r, a, now)
	at.Latency = max(d.o.Now().Sub(start), 0)
	cancel()
	at.StatusCode = res.status
	at.Outcome = OutcomeDelivered
	if res.err != nil {
		at.Outcome, at.Error = OutcomeFailed, res.err.Error()
		if sctx.Err() == context.DeadlineExceeded && !strings.Contains(at.Error, "deadline") {
			at.Error += fmt.Sprintf(" (no answer within %v)", d.o.Timeout)
		}
	}
	d.count(at.Kind, at.Outcome)
	if err := d.o.Store.RecordNotificationAttempt(ctx, at); err != nil && ctx.Err() == nil {
		d.log.Error("record test notification", "group", g.Name, "receiver", r.Kind, "err", err)
	}
	return at
}

// sortResults orders results as the groups list their receivers.
func sortResults(rs []wire.NotificationAttempt, order map[string]int) {
	key := func(r wire.NotificationAttempt) int { return order[r.ActionGroup+"\x00"+r.Receiver+"\x00"+r.Target] }
	slices.SortStableFunc(rs, func(a, b wire.NotificationAttempt) int { return key(a) - key(b) })
}

// newSecret returns a random 256-bit secret, base64url without padding.
func (d *Dispatcher) newSecret() (tether.Secret, error) {
	var b [32]byte
	if err := d.read(b[:]); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return tether.Secret(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

// TestGroup sends [TestAlert] to every receiver of one action group at
// once and reports each answer: tether action-group test.
func (d *Dispatcher) TestGroup(ctx context.Context, name string) (wire.NotificationTest, error) {
	return d.Test(ctx, []string{name}, TestAlert(name, d.o.Now()))
}
