package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/alert"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/metrics"
	"github.com/tether-iot/tether/internal/notify"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// newNotifier builds the alert notification dispatcher over st: action
// groups, the outbox and the delivery record. The alert engine hands it
// each rule's state changes (Notify); Run delivers them.
func newNotifier(st *store.Store, resourceID string, smtp notify.SMTPConfig, log *slog.Logger) (*notify.Dispatcher, error) {
	if resourceID == "" {
		resourceID = store.DefaultResourceID
	}
	return notify.New(notify.Options{Store: notifyStore{st}, ResourceID: resourceID, SMTP: smtp, Logger: log})
}

// notifyStore is the SQLite store as the dispatcher's Store; the types
// match field for field, the receivers element by element.
type notifyStore struct{ *store.Store }

var _ notify.Store = notifyStore{}

func (s notifyStore) CreateActionGroup(ctx context.Context, g notify.Group) error {
	rs := make([]store.ActionReceiver, len(g.Receivers))
	for i, r := range g.Receivers {
		rs[i] = store.ActionReceiver(r)
	}
	return s.Store.CreateActionGroup(ctx, store.ActionGroup{Name: g.Name, Receivers: rs, Secret: g.Secret,
		Created: g.Created, Updated: g.Updated})
}

func groupFromStore(g store.ActionGroup) notify.Group {
	rs := make([]notify.Receiver, len(g.Receivers))
	for i, r := range g.Receivers {
		rs[i] = notify.Receiver(r)
	}
	return notify.Group{Name: g.Name, Receivers: rs, Secret: g.Secret, Created: g.Created, Updated: g.Updated,
		Pending: g.Pending, Dead: g.Dead}
}

func (s notifyStore) ActionGroup(ctx context.Context, name string) (notify.Group, error) {
	g, err := s.Store.ActionGroup(ctx, name)
	return groupFromStore(g), err
}

func (s notifyStore) ActionGroups(ctx context.Context) ([]notify.Group, error) {
	gs, err := s.Store.ActionGroups(ctx)
	out := make([]notify.Group, len(gs))
	for i, g := range gs {
		out[i] = groupFromStore(g)
	}
	return out, err
}

func (s notifyStore) EnqueueNotifications(ctx context.Context, ns []notify.Notification) error {
	out := make([]store.Notification, len(ns))
	for i, n := range ns {
		out[i] = store.Notification(n)
	}
	return s.Store.EnqueueNotifications(ctx, out)
}

func (s notifyStore) DueNotifications(ctx context.Context, now time.Time, limit int) ([]notify.Notification, error) {
	ns, err := s.Store.DueNotifications(ctx, now, limit)
	out := make([]notify.Notification, len(ns))
	for i, n := range ns {
		out[i] = notify.Notification(n)
	}
	return out, err
}

func (s notifyStore) RecordNotificationAttempt(ctx context.Context, a notify.Attempt) error {
	return s.Store.RecordNotificationAttempt(ctx, store.NotificationAttempt(a))
}

func (s notifyStore) NotificationAttempts(ctx context.Context, group string, limit int) ([]notify.Attempt, error) {
	as, err := s.Store.NotificationAttempts(ctx, group, limit)
	out := make([]notify.Attempt, len(as))
	for i, a := range as {
		out[i] = notify.Attempt(a)
	}
	return out, err
}

// Notifier is the hub's alert notification dispatcher: what the alert
// engine calls (Notify) and tests inspect.
func (s *Server) Notifier() *notify.Dispatcher { return s.notify }

// alertNotifier is the dispatcher as the alert engine's Notifier.
type alertNotifier struct{ d *notify.Dispatcher }

var _ alert.Notifier = alertNotifier{}

func (n alertNotifier) Notify(ctx context.Context, groups []string, a alert.Notification) error {
	desc := a.Description
	if desc == "" {
		desc = a.Condition
	}
	return n.d.Notify(ctx, groups, notify.Alert{RuleName: a.RuleName, RuleID: a.RuleID, Severity: a.Severity,
		State: a.State, FiredAt: a.FiredAt, ResolvedAt: a.ResolvedAt, SignalType: a.SignalType,
		MetricName: a.MetricName, Aggregation: a.Aggregation, Operator: a.Operator, Threshold: a.Threshold,
		MetricValue: a.MetricValue, WindowSize: a.WindowSize, Query: a.Query, ResultCount: int(a.ResultCount),
		Description: desc})
}

// alertGroups is the dispatcher as the alert engine's ActionGroups.
type alertGroups struct{ d *notify.Dispatcher }

var _ alert.ActionGroups = alertGroups{}

func (g alertGroups) ActionGroupExists(ctx context.Context, name string) (bool, error) {
	err := g.d.Exists(ctx, []string{name})
	switch {
	case err == nil:
		return true, nil
	case tether.ErrorKind(err) == tether.KindNotFound:
		return false, nil
	}
	return false, err
}

// ruleReader reads an alert rule; *alert.Engine is one.
type ruleReader interface {
	Rule(ctx context.Context, name string) (wire.AlertRule, error)
}

// ruleTester sends a test notification of an alert rule to its action
// groups: tether alert test NAME, POST /v1/alertRules/{name}/test.
type ruleTester struct {
	rules ruleReader
	d     *notify.Dispatcher
}

var _ api.AlertTester = ruleTester{}

func (t ruleTester) TestRule(ctx context.Context, name string) (wire.NotificationTest, error) {
	r, err := t.rules.Rule(ctx, name)
	if err != nil {
		return wire.NotificationTest{}, err
	}
	a := notify.Alert{RuleName: r.Name, Severity: r.Severity, State: notify.StateTest, SignalType: r.SignalType,
		MetricName: r.Metric, Aggregation: r.Aggregation, Operator: r.Operator, Query: r.Query,
		Description: r.Description}
	if r.SignalType == notify.SignalLog {
		a.MetricName = r.Column
	}
	if r.Threshold != nil {
		a.Threshold = *r.Threshold
	}
	if r.DropPercent != 0 {
		a.Operator = "le"
	}
	if r.LastValue != nil {
		a.MetricValue = *r.LastValue
		a.ResultCount = max(int(*r.LastValue), 0)
	}
	a.WindowSize, _ = time.ParseDuration(r.Window)
	if a.Description == "" {
		a.Description = "A test notification of alert rule " + r.Name + ", sent on request."
	}
	return t.d.Test(ctx, r.ActionGroups, a)
}

// notificationCounts is the dispatcher's attempt counts for /metrics.
func notificationCounts(d *notify.Dispatcher) func() []metrics.NotificationCount {
	return func() []metrics.NotificationCount {
		cs := d.Counts()
		out := make([]metrics.NotificationCount, len(cs))
		for i, c := range cs {
			out[i] = metrics.NotificationCount(c)
		}
		return out
	}
}
