package events

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestPutSubscriptionRefusesBadInput(t *testing.T) {
	f := mustNewEvents(t)
	ok := wire.EventSubscription{Name: "s", URL: "https://example.test/hook"}
	for _, tc := range []struct {
		name string
		edit func(*wire.EventSubscription)
		want string
	}{
		{"no name", func(s *wire.EventSubscription) { s.Name = "" }, "subscription name"},
		{"bad name", func(s *wire.EventSubscription) { s.Name = "a/b" }, "letters, digits"},
		{"long name", func(s *wire.EventSubscription) { s.Name = strings.Repeat("a", 65) }, "1 to 64"},
		{"no url", func(s *wire.EventSubscription) { s.URL = "" }, "url is required"},
		{"relative url", func(s *wire.EventSubscription) { s.URL = "/hook" }, "absolute http:// or https://"},
		{"ftp url", func(s *wire.EventSubscription) { s.URL = "ftp://example.test/x" }, "absolute http:// or https://"},
		{"no host", func(s *wire.EventSubscription) { s.URL = "http:///x" }, "no host"},
		{"fragment", func(s *wire.EventSubscription) { s.URL = "http://h/x#y" }, "fragment"},
		{"unparsable url", func(s *wire.EventSubscription) { s.URL = "http://[::1" }, "not a valid URL"},
		{"long url", func(s *wire.EventSubscription) { s.URL = "http://h/" + strings.Repeat("x", MaxURLLength) }, "limit is 2048"},
		{"unknown type", func(s *wire.EventSubscription) { s.Types = []string{"DeviceConnected", "Connected"} }, `"Connected" is not known`},
		{"telemetry", func(s *wire.EventSubscription) { s.Types = []string{"DeviceTelemetry"} }, "GET /telemetry"},
		{"schema", func(s *wire.EventSubscription) { s.Schema = "xml" }, "use eventgrid or cloudevents"},
		{"short secret", func(s *wire.EventSubscription) { s.Secret = "short" }, "5 characters long; use 16 to 256"},
		{"control secret", func(s *wire.EventSubscription) { s.Secret = "0123456789abcdef\n" }, "control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, _, err := f.ev.PutSubscription(context.Background(), in)
			if tether.ErrorCode(err) != tether.ArgumentInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PutSubscription(%+v) = %v, want ArgumentInvalid containing %q", in, err, tc.want)
			}
		})
	}
	if subs, _ := f.ev.Subscriptions(context.Background()); len(subs) != 0 {
		t.Errorf("refused input stored %v", subs)
	}
}

func TestSecretIsShownOnceAndKept(t *testing.T) {
	f := mustNewEvents(t)
	ctx := context.Background()
	created, isNew, err := f.ev.PutSubscription(ctx, wire.EventSubscription{Name: "s", URL: "http://h/x",
		Types: []string{"DeviceDeleted", "DeviceConnected", "deviceconnected"}, Schema: "EventGridSchema"})
	if err != nil || !isNew {
		t.Fatalf("PutSubscription = %v, created %v", err, isNew)
	}
	if len(created.Secret) != 43 {
		t.Errorf("generated secret %q, want 43 characters (256 bits, base64url)", created.Secret)
	}
	want := wire.EventSubscription{Name: "s", URL: "http://h/x", Types: []string{"DeviceConnected", "DeviceDeleted"},
		Schema: "eventgrid", Secret: created.Secret, CreatedTime: wire.Time(t0), UpdatedTime: wire.Time(t0)}
	sameTime := cmp.Comparer(func(a, b wire.Time) bool { return a.Std().Equal(b.Std()) })
	if diff := cmp.Diff(want, created, sameTime); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	got, err := f.ev.Subscription(ctx, "s")
	if err != nil || got.Secret != "" {
		t.Errorf("Subscription() = %+v, %v; want no secret", got, err)
	}
	// A replace without a secret keeps it and does not show it; all types
	// when none are given.
	f.clock.Set(t0.Add(time.Minute))
	replaced, isNew, err := f.ev.PutSubscription(ctx, wire.EventSubscription{Name: "s", URL: "https://h/y", Schema: "cloudevents"})
	if err != nil || isNew || replaced.Secret != "" || replaced.Schema != "cloudevents" ||
		len(replaced.Types) != 4 || !replaced.CreatedTime.Std().Equal(t0) || !replaced.UpdatedTime.Std().Equal(t0.Add(time.Minute)) {
		t.Errorf("replace = %+v, created %v, %v", replaced, isNew, err)
	}
	r := mustStartReceiver(t)
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: r.URL})
	f.mustPublish(t, connected("d1", 1, t0))
	f.mustDeliver(t, t0)
	if got := r.requests(); len(got) != 1 || !Verify(created.Secret, got[0].body, got[0].header.Get(SignatureHeader)) {
		t.Errorf("after two replaces the generated secret does not sign deliveries")
	}
	// A given secret is used and not echoed.
	given, _, err := f.ev.PutSubscription(ctx, wire.EventSubscription{Name: "g", URL: "http://h/z", Secret: "my-secret-of-16+"})
	if err != nil || given.Secret != "" {
		t.Errorf("PutSubscription with a secret = %+v, %v; want it not echoed", given, err)
	}
}

func TestManagementErrors(t *testing.T) {
	f := mustNewEvents(t)
	ctx := context.Background()
	if _, err := f.ev.Subscription(ctx, "nope"); tether.ErrorKind(err) != tether.KindNotFound || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Subscription(nope) = %v, want not found", err)
	}
	if err := f.ev.DeleteSubscription(ctx, "nope"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("DeleteSubscription(nope) = %v, want not found", err)
	}
	for _, limit := range []int{-1, MaxDeliveries + 1} {
		if _, err := f.ev.Deliveries(ctx, "", limit); tether.ErrorCode(err) != tether.ArgumentInvalid {
			t.Errorf("Deliveries(limit %d) = %v, want ArgumentInvalid", limit, err)
		}
	}
	if ds, err := f.ev.Deliveries(ctx, "nope", 0); err != nil || ds == nil || len(ds) != 0 {
		t.Errorf("Deliveries(nope) = %#v, %v; want an empty list", ds, err)
	}
	if _, err := New(Options{HubName: "h"}); err == nil {
		t.Error("New without a Store succeeded")
	}
	if _, err := New(Options{Store: storeAdapter{f.st}}); err == nil {
		t.Error("New without a HubName succeeded")
	}
}
