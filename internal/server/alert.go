package server

import (
	"context"
	"log/slog"

	"github.com/tether-iot/tether/internal/alert"
	"github.com/tether-iot/tether/internal/metrics"
	"github.com/tether-iot/tether/internal/store"
)

// alertStore is the store as the alert engine's Store.
type alertStore struct{ *store.Store }

var _ alert.Store = alertStore{}

func (s alertStore) PutAlertRule(ctx context.Context, r alert.StoredRule) (bool, error) {
	return s.Store.PutAlertRule(ctx, store.AlertRule(r))
}

func (s alertStore) AlertRules(ctx context.Context) ([]alert.StoredRule, error) {
	rs, err := s.Store.AlertRules(ctx)
	out := make([]alert.StoredRule, len(rs))
	for i, r := range rs {
		out[i] = alert.StoredRule(r)
	}
	return out, err
}

func (s alertStore) AppendAlertEvents(ctx context.Context, es []alert.Event) error {
	out := make([]store.AlertEvent, len(es))
	for i, e := range es {
		out[i] = store.AlertEvent(e)
	}
	return s.Store.AppendAlertEvents(ctx, out)
}

func (s alertStore) AlertEvents(ctx context.Context, rule string, limit int) ([]alert.Event, error) {
	es, err := s.Store.AlertEvents(ctx, rule, limit)
	out := make([]alert.Event, len(es))
	for i, e := range es {
		out[i] = alert.Event(e)
	}
	return out, err
}

// valuer reads a metric live; *metrics.Metrics is one.
type valuer interface {
	Value(name string) (float64, bool)
}

// alertMetrics is the hub's metrics as the alert engine's MetricSource.
// connectedDeviceCount is the presence count: a device that drops (a
// lost link, a keep-alive timeout) counts as gone at once, while one that
// disconnects on purpose and reconnects within the presence grace (an
// SDK renewing its token) never lowers it. The other metrics
// are read from the metrics component; nil m (local administration)
// knows the names but reads no values.
type alertMetrics struct {
	m        valuer
	presence interface{ Connected() int }
}

func (a alertMetrics) Metrics() []alert.MetricInfo {
	out := make([]alert.MetricInfo, len(metrics.Names))
	for i, n := range metrics.Names {
		out[i] = alert.MetricInfo{Name: n.Azure, Prometheus: n.Prometheus, Counter: !n.Snapshot}
	}
	return out
}

func (a alertMetrics) Value(name string) (float64, bool) {
	if name == "connectedDeviceCount" && a.presence != nil {
		return float64(a.presence.Connected()), true
	}
	if a.m == nil {
		return 0, false
	}
	return a.m.Value(name)
}

// alertParts are the engine's optional collaborators that other
// components provide (KQL, action groups, notifications).
type alertParts struct {
	logs     alert.LogQuerier
	groups   alert.ActionGroups
	notifier alert.Notifier
}

// newAlerts builds the alert engine over st.
func newAlerts(st *store.Store, m alertMetrics, p alertParts, log *slog.Logger) (*alert.Engine, error) {
	rid, _ := st.LogResource()
	return alert.New(alert.Options{Store: alertStore{st}, Metrics: m, Logs: p.logs, Groups: p.groups, Notifier: p.notifier,
		ResourceID: rid, Logger: log})
}
