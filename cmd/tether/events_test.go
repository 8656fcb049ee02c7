package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/events"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/sas"
)

// eventStore is the SQLite store as the events' Store, as the server
// adapts it.
type eventStore struct{ *store.Store }

func (s eventStore) PutEventSubscription(ctx context.Context, sub events.Subscription, replace bool) (events.Subscription, bool, error) {
	out, created, err := s.Store.PutEventSubscription(ctx, store.EventSubscription(sub), replace)
	return events.Subscription(out), created, err
}

func (s eventStore) EventSubscription(ctx context.Context, name string) (events.Subscription, error) {
	out, err := s.Store.EventSubscription(ctx, name)
	return events.Subscription(out), err
}

func (s eventStore) EventSubscriptions(ctx context.Context) ([]events.Subscription, error) {
	subs, err := s.Store.EventSubscriptions(ctx)
	out := make([]events.Subscription, len(subs))
	for i, sub := range subs {
		out[i] = events.Subscription(sub)
	}
	return out, err
}

func (s eventStore) EnqueueEvent(ctx context.Context, e events.Pending) (int, error) {
	return s.Store.EnqueueEvent(ctx, store.OutboxEvent(e))
}

func (s eventStore) DueEvents(ctx context.Context, now time.Time, n int) ([]events.Pending, error) {
	es, err := s.Store.DueEvents(ctx, now, n)
	out := make([]events.Pending, len(es))
	for i, e := range es {
		out[i] = events.Pending(e)
	}
	return out, err
}

func (s eventStore) RecordEventAttempt(ctx context.Context, a events.Attempt) error {
	return s.Store.RecordEventAttempt(ctx, store.EventAttempt(a))
}

func (s eventStore) EventDeliveries(ctx context.Context, sub string, limit int) ([]events.Delivery, error) {
	ds, err := s.Store.EventDeliveries(ctx, sub, limit)
	out := make([]events.Delivery, len(ds))
	for i, d := range ds {
		out[i] = events.Delivery(d)
	}
	return out, err
}

// eventsHub is the service API with lifecycle events over a real store,
// which the server does not wire yet. args connect the CLI to it.
type eventsHub struct {
	args []string
	ev   *events.Events
}

func mustStartEventsHub(t *testing.T) *eventsHub {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _ := sas.GenerateKey(nil)
	if err := st.PutPolicy(ctx, tether.Policy{Name: "iothubowner", PrimaryKey: key, SecondaryKey: key, Rights: tether.AllRights}); err != nil {
		t.Fatal(err)
	}
	ev, err := events.New(events.Options{Store: eventStore{st}, HubName: "hub"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Hostname: "hub.test", Devices: st, Twins: st, Stats: st, Policy: st.Policy, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	cs := sas.ConnectionString{HostName: "hub.test", KeyName: "iothubowner", Key: key}
	return &eventsHub{args: []string{"--connection-string", cs.String(), "--api-url", srv.URL, "--data", t.TempDir()}, ev: ev}
}

func TestEventsCommands(t *testing.T) {
	h := mustStartEventsHub(t)
	hits := make(chan struct{}, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		hits <- struct{}{}
	}))
	t.Cleanup(recv.Close)

	out := mustRun(t, append(h.args, "events", "subscribe", "--name", "ops", "--url", recv.URL, "--types", "DeviceConnected,DeviceDisconnected")...)
	if !strings.HasPrefix(out, "created event subscription ops: DeviceConnected, DeviceDisconnected to "+recv.URL+" (eventgrid schema)\nsecret: ") ||
		!strings.Contains(out, "does not show it again") {
		t.Errorf("subscribe printed:\n%s", out)
	}
	out = mustRun(t, append(h.args, "events", "subscribe", "--name", "ops", "--url", recv.URL, "--schema", "cloudevents")...)
	if out != "updated event subscription ops: DeviceConnected, DeviceDisconnected, DeviceCreated, DeviceDeleted to "+recv.URL+" (cloudevents schema)\n" {
		t.Errorf("subscribe again printed %q", out)
	}
	raw := mustRun(t, append(h.args, "-o", "json", "events", "subscribe", "--url", "https://example.test/x", "--types", "DeviceCreated", "--secret", "0123456789abcdef")...)
	var made struct{ Name, Secret string }
	if err := json.Unmarshal([]byte(raw), &made); err != nil || !strings.HasPrefix(made.Name, "sub-") || made.Secret != "" {
		t.Errorf("subscribe -o json with --secret = %s (%v); want a generated name and no secret shown", raw, err)
	}

	list := mustRun(t, append(h.args, "events", "list")...)
	for _, want := range []string{"NAME", "ops", "cloudevents", made.Name, "https://example.test/x", "DeviceCreated", " ok"} {
		if !strings.Contains(list, want) {
			t.Errorf("events list does not show %q:\n%s", want, list)
		}
	}

	// A failed delivery shows in deliveries and list.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.ev.Run(ctx) }()
	if err := h.ev.Publish(events.DeviceEvent{Type: events.DeviceConnected, DeviceID: "d1", Time: time.Now(), Sequence: strings.Repeat("0", 63) + "1"}); err != nil {
		t.Fatal(err)
	}
	<-hits
	var dl string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if dl = mustRun(t, append(h.args, "events", "deliveries", "--subscription", "ops", "--limit", "5")...); strings.Contains(dl, "retry") {
			break
		}
	}
	cancel()
	<-done
	for _, want := range []string{"TIME", "SUBSCRIPTION", "ops", "503", "retry", "next attempt", "HTTP 503"} {
		if !strings.Contains(dl, want) {
			t.Errorf("events deliveries does not show %q:\n%s", want, dl)
		}
	}
	raw = mustRun(t, append(h.args, "-o", "json", "events", "deliveries")...)
	var ds []struct {
		Subscription string
		StatusCode   int
		Outcome      string
	}
	if err := json.Unmarshal([]byte(raw), &ds); err != nil || len(ds) != 1 || ds[0].StatusCode != 503 || ds[0].Outcome != "retry" {
		t.Errorf("events deliveries -o json = %s (%v)", raw, err)
	}
	if list := mustRun(t, append(h.args, "events", "list")...); !strings.Contains(list, "backing off after 1 failure,") {
		t.Errorf("events list after a failure:\n%s", list)
	}

	if out := mustRun(t, append(h.args, "events", "delete", "ops")...); out != "deleted event subscription ops\n" {
		t.Errorf("delete printed %q", out)
	}
	if _, err := run(t, append(h.args, "events", "delete", "ops")...); tether.ErrorKind(err) != tether.KindNotFound || !strings.Contains(err.Error(), "ops") {
		t.Errorf("second delete = %v, want not found", err)
	}
}

func TestEventsErrors(t *testing.T) {
	h := mustStartEventsHub(t)
	for _, tc := range []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"subscribe"}, "needs --url", true},
		{[]string{"subscribe", "extra", "--url", "http://h/x"}, "unknown command", false},
		{[]string{"subscribe", "--url", "ftp://h/x"}, "http:// or https://", false},
		{[]string{"subscribe", "--url", "http://h/x", "--types", "DeviceConnected,Nope"}, `"Nope" is not known`, false},
		{[]string{"subscribe", "--url", "http://h/x", "--schema", "xml"}, "eventgrid or cloudevents", false},
		{[]string{"subscribe", "--url", "http://h/x", "--secret", "short"}, "use 16 to 256", false},
		{[]string{"subscribe", "--url", "http://h/x", "--name", "a/b"}, "subscription name", false},
		{[]string{"delete"}, "needs a subscription name", true},
		{[]string{"deliveries", "--limit", "0"}, "use 1 to 1000", true},
		{[]string{"nope"}, "unknown command", true},
	} {
		_, err := run(t, append(append(h.args, "events"), tc.args...)...)
		var ue usageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ue) != tc.usage {
			t.Errorf("events %q = %v, want a (usage: %v) error containing %q", tc.args, err, tc.usage, tc.want)
		}
	}
}

// TestEventsOnRealHub subscribes on the full hub and receives the
// DeviceCreated event of a device created through the CLI.
func TestEventsOnRealHub(t *testing.T) {
	h := hubtest.Start(t)
	got := make(chan string, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer recv.Close()
	remote := []string{"--connection-string", h.Owner.String(), "--api-url", h.URL, "--ca", filepath.Join(h.Config.DataDir, "tls", "ca.pem"), "--data", t.TempDir()}
	out, err := run(t, append(remote, "events", "list")...)
	if err != nil || !strings.Contains(out, "NAME") {
		t.Fatalf("events list = %q, %v", out, err)
	}
	mustRun(t, append(remote, "events", "subscribe", "--name", "ops", "--url", recv.URL, "--types", "DeviceCreated,DeviceDeleted")...)
	mustRun(t, append(remote, "device", "create", "ev1")...)
	select {
	case body := <-got:
		if !strings.Contains(body, `"eventType":"Microsoft.Devices.DeviceCreated"`) || !strings.Contains(body, `"deviceId":"ev1"`) {
			t.Errorf("delivered %s, want a DeviceCreated event for ev1", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no DeviceCreated event delivered within 10s")
	}
}
