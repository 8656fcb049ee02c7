package hubclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestDiagnosticSettings(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Method == "PUT" && strings.Contains(string(body), "ftp:") {
			w.Header().Set("iothub-errorcode", "ArgumentInvalid")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"Message":"ErrorCode:ArgumentInvalid;http: url \"ftp://x\" must be an http:// or https:// URL with a host"}`)
			return
		}
		fmt.Fprint(w, `{"logs":[{"category":"Connections","enabled":false}],"store":true,"file":{"path":"/var/log/t.jsonl","maxSizeMB":100,"maxFiles":5}}`)
	}))
	defer srv.Close()
	c := mustClient(t, srv.URL)
	ctx := context.Background()
	s, err := c.DiagnosticSettings(ctx)
	if err != nil || len(s.Logs) != 1 || s.Logs[0].Enabled || s.File == nil || s.File.MaxFiles != 5 || got.URL.Path != "/v1/diagnosticSettings" || got.Method != "GET" {
		t.Fatalf("DiagnosticSettings = %+v, %v (%s %s)", s, err, got.Method, got.URL.Path)
	}
	on := true
	if _, err := c.PutDiagnosticSettings(ctx, wire.DiagnosticSettings{Store: &on, HTTP: &wire.DiagnosticHTTP{URL: "https://x"}}); err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	json.Unmarshal(body, &sent)
	if got.Method != "PUT" || sent["store"] != true || sent["http"].(map[string]any)["url"] != "https://x" {
		t.Errorf("PUT %s body %s", got.Method, body)
	}
	_, err = c.PutDiagnosticSettings(ctx, wire.DiagnosticSettings{HTTP: &wire.DiagnosticHTTP{URL: "ftp://x"}})
	if tether.ErrorCode(err) != tether.ArgumentInvalid || !strings.Contains(err.Error(), "http:// or https://") {
		t.Errorf("refused PUT: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			w.WriteHeader(404)
			return
		}
		fmt.Fprint(w, `# HELP tether_connected_devices Devices connected now.
# TYPE tether_connected_devices gauge
tether_connected_devices 3
tether_disconnects_total{reason="keepalive_timeout",result="404104"} 2
odd{l="a \"q\" \\ b\nc",m=""} 1.5e+06 1700000000000
tether_connect_seconds_bucket{le="+Inf"} +Inf

`)
	}))
	defer srv.Close()
	ms, err := mustClient(t, srv.URL).Metrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 4 || ms[0].Name != "tether_connected_devices" || ms[0].Value != 3 || ms[0].Labels != nil {
		t.Fatalf("metrics %+v", ms)
	}
	if m := ms[1]; m.Labels["reason"] != "keepalive_timeout" || m.Labels["result"] != "404104" || m.Value != 2 {
		t.Errorf("labelled metric %+v", m)
	}
	if m := ms[2]; m.Labels["l"] != "a \"q\" \\ b\nc" || m.Labels["m"] != "" || m.Value != 1.5e6 {
		t.Errorf("escaped labels %+v", m)
	}
	if !math.IsInf(ms[3].Value, 1) {
		t.Errorf("+Inf = %v", ms[3].Value)
	}
	if _, err := ParseMetrics(strings.NewReader("x{a=\"b} 1\n")); err == nil {
		t.Error("an unterminated label parsed")
	}
}
