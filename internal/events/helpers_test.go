package events

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

// storeAdapter is the SQLite store as the events' Store, as the server
// adapts it: the types match field for field.
type storeAdapter struct{ *store.Store }

var _ Store = storeAdapter{}

func (s storeAdapter) PutEventSubscription(ctx context.Context, sub Subscription, replaceSecret bool) (Subscription, bool, error) {
	out, created, err := s.Store.PutEventSubscription(ctx, store.EventSubscription(sub), replaceSecret)
	return Subscription(out), created, err
}

func (s storeAdapter) EventSubscription(ctx context.Context, name string) (Subscription, error) {
	out, err := s.Store.EventSubscription(ctx, name)
	return Subscription(out), err
}

func (s storeAdapter) EventSubscriptions(ctx context.Context) ([]Subscription, error) {
	subs, err := s.Store.EventSubscriptions(ctx)
	out := make([]Subscription, len(subs))
	for i, sub := range subs {
		out[i] = Subscription(sub)
	}
	return out, err
}

func (s storeAdapter) EnqueueEvent(ctx context.Context, e Pending) (int, error) {
	return s.Store.EnqueueEvent(ctx, store.OutboxEvent(e))
}

func (s storeAdapter) DueEvents(ctx context.Context, now time.Time, perSubscription int) ([]Pending, error) {
	es, err := s.Store.DueEvents(ctx, now, perSubscription)
	out := make([]Pending, len(es))
	for i, e := range es {
		out[i] = Pending(e)
	}
	return out, err
}

func (s storeAdapter) RecordEventAttempt(ctx context.Context, a Attempt) error {
	return s.Store.RecordEventAttempt(ctx, store.EventAttempt(a))
}

func (s storeAdapter) EventDeliveries(ctx context.Context, subscription string, limit int) ([]Delivery, error) {
	ds, err := s.Store.EventDeliveries(ctx, subscription, limit)
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = Delivery(d)
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

// fixture is Events over a real store in a temporary folder, at a
// settable time, with deterministic randomness.
type fixture struct {
	path  string
	st    *store.Store
	ev    *Events
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

func mustNewEvents(tb testing.TB, opts ...func(*Options)) *fixture {
	tb.Helper()
	f := &fixture{path: filepath.Join(tb.TempDir(), "tether.db"), clock: &clock{t: t0}}
	f.st = mustOpenStore(tb, f.path)
	f.ev = mustEventsOver(tb, f.st, f.clock, opts...)
	return f
}

func mustEventsOver(tb testing.TB, st *store.Store, c *clock, opts ...func(*Options)) *Events {
	tb.Helper()
	o := Options{Store: storeAdapter{st}, HubName: "myhub", Now: c.Now, Rand: rand.NewChaCha8([32]byte{1})}
	for _, f := range opts {
		f(&o)
	}
	ev, err := New(o)
	if err != nil {
		tb.Fatalf("New() = %v", err)
	}
	return ev
}

func (f *fixture) mustSubscribe(tb testing.TB, in wire.EventSubscription) wire.EventSubscription {
	tb.Helper()
	out, _, err := f.ev.PutSubscription(context.Background(), in)
	if err != nil {
		tb.Fatalf("PutSubscription(%+v) = %v", in, err)
	}
	return out
}

func (f *fixture) mustPublish(tb testing.TB, ev DeviceEvent) {
	tb.Helper()
	if err := f.ev.Publish(ev); err != nil {
		tb.Fatalf("Publish(%+v) = %v", ev, err)
	}
}

func (f *fixture) mustDeliver(tb testing.TB, now time.Time) {
	tb.Helper()
	f.clock.Set(now)
	if err := f.ev.deliverDue(context.Background(), now); err != nil {
		tb.Fatalf("deliverDue(%v) = %v", now, err)
	}
}

func (f *fixture) mustDeliveries(tb testing.TB, sub string) []wire.EventDelivery {
	tb.Helper()
	ds, err := f.ev.Deliveries(context.Background(), sub, 0)
	if err != nil {
		tb.Fatalf("Deliveries(%q) = %v", sub, err)
	}
	return ds
}

// received is one request a receiver got.
type received struct {
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
		r.got = append(r.got, received{req.Header.Clone(), body})
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

// seq returns a 64-hex sequence number ending in n.
func seq(n int) string {
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	s := zeros + string(rune('0'+n%10))
	return s[len(s)-64:]
}

func connected(device string, n int, at time.Time) DeviceEvent {
	return DeviceEvent{Type: DeviceConnected, DeviceID: device, Time: at, Sequence: seq(n), ConnectionID: "c" + string(rune('0'+n%10))}
}
