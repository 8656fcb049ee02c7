package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/sas"
)

// streamHub is the service API over a real store, with in-memory fakes
// for the cloud-to-device queue and the telemetry stream, which live in
// components this package does not import.
type streamHub struct {
	url   string
	http  *http.Client // HTTP/2 over TLS, as Go clients speak to the hub
	http1 *http.Client // HTTP/1.1 over TLS, as curl may
	now   time.Time
	queue *fakeQueue
	tel   *fakeTelemetry
	owner string // iothubowner token
	tok   func(policy string) string
}

// mustStartStreamHub serves the API over HTTPS; opts adjust its Options.
func mustStartStreamHub(t *testing.T, opts ...func(*api.Options)) *streamHub {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys := map[string]tether.Secret{}
	for _, p := range tether.DefaultPolicies() {
		if p.PrimaryKey, err = sas.GenerateKey(nil); err != nil {
			t.Fatal(err)
		}
		keys[p.Name] = p.PrimaryKey
		if err := st.PutPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	h := &streamHub{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), queue: &fakeQueue{}, tel: newFakeTelemetry()}
	o := api.Options{Hostname: "hub.test", Devices: st, Twins: st, Stats: st, Policy: st.Policy,
		C2D: h.queue, Telemetry: h.tel, Now: func() time.Time { return h.now }}
	for _, f := range opts {
		f(&o)
	}
	a, err := api.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h.url, h.http = srv.URL, srv.Client()
	tr := &http.Transport{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()}
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	h.http1 = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	h.tok = func(policy string) string {
		return token(t, sas.ConnectionString{HostName: "hub.test", KeyName: policy, Key: keys[policy]}, h.now.Add(time.Hour))
	}
	h.owner = h.tok("iothubowner")
	for _, id := range []string{"d1", "d2"} {
		mustStatus(t, h.call(t, "PUT", "/devices/"+id, h.owner, nil, `{}`), 200)
	}
	return h
}

// call sends one request with headers hdr and returns the answer, its
// body decoded when it is JSON.
func (h *streamHub) call(t *testing.T, method, path, tok string, hdr http.Header, body string) response {
	t.Helper()
	resp := h.open(t, method, path, tok, hdr, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(b) > 0 {
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Errorf("%s %s: body is not JSON: %q", method, path, b)
		}
	}
	return r
}

// open sends one request and returns the response, its body unread.
func (h *streamHub) open(t *testing.T, method, path, tok string, hdr http.Header, body string) *http.Response {
	t.Helper()
	return h.openWith(t, h.http, method, path, tok, hdr, body)
}

func (h *streamHub) openWith(t *testing.T, c *http.Client, method, path, tok string, hdr http.Header, body string) *http.Response {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(method, h.url+path+sep+"api-version=2021-04-12", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if tok != "" {
		req.Header.Set("Authorization", tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func mustCode(t *testing.T, r response, status int, code string) {
	t.Helper()
	mustStatus(t, r, status)
	if got := r.errorCode(t); got != code {
		t.Errorf("error = %s (%s), want %s", got, r.raw, code)
	}
}

// fakeQueue is a cloud-to-device queue in a map, with Azure's depth limit.
type fakeQueue struct {
	mu   sync.Mutex
	seq  int64
	msgs map[string][]tether.C2DMessage
}

func (q *fakeQueue) SendC2D(_ context.Context, m tether.C2DMessage) (tether.C2DMessage, int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs[m.DeviceID]) >= tether.MaxC2DPending {
		return m, 0, tether.Errorf(tether.DeviceMaximumQueueDepthExceeded, "device %s already has %d messages waiting", m.DeviceID, tether.MaxC2DPending)
	}
	if q.msgs == nil {
		q.msgs = map[string][]tether.C2DMessage{}
	}
	q.seq++
	m.Seq = q.seq
	q.msgs[m.DeviceID] = append(q.msgs[m.DeviceID], m)
	return m, len(q.msgs[m.DeviceID]), nil
}

func (q *fakeQueue) PurgeC2D(_ context.Context, id string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.msgs[id])
	delete(q.msgs, id)
	return n, nil
}

func (q *fakeQueue) last(t *testing.T, id string) tether.C2DMessage {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	ms := q.msgs[id]
	if len(ms) == 0 {
		t.Fatalf("no message queued for %s", id)
	}
	return ms[len(ms)-1]
}

var _ api.C2DQueue = (*fakeQueue)(nil)

func TestC2DSendHeaders(t *testing.T) {
	h := mustStartStreamHub(t)
	body := []byte{0, 1, 2, 0xff, 'x'}
	hdr := http.Header{
		"Iothub-Messageid":     {"m-1"},
		"Iothub-Correlationid": {"c-1"},
		"Iothub-Userid":        {"ops"},
		"Iothub-Ttl":           {"90"},
		"Iothub-Ack":           {"Full"},
		"Content-Type":         {"application/octet-stream"},
		"Content-Encoding":     {"binary"},
		"Iothub-App-Priority":  {"high"},
		"iothub-app-Mixed":     {"Case Value"},
	}
	r := h.call(t, "POST", "/devices/d1/messages/deviceBound", h.owner, hdr, string(body))
	mustStatus(t, r, http.StatusAccepted)
	want := map[string]any{"messageId": "m-1", "deviceId": "d1", "enqueuedTime": "2026-03-04T05:06:07Z",
		"expiryTime": "2026-03-04T05:07:37Z", "pendingCount": 1.0}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("answer %s = %v, want %v (%s)", k, r.body[k], v, r.raw)
		}
	}
	m := h.queue.last(t, "d1")
	if m.MessageID != "m-1" || m.CorrelationID != "c-1" || m.UserID != "ops" || m.Ack != "full" ||
		m.ContentType != "application/octet-stream" || m.ContentEncoding != "binary" || !bytes.Equal(m.Body, body) ||
		!m.ExpiryTime.Equal(h.now.Add(90*time.Second)) || !m.EnqueuedTime.Equal(h.now) {
		t.Errorf("queued %+v", m)
	}
	if len(m.Properties) != 2 || m.Properties["priority"] != "high" || m.Properties["mixed"] != "Case Value" {
		t.Errorf("application properties = %v, want priority=high and mixed=Case Value (names lower-cased)", m.Properties)
	}

	// An absolute expiry; the lower-case route of newer hubs.
	r = h.call(t, "POST", "/devices/d1/messages/devicebound", h.owner, http.Header{"Iothub-Expiry": {"2026-03-05T05:06:07Z"}}, "hi")
	mustStatus(t, r, http.StatusAccepted)
	if m := h.queue.last(t, "d1"); !m.ExpiryTime.Equal(h.now.Add(24*time.Hour)) || r.body["pendingCount"] != 2.0 {
		t.Errorf("iothub-expiry: expiry %v, pending %v", m.ExpiryTime, r.body["pendingCount"])
	}

	// No headers: a generated ID, the default time to live, no ack.
	r = h.call(t, "POST", "/devices/d2/messages/deviceBound", h.tok("service"), nil, "")
	mustStatus(t, r, http.StatusAccepted)
	m = h.queue.last(t, "d2")
	if len(m.MessageID) != 36 || m.MessageID != r.body["messageId"] || m.Ack != "" || len(m.Body) != 0 || m.Properties != nil ||
		!m.ExpiryTime.Equal(h.now.Add(tether.DefaultC2DTTL)) {
		t.Errorf("defaults: queued %+v, answer %s", m, r.raw)
	}
}

func TestC2DSendErrors(t *testing.T) {
	h := mustStartStreamHub(t)
	long := strings.Repeat("x", 129)
	for _, tc := range []struct {
		name   string
		id     string
		hdr    http.Header
		body   string
		status int
		code   string
		detail string
	}{
		{"too large", "d1", nil, strings.Repeat("x", tether.MaxC2DBytes+1), 413, "MessageTooLarge", "65536"},
		{"largest allowed", "d1", nil, strings.Repeat("x", tether.MaxC2DBytes), 202, "", ""},
		{"unknown device", "nope", nil, "x", 404, "DeviceNotFound", "nope"},
		{"bad device id", "a%20b", nil, "x", 400, "ArgumentInvalid", ""},
		{"ttl zero", "d1", http.Header{"Iothub-Ttl": {"0"}}, "x", 400, "ArgumentInvalid", "iothub-ttl"},
		{"ttl over two days", "d1", http.Header{"Iothub-Ttl": {"172801"}}, "x", 400, "ArgumentInvalid", "172800"},
		{"ttl two days", "d1", http.Header{"Iothub-Ttl": {"172800"}}, "x", 202, "", ""},
		{"ttl not a number", "d1", http.Header{"Iothub-Ttl": {"1h"}}, "x", 400, "ArgumentInvalid", "whole number"},
		{"ttl and expiry", "d1", http.Header{"Iothub-Ttl": {"5"}, "Iothub-Expiry": {"2026-03-04T06:00:00Z"}}, "x", 400, "ArgumentInvalid", "not both"},
		{"expiry past", "d1", http.Header{"Iothub-Expiry": {"2026-03-04T05:00:00Z"}}, "x", 400, "ArgumentInvalid", "not in the future"},
		{"expiry too far", "d1", http.Header{"Iothub-Expiry": {"2026-03-07T00:00:00Z"}}, "x", 400, "ArgumentInvalid", "2 days"},
		{"expiry not RFC 3339", "d1", http.Header{"Iothub-Expiry": {"tomorrow"}}, "x", 400, "ArgumentInvalid", "RFC 3339"},
		{"bad ack", "d1", http.Header{"Iothub-Ack": {"always"}}, "x", 400, "ArgumentInvalid", "none, positive, negative or full"},
		{"message id too long", "d1", http.Header{"Iothub-Messageid": {long}}, "x", 400, "ArgumentInvalid", "iothub-messageid"},
		{"empty property name", "d1", http.Header{"Iothub-App-": {"v"}}, "x", 400, "ArgumentInvalid", "property name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.call(t, "POST", "/devices/"+tc.id+"/messages/deviceBound", h.owner, tc.hdr, tc.body)
			if tc.code == "" {
				mustStatus(t, r, tc.status)
				return
			}
			mustCode(t, r, tc.status, tc.code)
			if msg, _ := r.body["Message"].(string); !strings.Contains(msg, tc.detail) {
				t.Errorf("error %q does not mention %q", msg, tc.detail)
			}
		})
	}
}

func TestC2DQueueDepthAndPurge(t *testing.T) {
	h := mustStartStreamHub(t)
	send := func() response { return h.call(t, "POST", "/devices/d1/messages/deviceBound", h.owner, nil, "x") }
	for i := 1; i <= tether.MaxC2DPending; i++ {
		if r := send(); r.status != 202 || r.body["pendingCount"] != float64(i) {
			t.Fatalf("send %d: %d %s", i, r.status, r.raw)
		}
	}
	mustCode(t, send(), 403, "DeviceMaximumQueueDepthExceeded")

	r := h.call(t, "DELETE", "/devices/d1/commands", h.owner, nil, "")
	mustStatus(t, r, 200)
	if r.raw != `{"totalMessagesPurged":50,"deviceId":"d1","moduleId":null}`+"\n" {
		t.Errorf("purge answered %s, want Azure's {totalMessagesPurged, deviceId, moduleId}", r.raw)
	}
	if r := send(); r.status != 202 || r.body["pendingCount"] != 1.0 {
		t.Errorf("send after purge: %d %s", r.status, r.raw)
	}
	r = h.call(t, "DELETE", "/devices/d2/commands", h.owner, nil, "")
	if mustStatus(t, r, 200); r.body["totalMessagesPurged"] != 0.0 {
		t.Errorf("purge of an empty queue: %s", r.raw)
	}
	mustCode(t, h.call(t, "DELETE", "/devices/nope/commands", h.owner, nil, ""), 404, "DeviceNotFound")
}

func TestStreamRoutesRights(t *testing.T) {
	h := mustStartStreamHub(t)
	reader := h.tok("registryRead")
	for _, tc := range []struct{ method, path string }{
		{"POST", "/devices/d1/messages/deviceBound"},
		{"DELETE", "/devices/d1/commands"},
		{"GET", "/telemetry?wait=0"},
	} {
		r := h.call(t, tc.method, tc.path, reader, nil, "")
		mustCode(t, r, 401, "IotHubUnauthorizedAccess")
		if !strings.Contains(r.raw, "ServiceConnect") {
			t.Errorf("%s %s with registryRead: %s does not name ServiceConnect", tc.method, tc.path, r.raw)
		}
		mustCode(t, h.call(t, tc.method, tc.path, "", nil, ""), 401, "IotHubUnauthorizedAccess")
		if r := h.call(t, tc.method, tc.path, h.tok("service"), nil, ""); r.status >= 300 {
			t.Errorf("%s %s with the service policy: %d %s", tc.method, tc.path, r.status, r.raw)
		}
	}
}

func TestStreamRoutesNotConfigured(t *testing.T) {
	h := mustStartStreamHub(t, func(o *api.Options) { o.C2D, o.Telemetry = nil, nil })
	for _, tc := range []struct{ method, path, detail string }{
		{"POST", "/devices/d1/messages/deviceBound", "cloud-to-device"},
		{"DELETE", "/devices/d1/commands", "cloud-to-device"},
		{"GET", "/telemetry", "telemetry"},
	} {
		r := h.call(t, tc.method, tc.path, h.owner, nil, "")
		mustCode(t, r, 503, "ServiceUnavailable")
		if !strings.Contains(r.raw, tc.detail) || !strings.Contains(r.raw, "not configured") {
			t.Errorf("%s %s: %s", tc.method, tc.path, r.raw)
		}
	}
}
