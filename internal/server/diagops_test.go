package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/gateway"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// diagHub is the diagnostics and the service API over a real store, as
// tether serve assembles them, without listeners or gateway.
type diagHub struct {
	st    *store.Store
	d     *diagnostics
	url   string
	token string
}

type fakeMethods struct{}

func (fakeMethods) InvokeMethod(_ context.Context, id string, call api.MethodCall) (api.MethodResult, error) {
	if id == "offline" {
		return api.MethodResult{}, tether.Errorf(tether.DeviceNotOnline, "device '%s' is not connected", id)
	}
	return api.MethodResult{Status: 201, Payload: json.RawMessage(`{"ok":true}`)}, nil
}

func newDiagHub(t *testing.T, dataDir string) *diagHub {
	t.Helper()
	cfg := testConfig(t)
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: storePath(cfg.DataDir)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := ensurePolicies(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	d, err := newDiagnostics(st, cfg, func() int { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.exporter.Close(time.Second) })
	ev, err := newEvents(st, "localhost", "", cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newAPI("localhost", st, ev, d.apiOptions(&api.Options{C2D: c2dQueue{st: st}, Events: ev, Methods: fakeMethods{}}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	cs, err := policyConnectionString(ctx, st, "localhost", "iothubowner")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &diagHub{st: st, d: d, url: srv.URL, token: tok.String()}
}

func (h *diagHub) call(t *testing.T, method, path, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", h.token)
	req.Header.Set("User-Agent", "diag-test/1.0")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// row is an AzureDiagnostics row as the tests read it.
type row struct {
	Category, Op, Level, Result string
	Duration                    *int64
	Props                       map[string]any
}

func (h *diagHub) rows(t *testing.T, category string) []row {
	t.Helper()
	h.d.rec.Flush(context.Background())
	rs, err := h.st.LogsDB().Query(`SELECT Category, OperationName, Level, ResultType, DurationMs, properties_s FROM AzureDiagnostics
		WHERE Category = ? ORDER BY TimeGenerated, rowid`, category)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		var props string
		if err := rs.Scan(&r.Category, &r.Op, &r.Level, &r.Result, &r.Duration, &props); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(props), &r.Props)
		out = append(out, r)
	}
	return out
}

func summary(rs []row) string {
	var parts []string
	for _, r := range rs {
		s := r.Op + ":" + r.Level
		if r.Result != "" {
			s += ":" + r.Result
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

const av = "?api-version=2021-04-12"

// TestServiceCallsAreLogged: registry, twin, method and C2D calls through
// the API become rows of their categories, refusals included.
func TestServiceCallsAreLogged(t *testing.T) {
	h := newDiagHub(t, "")
	if code, body := h.call(t, "PUT", "/devices/d1"+av, `{"deviceId":"d1"}`); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	h.call(t, "PUT", "/devices/d1"+av, `{"deviceId":"d1","status":"enabled"}`, "If-Match", "*")
	h.call(t, "GET", "/devices/d1"+av, "")
	h.call(t, "GET", "/devices/nope"+av, "")
	h.call(t, "GET", "/devices"+av, "")
	h.call(t, "DELETE", "/devices/nope"+av, "")
	req, _ := http.NewRequest("GET", h.url+"/devices/d1"+av, nil) // no token
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	rs := h.rows(t, "DeviceIdentityOperations")
	if got := summary(rs); got != "create:Information update:Information get:Information get:Error:404001 list:Information delete:Error:404001 get:Error:401002" {
		t.Errorf("identity rows: %s", got)
	}
	if p := rs[0].Props; p["deviceId"] != "d1" || p["statusCode"] != "200" || p["maskedIpAddress"] != "127.0.0.XXX" || p["sdkVersion"] != "diag-test/1.0" {
		t.Errorf("create properties %v", p)
	}
	if rs[0].Duration == nil || rs[4].Props["deviceId"] != nil || rs[6].Props["statusCode"] != "401" {
		t.Errorf("rows %+v", rs)
	}

	h.call(t, "GET", "/twins/d1"+av, "")
	patch := `{"properties":{"desired":{"x":1}}}`
	h.call(t, "PATCH", "/twins/d1"+av, patch)
	h.call(t, "PUT", "/twins/d1"+av, `{"tags":{"a":"b"}}`)
	h.call(t, "PATCH", "/twins/d1"+av, `{"properties":{"reported":{"x":1}}}`)
	rs = h.rows(t, "C2DTwinOperations")
	if got := summary(rs); got != "read:Information update:Information replace:Information update:Error:400004" {
		t.Errorf("twin rows: %s", got)
	}
	if p := rs[1].Props; p["messageSize"] != fmt.Sprint(len(patch)) || p["sdkVersion"] != "diag-test/1.0" || p["deviceId"] != "d1" {
		t.Errorf("twin update properties %v", p)
	}
	if rs[0].Props["messageSize"] == "0" {
		t.Error("a twin read has messageSize 0")
	}

	h.call(t, "POST", "/twins/d1/methods"+av, `{"methodName":"reboot","payload":{"delay":1}}`)
	h.call(t, "PUT", "/devices/offline"+av, `{}`)
	h.call(t, "POST", "/twins/offline/methods"+av, `{"methodName":"reboot"}`)
	rs = h.rows(t, "DirectMethods")
	if got := summary(rs); got != "send:Information send:Error:404103" {
		t.Errorf("method rows: %s", got)
	}
	if p := rs[0].Props; p["methodName"] != "reboot" || p["RequestSize"] != 11.0 || p["ResponseSize"] != 11.0 || p["statusCode"] != "201" {
		t.Errorf("method properties %v", p)
	}

	h.call(t, "POST", "/devices/d1/messages/deviceBound"+av, "hello", "iothub-messageid", "m-1", "iothub-ack", "full")
	h.call(t, "POST", "/devices/nope/messages/deviceBound"+av, "hello", "iothub-messageid", "m-2")
	rs = h.rows(t, "C2DCommands")
	if got := summary(rs); got != "send:Information send:Error:404001" {
		t.Errorf("C2D rows: %s", got)
	}
	if p := rs[0].Props; p["messageId"] != "m-1" || p["messageSizeInBytes"] != "5" || p["deliveryAcknowledgement"] != "Full" || p["ttl"] != 3600.0 {
		t.Errorf("C2D send properties %v", p)
	}
	if rs[1].Props["messageId"] != "m-2" {
		t.Errorf("refused C2D send properties %v", rs[1].Props)
	}

	var metrics strings.Builder
	rec := httptest.NewRecorder()
	h.d.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metrics.WriteString(rec.Body.String())
	for _, want := range []string{"tether_c2d_methods_success_total 1", "tether_c2d_methods_failure_total 1",
		"tether_c2d_twin_read_success_total 1", "tether_c2d_twin_update_success_total 2", "tether_c2d_twin_update_failure_total 1"} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestDeviceReportsAreLogged: the gateway's reports become
// D2CTwinOperations, C2DCommands and DeviceTelemetry rows; accepted
// telemetry is only counted.
func TestDeviceReportsAreLogged(t *testing.T) {
	h := newDiagHub(t, "")
	o := h.d.metrics
	now := time.Now()
	op := gateway.DeviceOp{DeviceID: "d1", Protocol: tether.ProtocolMQTT, AuthScope: "device", SDKVersion: "node/1", RemoteAddr: "10.0.0.7:5000", Time: now, Duration: 2 * time.Millisecond}
	o.DeviceTwin("read", gateway.DeviceOp{DeviceID: "d1", Protocol: tether.ProtocolMQTT, AuthScope: "device", Time: now, Bytes: 40})
	o.DeviceTwin("update", op)
	o.Telemetry(gateway.DeviceOp{DeviceID: "d1", Bytes: 10})
	throttled := op
	throttled.Code, throttled.Bytes = tether.ThrottlingException, 99
	o.Telemetry(throttled)
	m := tether.C2DMessage{DeviceID: "d1", Seq: 7, MessageID: "m-7", Body: []byte("abc"), DeliveryCount: 2, EnqueuedTime: now.Add(-time.Second), ExpiryTime: now.Add(time.Hour)}
	o.C2DDelivered(op, m)
	o.C2DCompleted(op, 7)
	o.C2DCompleted(op, 8) // never delivered through this hub: logged with what is known

	rs := h.rows(t, "D2CTwinOperations")
	if got := summary(rs); got != "read:Information update:Information" {
		t.Errorf("D2C twin rows: %s", got)
	}
	if p := rs[1].Props; p["protocol"] != "Mqtt" || p["sdkVersion"] != "node/1" || p["maskedIpAddress"] != "10.0.0.XXX" ||
		!strings.Contains(fmt.Sprint(p["authenticationType"]), `"scope":"device"`) || *rs[1].Duration != 2 {
		t.Errorf("D2C twin update %v", rs[1])
	}
	rs = h.rows(t, "DeviceTelemetry")
	if got := summary(rs); got != "ingress:Error:429001" || rs[0].Props["messageSizeInBytes"] != "99" {
		t.Errorf("telemetry rows: %s %v", got, rs)
	}
	rs = h.rows(t, "C2DCommands")
	if got := summary(rs); got != "complete:Information complete:Information" {
		t.Errorf("C2D rows: %s", got)
	}
	if p := rs[0].Props; p["messageId"] != "m-7" || p["deliveryCount"] != "2" || p["messageSizeInBytes"] != "3" || p["protocol"] != "Mqtt" {
		t.Errorf("C2D complete %v", p)
	}
	if len(h.d.c2d.m) != 0 {
		t.Errorf("%d C2D facts kept after completion", len(h.d.c2d.m))
	}
	rec := httptest.NewRecorder()
	o.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"tether_d2c_telemetry_ingress_attempts_total 2", "tether_d2c_telemetry_ingress_throttled_total 1",
		"tether_d2c_twin_read_success_total 1", "tether_c2d_commands_completed_total 2"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestExpiredC2DIsLogged(t *testing.T) {
	h := newDiagHub(t, "")
	ctx := context.Background()
	h.call(t, "PUT", "/devices/d1"+av, `{}`)
	now := time.Now()
	if _, err := h.st.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "d1", MessageID: "gone", EnqueuedTime: now, ExpiryTime: now.Add(time.Second), Body: []byte("xy")}); err != nil {
		t.Fatal(err)
	}
	n, err := h.d.expireC2D(ctx, now.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("expireC2D = %d, %v", n, err)
	}
	rs := h.rows(t, "C2DCommands")
	if len(rs) != 1 || rs[0].Op != "messageExpired" || rs[0].Level != "Error" || rs[0].Props["messageId"] != "gone" || rs[0].Props["statusCode"] != "410" {
		t.Errorf("expired rows %+v", rs)
	}
	// facts of a delivered message are forgotten at its expiry
	h.d.c2d.put("d1", 99, diag.C2DMessage{Expiry: now})
	h.d.c2d.sweep(now)
	if len(h.d.c2d.m) != 0 {
		t.Error("sweep kept an expired message's facts")
	}
}

// TestDiagnosticSettingsRoutes: GET shows the defaults; PUT validates,
// applies (a category off, a file and an HTTP destination in Azure's
// export shape) and stores the settings, which the next start reads.
func TestDiagnosticSettingsRoutes(t *testing.T) {
	dataDir := t.TempDir()
	h := newDiagHub(t, dataDir)
	code, body := h.call(t, "GET", "/v1/diagnosticSettings", "")
	if code != 200 || !strings.Contains(body, `{"category":"Connections","enabled":true}`) || !strings.Contains(body, `"store":true`) || strings.Contains(body, `"file"`) {
		t.Fatalf("GET defaults: %d %s", code, body)
	}
	for _, bad := range []struct{ body, want string }{
		{`{"logs":[{"category":"Routes","enabled":true}]}`, "unknown log category"},
		{`{"file":{"path":"relative.json"}}`, "absolute"},
		{`{"http":{"url":"ftp://x"}}`, "http:// or https://"},
		{`{"loggs":[]}`, "loggs"},
	} {
		if code, body := h.call(t, "PUT", "/v1/diagnosticSettings", bad.body); code != 400 || !strings.Contains(body, bad.want) {
			t.Errorf("PUT %s: %d %s", bad.body, code, body)
		}
	}

	var mu sync.Mutex
	var posted []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, string(b))
		mu.Unlock()
	}))
	defer recv.Close()
	file := filepath.Join(t.TempDir(), "diag.jsonl")
	put := fmt.Sprintf(`{"logs":[{"category":"DirectMethods","enabled":false}],"file":{"path":%q},"http":{"url":%q}}`, file, recv.URL)
	code, body = h.call(t, "PUT", "/v1/diagnosticSettings", put)
	if code != 200 || !strings.Contains(body, `{"category":"DirectMethods","enabled":false}`) || !strings.Contains(body, `"maxSizeMB":100`) {
		t.Fatalf("PUT: %d %s", code, body)
	}
	h.call(t, "PUT", "/devices/d1"+av, `{}`)
	h.call(t, "POST", "/twins/d1/methods"+av, `{"methodName":"reboot"}`)
	if rs := h.rows(t, "DirectMethods"); len(rs) != 0 {
		t.Errorf("DirectMethods is off but %d rows were stored", len(rs))
	}
	if rs := h.rows(t, "DeviceIdentityOperations"); len(rs) != 1 {
		t.Errorf("%d identity rows, want 1", len(rs))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(posted)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing was POSTed to the HTTP destination")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatal("the file destination is empty")
	}
	line := sc.Text()
	f.Close()
	mu.Lock()
	if posted[0] != line+"\n" {
		t.Errorf("the HTTP body and the file line differ:\n%s\n%s", posted[0], line)
	}
	mu.Unlock()
	var env struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal([]byte(line), &env); err != nil || len(env.Records) != 1 {
		t.Fatalf("file line %s: %v", line, err)
	}
	r := env.Records[0]
	if r["category"] != "DeviceIdentityOperations" || r["operationName"] != "create" || r["resourceId"] != store.DefaultResourceID || r["location"] != "local" {
		t.Errorf("exported record %v", r)
	}
	if _, ok := r["properties"].(string); !ok {
		t.Errorf("properties is not a string: %#v", r["properties"])
	}
	rec := httptest.NewRecorder()
	h.d.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `tether_diag_export_records_total{destination="file"} 1`) {
		t.Errorf("/metrics lacks the file destination's count")
	}

	// The next start reads the stored settings.
	h.d.exporter.Close(time.Second)
	h.st.Close()
	again := newDiagHub(t, dataDir)
	if s := again.d.rec.Settings(); s.Enabled("DirectMethods") || s.File == nil || s.File.Path != file || s.HTTP == nil || s.HTTP.URL != recv.URL {
		t.Errorf("settings after a restart: %+v", s)
	}
	// Connections is turned off only when named.
	if code, body := again.call(t, "PUT", "/v1/diagnosticSettings", `{"logs":[]}`); code != 200 || !strings.Contains(body, `{"category":"Connections","enabled":true}`) {
		t.Errorf("PUT with no categories: %d %s", code, body)
	}
	if code, _ := again.call(t, "PUT", "/v1/diagnosticSettings", `{"logs":[{"category":"Connections","enabled":false}]}`); code != 200 {
		t.Errorf("turning Connections off: %d", code)
	}
	again.d.event(tether.ConnectionEvent{Kind: tether.EventConnect, Time: time.Now(), DeviceID: "d1"})
	if rs := again.rows(t, "Connections"); len(rs) != 0 {
		t.Errorf("Connections is off but %d rows were stored", len(rs))
	}
}

func TestAdminDiagnosticSettings(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := OpenAdmin(ctx, AdminOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	off := false
	_, err = a.PutDiagnosticSettings(ctx, wire.DiagnosticSettings{Store: &off, Logs: []wire.DiagnosticLogSetting{{Category: "Nope"}}})
	if tether.ErrorCode(err) != tether.ArgumentInvalid {
		t.Errorf("invalid settings: %v", err)
	}
	if _, err := a.PutDiagnosticSettings(ctx, toWire(diag.Settings{Store: &off})); err != nil {
		t.Fatal(err)
	}
	s, err := a.DiagnosticSettings(ctx)
	if err != nil || s.Store == nil || *s.Store || len(s.Logs) != 7 {
		t.Errorf("stored settings %+v, %v", s, err)
	}
}
