package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

var eventT0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func mustPutSubscription(tb testing.TB, s *Store, name string, types ...string) EventSubscription {
	tb.Helper()
	sub, _, err := s.PutEventSubscription(context.Background(), EventSubscription{Name: name, URL: "http://127.0.0.1/" + name,
		Types: types, Schema: "eventgrid", Secret: "s3cret-" + tether.Secret(name), Created: eventT0, Updated: eventT0}, true)
	if err != nil {
		tb.Fatalf("PutEventSubscription(%q) = %v", name, err)
	}
	return sub
}

func mustEnqueueEvent(tb testing.TB, s *Store, id, typ string) int {
	tb.Helper()
	n, err := s.EnqueueEvent(context.Background(), OutboxEvent{EventID: id, Type: typ, Subject: "devices/d1",
		Time: eventT0, Data: []byte(`{"deviceId":"d1"}`), Created: eventT0})
	if err != nil {
		tb.Fatalf("EnqueueEvent(%s) = %v", id, err)
	}
	return n
}

func TestEventSubscriptionPutKeepsSecretAndCreated(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	first := mustPutSubscription(t, s, "a", "DeviceConnected", "DeviceDeleted")
	want := EventSubscription{Name: "a", URL: "http://127.0.0.1/a", Types: []string{"DeviceConnected", "DeviceDeleted"},
		Schema: "eventgrid", Secret: "s3cret-a", Created: eventT0, Updated: eventT0}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("PutEventSubscription (-want +got):\n%s", diff)
	}
	later := eventT0.Add(time.Hour)
	got, created, err := s.PutEventSubscription(ctx, EventSubscription{Name: "a", URL: "https://example.test/hook",
		Types: []string{"DeviceCreated"}, Schema: "cloudevents", Secret: "other", Created: later, Updated: later}, false)
	if err != nil || created {
		t.Fatalf("replace = %v, created %v", err, created)
	}
	want = EventSubscription{Name: "a", URL: "https://example.test/hook", Types: []string{"DeviceCreated"},
		Schema: "cloudevents", Secret: "s3cret-a", Created: eventT0, Updated: later}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replace without replaceSecret (-want +got):\n%s", diff)
	}
	got, _, _ = s.PutEventSubscription(ctx, EventSubscription{Name: "a", URL: got.URL, Types: got.Types, Schema: got.Schema,
		Secret: "other", Updated: later}, true)
	if got.Secret != "other" {
		t.Errorf("replace with replaceSecret kept secret %q", got.Secret.Reveal())
	}
	mustPutSubscription(t, s, "b", "DeviceConnected")
	list, err := s.EventSubscriptions(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[1].Name != "b" {
		t.Fatalf("EventSubscriptions() = %v, %v", list, err)
	}
	if err := s.DeleteEventSubscription(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EventSubscription(ctx, "a"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("EventSubscription after delete = %v, want not found", err)
	}
	if err := s.DeleteEventSubscription(ctx, "a"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("second delete = %v, want not found", err)
	}
}

func TestEnqueueEventFiltersByType(t *testing.T) {
	s := mustOpen(t)
	mustPutSubscription(t, s, "conn", "DeviceConnected", "DeviceDisconnected")
	mustPutSubscription(t, s, "life", "DeviceCreated", "DeviceDeleted")
	mustPutSubscription(t, s, "prefix", "DeviceConnectedX") // no substring matches
	for _, tc := range []struct {
		typ  string
		want int
	}{{"DeviceConnected", 1}, {"DeviceDeleted", 1}, {"DeviceTelemetry", 0}, {"Device", 0}} {
		if n := mustEnqueueEvent(t, s, "e-"+tc.typ, tc.typ); n != tc.want {
			t.Errorf("EnqueueEvent(%s) went to %d subscriptions, want %d", tc.typ, n, tc.want)
		}
	}
	due, err := s.DueEvents(context.Background(), eventT0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range due {
		got = append(got, e.Subscription+":"+e.Type)
	}
	if diff := cmp.Diff([]string{"conn:DeviceConnected", "life:DeviceDeleted"}, got); diff != "" {
		t.Errorf("DueEvents (-want +got):\n%s", diff)
	}
}

func TestEventAttemptsBackOffDeliverAndTrim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	s := mustOpenPath(t, path)
	ctx := context.Background()
	mustPutSubscription(t, s, "a", "DeviceConnected")
	mustPutSubscription(t, s, "b", "DeviceConnected")
	for _, id := range []string{"e1", "e2", "e3"} {
		mustEnqueueEvent(t, s, id, "DeviceConnected")
	}
	due, err := s.DueEvents(ctx, eventT0, 2)
	if err != nil || len(due) != 4 {
		t.Fatalf("DueEvents(perSubscription 2) = %d events, %v; want 2 of each subscription", len(due), err)
	}
	var a []OutboxEvent
	for _, e := range due {
		if e.Subscription == "a" {
			a = append(a, e)
		}
	}
	if a[0].EventID != "e1" || a[1].EventID != "e2" || string(a[0].Data) != `{"deviceId":"d1"}` || !a[0].Time.Equal(eventT0) {
		t.Fatalf("due events of a = %+v", a)
	}
	// a fails: e1 and e2 wait until next; e1 is given up on.
	next := eventT0.Add(2 * time.Second)
	if err := s.RecordEventAttempt(ctx, EventAttempt{Subscription: "a", Time: eventT0, Attempt: 1, EventIDs: []string{"e1", "e2"},
		StatusCode: 503, Error: "HTTP 503", Latency: 5 * time.Millisecond, Outcome: "retry",
		Retry: []int64{a[1].Seq}, Dead: []int64{a[0].Seq}, Failures: 1, NextAttempt: next}); err != nil {
		t.Fatal(err)
	}
	sub, _ := s.EventSubscription(ctx, "a")
	if sub.Failures != 1 || !sub.NextAttempt.Equal(next) || sub.Pending != 2 || sub.Dead != 1 {
		t.Errorf("after a failure: %+v", sub)
	}
	due, _ = s.DueEvents(ctx, next.Add(-time.Nanosecond), 10)
	for _, e := range due {
		if e.Subscription == "a" {
			t.Errorf("a's event %s is due while a backs off", e.EventID)
		}
	}
	due, _ = s.DueEvents(ctx, next, 10)
	a = a[:0]
	for _, e := range due {
		if e.Subscription == "a" {
			a = append(a, e)
		}
	}
	if len(due) != 5 || len(a) != 2 || a[0].EventID != "e2" || a[0].Attempts != 1 || a[1].EventID != "e3" {
		t.Fatalf("DueEvents at next = %+v", due)
	}
	// Reopen: the outbox and the back-off survive.
	mustClose(t, s)
	s = mustOpenPath(t, path)
	if err := s.RecordEventAttempt(ctx, EventAttempt{Subscription: "a", Time: next, Attempt: 2, EventIDs: []string{"e2", "e3"},
		StatusCode: 200, Outcome: "delivered", Delivered: []int64{a[0].Seq, a[1].Seq}}); err != nil {
		t.Fatal(err)
	}
	sub, _ = s.EventSubscription(ctx, "a")
	if sub.Failures != 0 || !sub.NextAttempt.IsZero() || sub.Pending != 0 || sub.Dead != 1 {
		t.Errorf("after a success: %+v", sub)
	}
	ds, err := s.EventDeliveries(ctx, "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []EventDelivery{
		{ID: 2, Subscription: "a", Time: next, Attempt: 2, EventIDs: []string{"e2", "e3"}, StatusCode: 200, Outcome: "delivered"},
		{ID: 1, Subscription: "a", Time: eventT0, Attempt: 1, EventIDs: []string{"e1", "e2"}, StatusCode: 503, Error: "HTTP 503",
			Latency: 5 * time.Millisecond, Outcome: "retry", NextAttempt: next},
	}
	if diff := cmp.Diff(want, ds); diff != "" {
		t.Errorf("EventDeliveries (-want +got):\n%s", diff)
	}
	if ds, _ := s.EventDeliveries(ctx, "", 1); len(ds) != 1 || ds[0].ID != 2 {
		t.Errorf("EventDeliveries(all, 1) = %+v", ds)
	}
	if ds, _ := s.EventDeliveries(ctx, "b", 10); len(ds) != 0 {
		t.Errorf("EventDeliveries(b) = %+v", ds)
	}
	n, err := s.TrimEvents(ctx, next.Add(time.Second))
	if err != nil || n != 5 { // e1 dead, e2 and e3 delivered, two attempts
		t.Errorf("TrimEvents = %d, %v; want 5", n, err)
	}
	if due, _ := s.DueEvents(ctx, next, 10); len(due) != 3 {
		t.Errorf("after trimming, b still has %d due events, want 3", len(due))
	}
	// Deleting a subscription drops its waiting events.
	if err := s.DeleteEventSubscription(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueEvents(ctx, next, 10); len(due) != 0 {
		t.Errorf("after deleting b, %d events are due", len(due))
	}
}
