package notify

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// storeAdapter is the SQLite store as the dispatcher's Store, as the
// server adapts it.
type storeAdapter struct{ *store.Store }

var _ Store = storeAdapter{}

func (s storeAdapter) CreateActionGroup(ctx context.Context, g Group) error {
	rs := make([]store.ActionReceiver, len(g.Receivers))
	for i, r := range g.Receivers {
		rs[i] = store.ActionReceiver(r)
	}
	return s.Store.CreateActionGroup(ctx, store.ActionGroup{Name: g.Name, Receivers: rs, Secret: g.Secret,
		Created: g.Created, Updated: g.Updated})
}

func groupFromStore(g store.ActionGroup) Group {
	rs := make([]Receiver, len(g.Receivers))
	for i, r := range g.Receivers {
		rs[i] = Receiver(r)
	}
	return Group{Name: g.Name, Receivers: rs, Secret: g.Secret, Created: g.Created, Updated: g.Updated,
		Pending: g.Pending, Dead: g.Dead}
}

func (s storeAdapter) ActionGroup(ctx context.Context, name string) (Group, error) {
	g, err := s.Store.ActionGroup(ctx, name)
	return groupFromStore(g), err
}

func (s storeAdapter) ActionGroups(ctx context.Context) ([]Group, error) {
	gs, err := s.Store.ActionGroups(ctx)
	out := make([]Group, len(gs))
	for i, g := range gs {
		out[i] = groupFromStore(g)
	}
	return out, err
}

func (s storeAdapter) EnqueueNotifications(ctx context.Context, ns []Notification) error {
	out := make([]store.Notification, len(ns))
	for i, n := range ns {
		out[i] = store.Notification(n)
	}
	return s.Store.EnqueueNotifications(ctx, out)
}

func (s storeAdapter) DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error) {
	ns, err := s.Store.DueNotifications(ctx, now, limit)
	out := make([]Notification, len(ns))
	for i, n := range ns {
		out[i] = Notification(n)
	}
	return out, err
}

func (s storeAdapter) RecordNotificationAttempt(ctx context.Context, a Attempt) error {
	return s.Store.RecordNotificationAttempt(ctx, store.NotificationAttempt(a))
}

func (s storeAdapter) NotificationAttempts(ctx context.Context, group string, limit int) ([]Attempt, error) {
	as, err := s.Store.NotificationAttempts(ctx, group, limit)
	out := make([]Attempt, len(as))
	for i, a := range as {
		out[i] = Attempt(a)
	}
	return out, err
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fixture is a Dispatcher over a real store in a temporary folder, at a
// settable time, with deterministic randomness.
type fixture struct {
	path  string
	st    *store.Store
	d     *Dispatcher
	clock *clock
}

func mustOpenStore(tb testing.TB, path string) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: path})
	if err != nil {
		tb.Fatalf("store.Open(%q) = %v", path, err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func mustNewFixture(tb testing.TB, opts ...func(*Options)) *fixture {
	tb.Helper()
	f := &fixture{path: filepath.Join(tb.TempDir(), "tether.db"), clock: &clock{t: t0}}
	f.st = mustOpenStore(tb, f.path)
	f.d = mustDispatcherOver(tb, f.st, f.clock, opts...)
	return f
}

func mustDispatcherOver(tb testing.TB, st *store.Store, c *clock, opts ...func(*Options)) *Dispatcher {
	tb.Helper()
	o := Options{Store: storeAdapter{st}, Now: c.Now, Rand: rand.NewChaCha8([32]byte{1}), Timeout: 5 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	d, err := New(o)
	if err != nil {
		tb.Fatalf("New() = %v", err)
	}
	return d
}

func (f *fixture) mustCreate(tb testing.TB, name string, rs ...wire.Receiver) wire.ActionGroup {
	tb.Helper()
	g, err := f.d.CreateGroup(context.Background(), wire.ActionGroup{Name: name, Receivers: rs})
	if err != nil {
		tb.Fatalf("CreateGroup(%q, %+v) = %v", name, rs, err)
	}
	return g
}

func (f *fixture) mustNotify(tb testing.TB, groups []string, a Alert) {
	tb.Helper()
	if err := f.d.Notify(context.Background(), groups, a); err != nil {
		tb.Fatalf("Notify(%v, %+v) = %v", groups, a, err)
	}
}

// mustDispatch runs one dispatch at now and waits for its sends.
func (f *fixture) mustDispatch(tb testing.TB, now time.Time) {
	tb.Helper()
	f.clock.Set(now)
	if err := f.d.dispatch(context.Background(), now); err != nil {
		tb.Fatalf("dispatch(%v) = %v", now, err)
	}
	f.d.wg.Wait()
}

func (f *fixture) mustHistory(tb testing.TB, group string) []wire.NotificationAttempt {
	tb.Helper()
	as, err := f.d.History(context.Background(), group, 0)
	if err != nil {
		tb.Fatalf("History(%q) = %v", group, err)
	}
	return as
}

func webhook(u string) wire.Receiver      { return wire.Receiver{Type: KindWebhook, URL: u} }
func alertmanager(u string) wire.Receiver { return wire.Receiver{Type: KindAlertmanager, URL: u} }
func email(a string) wire.Receiver        { return wire.Receiver{Type: KindEmail, Address: a} }

// received is one request a receiver got.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a webhook that answers with the next status of a script,
// then 200, and keeps what it got.
type receiver struct {
	*httptest.Server
	hits   chan struct{} // one per request, dropped when full
	mu     sync.Mutex
	script []int
	got    []received
}

func mustStartReceiver(tb testing.TB, script ...int) *receiver {
	tb.Helper()
	r := &receiver{script: script, hits: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.URL.RequestURI(), req.Header.Clone(), body})
		status := http.StatusOK
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		if status >= 300 {
			io.WriteString(w, "not now")
		}
		select {
		case r.hits <- struct{}{}:
		default:
		}
	}))
	tb.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// metricAlert is the alert of the example rule, fired.
func metricAlert() Alert {
	return Alert{RuleName: "devices-dropped", RuleID: "rule-1", Severity: 2, State: StateFired,
		FiredAt: t0, SignalType: SignalMetric, MetricName: "connectedDeviceCount", Aggregation: "min",
		Operator: "lt", Threshold: 15, MetricValue: 10, WindowSize: 5 * time.Minute,
		Description: "fewer than 15 devices connected", Link: "https://hub.example/portal/alerts/rule-1"}
}
