package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/events"
	"github.com/tether-iot/tether/internal/store"
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

var _ api.EventSubscriptions = (*events.Events)(nil)

// eventsHub is the service API with real lifecycle events over their
// own store.
type eventsHub struct {
	*streamHub
	ev *events.Events
}

func mustStartEventsHub(t *testing.T) *eventsHub {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ev, err := events.New(events.Options{Store: eventStore{st}, HubName: "hub"})
	if err != nil {
		t.Fatal(err)
	}
	return &eventsHub{streamHub: mustStartStreamHub(t, func(o *api.Options) { o.Events = ev }), ev: ev}
}

// v1 sends a request to one of Tether's own routes, without api-version.
func (h *eventsHub) v1(t *testing.T, method, path, tok, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", tok)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type = %q", method, path, ct)
	}
	if len(b) > 0 && b[0] == '[' {
		json.Unmarshal(b, &r.list)
	} else if len(b) > 0 {
		json.Unmarshal(b, &r.body)
	}
	return r
}

func TestEventSubscriptionRoutes(t *testing.T) {
	h := mustStartEventsHub(t)
	r := h.v1(t, "PUT", "/v1/eventSubscriptions/ops", h.owner, `{"url":"https://example.test/hook","types":["DeviceConnected","DeviceDisconnected"]}`)
	mustStatus(t, r, http.StatusCreated)
	if s, _ := r.body["secret"].(string); len(s) != 43 {
		t.Errorf("create answer %s: want the generated secret", r.raw)
	}
	if r.body["name"] != "ops" || r.body["schema"] != "eventgrid" || r.body["url"] != "https://example.test/hook" {
		t.Errorf("create answer = %s", r.raw)
	}
	r = h.v1(t, "PUT", "/v1/eventSubscriptions/ops?api-version=2021-04-12", h.owner, `{"name":"ops","url":"http://example.test/v2","schema":"cloudevents"}`)
	mustStatus(t, r, http.StatusOK)
	if _, ok := r.body["secret"]; ok || r.body["schema"] != "cloudevents" || len(r.body["types"].([]any)) != 4 {
		t.Errorf("replace answer = %s; want no secret, cloudevents, all four types", r.raw)
	}
	r = h.v1(t, "GET", "/v1/eventSubscriptions/ops", h.owner, "")
	mustStatus(t, r, http.StatusOK)
	if _, ok := r.body["secret"]; ok || r.body["url"] != "http://example.test/v2" || r.body["pendingCount"] != 0.0 {
		t.Errorf("GET = %s", r.raw)
	}
	h.v1(t, "PUT", "/v1/eventSubscriptions/audit", h.owner, `{"url":"http://example.test/a","types":["DeviceCreated"],"secret":"0123456789abcdef"}`)
	r = h.v1(t, "GET", "/v1/eventSubscriptions", h.owner, "")
	mustStatus(t, r, http.StatusOK)
	if len(r.list) != 2 || r.list[0].(map[string]any)["name"] != "audit" {
		t.Errorf("list = %s", r.raw)
	}
	mustStatus(t, h.v1(t, "DELETE", "/v1/eventSubscriptions/ops", h.owner, ""), http.StatusNoContent)
	r = h.v1(t, "GET", "/v1/eventSubscriptions/ops", h.owner, "")
	mustStatus(t, r, http.StatusNotFound)
	if !strings.Contains(r.raw, "No event subscription named 'ops'") {
		t.Errorf("GET after delete = %s", r.raw)
	}
	mustStatus(t, h.v1(t, "DELETE", "/v1/eventSubscriptions/ops", h.owner, ""), http.StatusNotFound)
}

func TestEventSubscriptionRoutesRefuse(t *testing.T) {
	h := mustStartEventsHub(t)
	reader := h.tok("registryRead")
	for _, tc := range []struct {
		name, method, path, tok, body string
		status                        int
		want                          string
	}{
		{"no token", "GET", "/v1/eventSubscriptions", "", "", 401, "Authorization header missing"},
		{"no ServiceConnect", "GET", "/v1/eventSubscriptions", reader, "", 401, "ServiceConnect"},
		{"unknown field", "PUT", "/v1/eventSubscriptions/s", h.owner, `{"endpoint":"http://h/x"}`, 400, `unknown field \"endpoint\"`},
		{"empty body", "PUT", "/v1/eventSubscriptions/s", h.owner, ``, 400, "body is empty"},
		{"name mismatch", "PUT", "/v1/eventSubscriptions/s", h.owner, `{"name":"t","url":"http://h/x"}`, 400, "does not match"},
		{"bad name", "PUT", "/v1/eventSubscriptions/a%20b", h.owner, `{"url":"http://h/x"}`, 400, "subscription name"},
		{"bad url", "PUT", "/v1/eventSubscriptions/s", h.owner, `{"url":"mqtt://h/x"}`, 400, "http:// or https://"},
		{"bad type", "PUT", "/v1/eventSubscriptions/s", h.owner, `{"url":"http://h/x","types":["DeviceBorn"]}`, 400, "not known"},
		{"bad schema", "PUT", "/v1/eventSubscriptions/s", h.owner, `{"url":"http://h/x","schema":"avro"}`, 400, "eventgrid or cloudevents"},
		{"types not a list", "PUT", "/v1/eventSubscriptions/s", h.owner, `{"url":"http://h/x","types":"DeviceCreated"}`, 400, "an array"},
		{"bad limit", "GET", "/v1/eventDeliveries?limit=x", h.owner, "", 400, "positive whole number"},
		{"big limit", "GET", "/v1/eventDeliveries?limit=5000", h.owner, "", 400, "1 to 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.v1(t, tc.method, tc.path, tc.tok, tc.body)
			mustStatus(t, r, tc.status)
			if !strings.Contains(r.raw, tc.want) {
				t.Errorf("%s %s = %s, want it to say %q", tc.method, tc.path, r.raw, tc.want)
			}
		})
	}
}

func TestEventRoutesWithoutEvents(t *testing.T) {
	h := mustStartStreamHub(t)
	req, _ := http.NewRequest("GET", h.url+"/v1/eventSubscriptions", nil)
	req.Header.Set("Authorization", h.owner)
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /v1/eventSubscriptions without Events = %d, want 503", resp.StatusCode)
	}
}

func TestEventDeliveriesRoute(t *testing.T) {
	h := mustStartEventsHub(t)
	hits := make(chan struct{}, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- struct{}{}
	}))
	t.Cleanup(recv.Close)
	mustStatus(t, h.v1(t, "PUT", "/v1/eventSubscriptions/s", h.owner, `{"url":"`+recv.URL+`"}`), http.StatusCreated)
	mustStatus(t, h.v1(t, "PUT", "/v1/eventSubscriptions/other", h.owner, `{"url":"`+recv.URL+`","types":["DeviceDeleted"]}`), http.StatusCreated)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.ev.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := h.ev.Publish(events.DeviceEvent{Type: events.DeviceCreated, DeviceID: "d1", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	<-hits
	var r response
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r = h.v1(t, "GET", "/v1/eventDeliveries?subscription=s&limit=5", h.owner, ""); len(r.list) > 0 {
			break
		}
	}
	mustStatus(t, r, http.StatusOK)
	if len(r.list) != 1 {
		t.Fatalf("deliveries = %s, want one", r.raw)
	}
	d := r.list[0].(map[string]any)
	if d["subscription"] != "s" || d["outcome"] != "delivered" || d["statusCode"] != 200.0 || d["attempt"] != 1.0 || len(d["eventIds"].([]any)) != 1 {
		t.Errorf("delivery = %v", d)
	}
	if r = h.v1(t, "GET", "/v1/eventDeliveries?subscription=other", h.owner, ""); r.raw != "[]\n" {
		t.Errorf("deliveries of a subscription that got nothing = %q, want []", r.raw)
	}
}
