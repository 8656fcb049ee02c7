package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/sas"
)

// bodyRoutes are the API routes that take a request body, sorted.
func bodyRoutes(s *Server) []string {
	var out []string
	for _, r := range s.api.Routes() {
		if m, _, _ := strings.Cut(r, " "); m == "PUT" || m == "POST" || m == "PATCH" {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// FuzzJSONBodies sends arbitrary bodies to every route of the API that
// takes one (enumerated from the route table, so new routes are fuzzed
// too), authorized as the hub owner. The hub must answer every one
// within the request's time limit, with a JSON body, and never with an
// internal error: bad input is a 4xx with a message.
func FuzzJSONBodies(f *testing.F) {
	seeds := []string{`{}`, `[]`, `null`, `""`, `0`, `{"deviceId":"fuzzdev"}`, `{"deviceId":"fuzzdev","status":"disabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"AQ==","secondaryKey":"AQ=="}}}`,
		`{"properties":{"desired":{"a":{"b":[1,2,{"c":null}]}}},"tags":{"x":"y"}}`, `{"methodName":"m","payload":{"k":1},"responseTimeoutInSeconds":1,"connectTimeoutInSeconds":0}`,
		`{"query":"AzureDiagnostics | where Category == 'Connections' | take 3","timespan":"PT1H"}`, `{"query":"AzureDiagnostics | summarize count() by bin(TimeGenerated, 1m)"}`,
		`{"url":"https://127.0.0.1:1/hook","types":["DeviceConnected"]}`, `{"logs":{"Connections":true},"store":true}`,
		`{"name":"r","query":"AzureDiagnostics","threshold":1}`, strings.Repeat("[", 10000), `{"a":` + strings.Repeat("9", 400) + `}`, "\xff\xfe{", `{"deviceId":"` + strings.Repeat("é", 300) + `"}`}
	s := newFuzzServer(f)
	routes := bodyRoutes(s)
	for i := range routes {
		for _, seed := range seeds {
			f.Add(uint8(i), []byte(seed))
		}
	}
	cs, err := s.PolicyConnectionString(context.Background(), "iothubowner")
	if err != nil {
		f.Fatal(err)
	}
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, time.Now().Add(24*time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	handler := s.http.Handler
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		route := routes[int(pick)%len(routes)]
		method, url, _ := routeRequest(route, "https://localhost")
		url = strings.Replace(url, "permdev", "fuzzdev", 1)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, method, url, strings.NewReader(string(body)))
		req.Header.Set("Authorization", tok.String())
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable && rec.Code != http.StatusGatewayTimeout {
			t.Fatalf("%s with body %q: %d %s", route, body, rec.Code, rec.Body)
		}
		if rec.Body.Len() > 0 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s with body %q: the answer is not JSON: %q", route, body, rec.Body)
		}
	})
}

// newFuzzServer builds a hub whose handler the fuzz target calls in
// process; its background loops are not needed and not run.
func newFuzzServer(tb testing.TB) *Server {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = tb.TempDir()
	cfg.HTTPSAddr, cfg.MQTTAddr = "127.0.0.1:0", "127.0.0.1:0"
	s, err := New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.close)
	return s
}
