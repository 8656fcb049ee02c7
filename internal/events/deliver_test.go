package events

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether/internal/wire"
)

// eventIDs returns the ids of an Event Grid body.
func eventIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var arr []EventGridEvent
	if err := json.Unmarshal(body, &arr); err != nil {
		t.Fatalf("body %s is not an Event Grid array: %v", body, err)
	}
	var ids []string
	for _, e := range arr {
		ids = append(ids, e.ID)
	}
	return ids
}

// mustNextAttempt returns the subscription's next attempt time.
func (f *fixture) mustNextAttempt(t *testing.T, name string) time.Time {
	t.Helper()
	s, err := f.ev.Subscription(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if s.NextAttemptTime == nil {
		t.Fatalf("subscription %s is not backing off: %+v", name, s)
	}
	return s.NextAttemptTime.Std()
}

func within(d, lo, hi time.Duration) bool { return d >= lo && d <= hi }

func TestFailsTwiceThenDeliversOnce(t *testing.T) {
	f := mustNewEvents(t)
	r := mustStartReceiver(t, 503, 500)
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: r.URL})
	f.mustPublish(t, connected("d1", 1, t0))

	f.mustDeliver(t, t0) // attempt 1: 503
	next1 := f.mustNextAttempt(t, "s")
	if d := next1.Sub(t0); !within(d, 800*time.Millisecond, time.Second) {
		t.Errorf("first back-off = %v, want 0.8s to 1s", d)
	}
	f.mustDeliver(t, next1.Add(-time.Millisecond)) // not due yet
	if n := len(r.requests()); n != 1 {
		t.Fatalf("receiver got %d requests before the back-off ended, want 1", n)
	}
	f.mustDeliver(t, next1) // attempt 2: 500
	next2 := f.mustNextAttempt(t, "s")
	if d := next2.Sub(next1); !within(d, 1600*time.Millisecond, 2*time.Second) {
		t.Errorf("second back-off = %v, want 1.6s to 2s", d)
	}
	f.mustDeliver(t, next2)                // attempt 3: 200
	f.mustDeliver(t, next2.Add(time.Hour)) // nothing left
	got := r.requests()
	if len(got) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(got))
	}
	id := eventIDs(t, got[0].body)
	for i, req := range got {
		if ids := eventIDs(t, req.body); !cmp.Equal(ids, id) {
			t.Errorf("request %d carried %v, want the same event %v", i, ids, id)
		}
		if h := req.header.Get(DeliveryCountHeader); h != string(rune('0'+i)) {
			t.Errorf("request %d: %s = %q, want %d", i, DeliveryCountHeader, h, i)
		}
	}
	ds := f.mustDeliveries(t, "s")
	if len(ds) != 3 {
		t.Fatalf("%d attempts recorded, want 3: %+v", len(ds), ds)
	}
	type row struct {
		Attempt, Status int
		Outcome         string
		Time, Next      time.Time
	}
	var rows []row
	for i := len(ds) - 1; i >= 0; i-- { // oldest first
		d := ds[i]
		r := row{Attempt: d.Attempt, Status: d.StatusCode, Outcome: d.Outcome, Time: d.Time.Std()}
		if d.NextAttemptTime != nil {
			r.Next = d.NextAttemptTime.Std()
		}
		if !cmp.Equal(d.EventIDs, id) {
			t.Errorf("attempt %d recorded events %v, want %v", d.Attempt, d.EventIDs, id)
		}
		rows = append(rows, r)
	}
	want := []row{
		{1, 503, OutcomeRetry, t0, next1},
		{2, 500, OutcomeRetry, next1, next2},
		{3, 200, OutcomeDelivered, next2, time.Time{}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("recorded attempts (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(ds[2].Error, "HTTP 503: not now") {
		t.Errorf("first attempt's error = %q, want HTTP 503 and the answer's start", ds[2].Error)
	}
	s, _ := f.ev.Subscription(context.Background(), "s")
	if s.PendingCount != 0 || s.DeadCount != 0 || s.ConsecutiveFailures != 0 || s.NextAttemptTime != nil {
		t.Errorf("after delivery: %+v", s)
	}
}

func TestBackoffSchedule(t *testing.T) {
	f := mustNewEvents(t)
	prev := time.Duration(0)
	for n := 1; n <= 12; n++ {
		full := min(time.Second<<(n-1), 5*time.Minute)
		d := f.ev.backoff(n)
		if !within(d, full-full/5, full) {
			t.Errorf("backoff(%d) = %v, want %v less up to a fifth", n, d, full)
		}
		if full < 5*time.Minute && d <= prev {
			t.Errorf("backoff(%d) = %v does not grow from %v", n, d, prev)
		}
		prev = d
	}
	if d := f.ev.backoff(1000); !within(d, 4*time.Minute, 5*time.Minute) {
		t.Errorf("backoff(1000) = %v, want at most the 5 min cap", d)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := mustNewEvents(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: srv.URL})
	f.mustPublish(t, connected("d1", 1, t0))
	f.mustDeliver(t, t0)
	if d := f.mustNextAttempt(t, "s").Sub(t0); d != time.Minute {
		t.Errorf("back-off after Retry-After: 60 = %v, want 1m", d)
	}
}

func TestRestartDeliversWhatWasPublished(t *testing.T) {
	f := mustNewEvents(t)
	r := mustStartReceiver(t)
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: r.URL})
	f.mustPublish(t, connected("d1", 1, t0))
	f.mustPublish(t, DeviceEvent{Type: DeviceDisconnected, DeviceID: "d1", Time: t0, Sequence: seq(2)})
	if err := f.st.Close(); err != nil { // a crash before any attempt
		t.Fatal(err)
	}

	st := mustOpenStore(t, f.path)
	ev := mustEventsOver(t, st, f.clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ev.Run(ctx) }()
	select {
	case <-r.hits:
	case <-time.After(10 * time.Second):
		t.Fatal("Run delivered nothing after the restart")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil after cancel", err)
	}
	got := r.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	var arr []EventGridEvent
	json.Unmarshal(got[0].body, &arr)
	if len(arr) != 2 || arr[0].EventType != "Microsoft.Devices.DeviceConnected" || arr[1].EventType != "Microsoft.Devices.DeviceDisconnected" {
		t.Errorf("after the restart the receiver got %s, want both events in order", got[0].body)
	}
}

func TestSubscriptionsGetOnlyTheirTypes(t *testing.T) {
	f := mustNewEvents(t)
	conn, life := mustStartReceiver(t), mustStartReceiver(t)
	f.mustSubscribe(t, wire.EventSubscription{Name: "conn", URL: conn.URL, Types: []string{"DeviceConnected", "Microsoft.Devices.DeviceDisconnected"}})
	f.mustSubscribe(t, wire.EventSubscription{Name: "life", URL: life.URL, Types: []string{"devicecreated"}})
	f.mustPublish(t, DeviceEvent{Type: DeviceCreated, DeviceID: "d1", Time: t0})
	f.mustPublish(t, connected("d1", 1, t0))
	f.mustPublish(t, DeviceEvent{Type: DeviceDisconnected, DeviceID: "d1", Time: t0, Sequence: seq(2)})
	f.mustPublish(t, DeviceEvent{Type: DeviceDeleted, DeviceID: "d1", Time: t0})
	f.mustDeliver(t, t0)
	types := func(r *receiver) []string {
		var out []string
		for _, req := range r.requests() {
			var arr []EventGridEvent
			json.Unmarshal(req.body, &arr)
			for _, e := range arr {
				out = append(out, e.EventType)
			}
		}
		return out
	}
	if diff := cmp.Diff([]string{"Microsoft.Devices.DeviceConnected", "Microsoft.Devices.DeviceDisconnected"}, types(conn)); diff != "" {
		t.Errorf("conn got (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Microsoft.Devices.DeviceCreated"}, types(life)); diff != "" {
		t.Errorf("life got (-want +got):\n%s", diff)
	}
}

func TestBatchingBySchema(t *testing.T) {
	f := mustNewEvents(t, func(o *Options) { o.MaxBatch = 2 })
	eg, ce := mustStartReceiver(t), mustStartReceiver(t)
	f.mustSubscribe(t, wire.EventSubscription{Name: "eg", URL: eg.URL})
	f.mustSubscribe(t, wire.EventSubscription{Name: "ce", URL: ce.URL, Schema: "CloudEvents"})
	for i := 1; i <= 3; i++ {
		f.mustPublish(t, connected("d1", i, t0))
	}
	f.mustDeliver(t, t0)
	var sizes []int
	for _, req := range eg.requests() {
		sizes = append(sizes, len(eventIDs(t, req.body)))
	}
	if diff := cmp.Diff([]int{2, 1}, sizes); diff != "" {
		t.Errorf("Event Grid batches with MaxBatch 2 (-want +got):\n%s", diff)
	}
	var seqs []string
	for _, req := range ce.requests() {
		var c struct{ Data ConnectionStateData }
		if err := json.Unmarshal(req.body, &c); err != nil {
			t.Fatalf("CloudEvents body %s: %v", req.body, err)
		}
		seqs = append(seqs, c.Data.DeviceConnectionStateEventInfo.SequenceNumber)
	}
	if diff := cmp.Diff([]string{seq(1), seq(2), seq(3)}, seqs); diff != "" {
		t.Errorf("CloudEvents, one per request, in order (-want +got):\n%s", diff)
	}
}

func TestEventsWaitingForABackOffKeepTheirOrder(t *testing.T) {
	f := mustNewEvents(t)
	r := mustStartReceiver(t, 503)
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: r.URL})
	f.mustPublish(t, connected("d1", 1, t0))
	f.mustDeliver(t, t0)
	f.mustPublish(t, DeviceEvent{Type: DeviceDisconnected, DeviceID: "d1", Time: t0, Sequence: seq(2)})
	f.mustDeliver(t, t0.Add(100*time.Millisecond)) // backing off: the new event waits too
	if n := len(r.requests()); n != 1 {
		t.Fatalf("receiver got %d requests during the back-off, want 1", n)
	}
	f.mustDeliver(t, f.mustNextAttempt(t, "s"))
	got := r.requests()
	var arr []EventGridEvent
	json.Unmarshal(got[len(got)-1].body, &arr)
	if len(arr) != 2 || arr[0].EventType != "Microsoft.Devices.DeviceConnected" || arr[1].EventType != "Microsoft.Devices.DeviceDisconnected" {
		t.Errorf("after the back-off the receiver got %s, want both events in order", got[len(got)-1].body)
	}
}

func TestGivingUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     func(*Options)
		script   []int
		attempts int // before the event is dead
		status   int
	}{
		{"400 is final", nil, []int{400}, 1, 400},
		{"413 is final", nil, []int{413}, 1, 413},
		{"MaxAttempts", func(o *Options) { o.MaxAttempts = 3 }, []int{500, 502, 504}, 3, 504},
		{"MaxAge", func(o *Options) { o.MaxAge = 2 * time.Second }, []int{500, 500, 500, 500}, 2, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*Options)
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			f := mustNewEvents(t, opts...)
			r := mustStartReceiver(t, tc.script...)
			f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: r.URL})
			f.mustPublish(t, connected("d1", 1, t0))
			now := t0
			for i := 0; i < 10; i++ {
				f.mustDeliver(t, now)
				now = now.Add(5 * time.Minute)
			}
			if n := len(r.requests()); n != tc.attempts {
				t.Errorf("receiver got %d requests, want %d", n, tc.attempts)
			}
			ds := f.mustDeliveries(t, "s")
			if len(ds) != tc.attempts || ds[0].Outcome != OutcomeDead || ds[0].StatusCode != tc.status {
				t.Errorf("last attempt = %+v of %d, want dead with status %d", ds[0], len(ds), tc.status)
			}
			s, _ := f.ev.Subscription(context.Background(), "s")
			if s.PendingCount != 0 || s.DeadCount != 1 {
				t.Errorf("subscription after giving up = %+v, want 0 pending and 1 dead", s)
			}
		})
	}
}

func TestUnreachableReceiverIsRetried(t *testing.T) {
	f := mustNewEvents(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: url + "/hook"})
	f.mustPublish(t, connected("d1", 1, t0))
	f.mustDeliver(t, t0)
	ds := f.mustDeliveries(t, "s")
	if len(ds) != 1 || ds[0].StatusCode != 0 || ds[0].Outcome != OutcomeRetry || !strings.Contains(ds[0].Error, "connect") {
		t.Errorf("attempt to a closed port = %+v, want status 0, retry and a connection error", ds)
	}
}

func TestDeletedSubscriptionGetsNothing(t *testing.T) {
	f := mustNewEvents(t)
	r := mustStartReceiver(t)
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: r.URL})
	f.mustPublish(t, connected("d1", 1, t0))
	if err := f.ev.DeleteSubscription(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	f.mustDeliver(t, t0)
	if n := len(r.requests()); n != 0 {
		t.Errorf("a deleted subscription got %d requests", n)
	}
}
