package alert

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// memStore is the Store in memory. (The SQLite store is exercised by
// internal/store's tests and internal/server's end-to-end tests: this
// package may not import it.)
type memStore struct {
	mu     sync.Mutex
	rules  map[string]StoredRule
	events []Event
}

func newMemStore() *memStore { return &memStore{rules: map[string]StoredRule{}} }

func (m *memStore) PutAlertRule(_ context.Context, r StoredRule) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.rules[r.Name]
	if ok {
		r.Created = old.Created
	}
	m.rules[r.Name] = r
	return !ok, nil
}

func (m *memStore) AlertRules(context.Context) ([]StoredRule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredRule
	for _, r := range m.rules {
		out = append(out, r)
	}
	return out, nil
}

func (m *memStore) DeleteAlertRule(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rules[name]; !ok {
		return &tether.Error{Kind: tether.KindNotFound, Message: "no " + name}
	}
	delete(m.rules, name)
	return nil
}

func (m *memStore) SetAlertStatus(_ context.Context, name string, status []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rules[name]
	r.Status = status
	m.rules[name] = r
	return nil
}

func (m *memStore) AppendAlertEvents(_ context.Context, es []Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, es...)
	return nil
}

func (m *memStore) AlertEvents(_ context.Context, rule string, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range slices.Backward(m.events) {
		if rule == "" || e.Rule == rule {
			out = append(out, e)
		}
	}
	return out[:min(limit, len(out))], nil
}

func (m *memStore) states(rule string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.events {
		if e.Rule == rule {
			out = append(out, e.State)
		}
	}
	return out
}

// gauges are settable metric values.
type gauges struct {
	mu sync.Mutex
	v  map[string]float64
}

func (g *gauges) Metrics() []MetricInfo {
	return []MetricInfo{{Name: "connectedDeviceCount", Prometheus: "tether_connected_devices"},
		{Name: "d2c.telemetry.ingress.success", Prometheus: "tether_d2c_telemetry_ingress_success_total", Counter: true}}
}

func (g *gauges) Value(name string) (float64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.v[name]
	return v, ok
}

func (g *gauges) set(name string, v float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.v[name] = v
}

// rowsQuerier answers every query with n rows of one long column "n".
type rowsQuerier struct {
	mu   sync.Mutex
	rows int
	from time.Time
	to   time.Time
}

func (q *rowsQuerier) Check(query string) error {
	if query == "AzureDiagnostics | wher x" {
		return fmt.Errorf("line 1, col 20: expected an operator after '|', got 'wher'")
	}
	return nil
}

func (q *rowsQuerier) Query(_ context.Context, _ string, from, to time.Time) (LogResult, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.from, q.to = from, to
	res := LogResult{Columns: []string{"n"}}
	for i := range q.rows {
		res.Rows = append(res.Rows, []any{int64(i)})
	}
	return res, nil
}

// groups knows the action group "ops".
type groups struct{}

func (groups) ActionGroupExists(_ context.Context, name string) (bool, error) {
	return name == "ops", nil
}

// notes records notifications.
type notes struct {
	mu    sync.Mutex
	got   []Notification
	block chan struct{} // when set, Notify waits on it
}

func (n *notes) Notify(ctx context.Context, _ []string, x Notification) error {
	if n.block != nil {
		select {
		case <-n.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, x)
	return nil
}

func (n *notes) all() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

type fixture struct {
	e     *Engine
	st    *memStore
	g     *gauges
	q     *rowsQuerier
	n     *notes
	clock time.Time
}

func mustEngine(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{st: newMemStore(), g: &gauges{v: map[string]float64{}}, q: &rowsQuerier{}, n: &notes{},
		clock: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	var err error
	f.e, err = New(Options{Store: f.st, Metrics: f.g, Logs: f.q, Groups: groups{}, Notifier: f.n, ResourceID: "/HUB",
		Now: func() time.Time { return f.clock }})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *fixture) mustPut(tb testing.TB, r wire.AlertRule) wire.AlertRule {
	tb.Helper()
	out, _, err := f.e.PutRule(context.Background(), r)
	if err != nil {
		tb.Fatalf("PutRule(%+v) = %v", r, err)
	}
	return out
}

// run advances the clock by d in steps of SampleEvery, sampling and
// evaluating at each, as Run does.
func (f *fixture) run(d time.Duration) {
	for end := f.clock.Add(d); f.clock.Before(end); {
		f.clock = f.clock.Add(SampleEvery)
		f.e.Sample(f.clock)
		f.e.Evaluate(context.Background(), f.clock)
	}
}

func (f *fixture) waitNotes(tb testing.TB, n int) []Notification {
	tb.Helper()
	f.e.sends.Wait()
	got := f.n.all()
	if len(got) != n {
		tb.Fatalf("got %d notifications, want %d: %+v", len(got), n, got)
	}
	return got
}

func ptr[T any](v T) *T { return &v }
