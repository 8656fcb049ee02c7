package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// queryHub posts a query to h's target (/v1/query…) as the service policy.
func queryHub(t *testing.T, h *hubtest.Hub, target, body string) (int, []byte) {
	t.Helper()
	cs := h.Policy(t, "service")
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, h.URL+target, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", tok.String())
	resp, err := h.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// seedAges writes one Connections record per age (before now) into the
// data folder dir, before a hub starts on it.
func seedAges(t *testing.T, dir string, ages ...time.Duration) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var recs []tether.LogRecord
	for _, a := range ages {
		recs = append(recs, tether.LogRecord{Time: time.Now().Add(-a), Category: tether.CategoryConnections,
			OperationName: "deviceConnect", Level: tether.LevelInformation, Properties: `{"deviceId":"d1"}`, DeviceID: "d1"})
	}
	if err := st.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// TestQueryLimits runs the real compiler behind the API with the serve
// flags' limits: the row cap, the timeout, and the request's timespans.
func TestQueryLimits(t *testing.T) {
	dir := t.TempDir()
	seedAges(t, dir, 10*time.Minute, 30*time.Minute, 2*time.Hour, 3*time.Hour, 30*time.Hour)
	h := hubtest.Start(t, func(c *server.Config) { c.DataDir = dir; c.QueryMaxRows = 3 })

	rows := func(b []byte) (int, bool) {
		var r wire.QueryResponse
		if err := json.Unmarshal(b, &r); err != nil || len(r.Tables) != 1 {
			t.Fatalf("answer %s: %v", b, err)
		}
		return len(r.Tables[0].Rows), r.Truncated
	}
	status, b := queryHub(t, h, "/v1/query", `{"query":"AzureDiagnostics | where Category == \"Connections\""}`)
	if n, cut := rows(b); status != 200 || n != 3 || !cut {
		t.Errorf("4 rows in the default 24h with --query-max-rows 3 = %d %d rows, truncated %v; want 3 rows, truncated", status, n, cut)
	}
	status, b = queryHub(t, h, "/v1/query?timespan=PT1H", `{"query":"AzureDiagnostics | count","timespan":"PT150M"}`)
	if !strings.Contains(string(b), `"rows":[[2]]`) || status != 200 {
		t.Errorf("count with body PT150M and URL PT1H = %d %s, want their intersection: 2 rows", status, b)
	}
	status, b = queryHub(t, h, "/v1/query", `{"query":"AzureDiagnostics | count","timespan":"P2D"}`)
	if !strings.Contains(string(b), `"rows":[[5]]`) || status != 200 {
		t.Errorf("count with timespan P2D = %d %s, want all 5 rows", status, b)
	}
	status, b = queryHub(t, h, "/v1/query", `{"query":"AzureDiagnostics | count","timespan":"an hour"}`)
	var eb wire.QueryErrorBody
	json.Unmarshal(b, &eb)
	if status != 400 || eb.Error.InnerError == nil || eb.Error.InnerError.Code != "InvalidTimespan" || !strings.Contains(eb.Error.Message, `"an hour"`) {
		t.Errorf("bad timespan = %d %s, want 400 InvalidTimespan naming it", status, b)
	}
}

func TestQueryTimeout(t *testing.T) {
	dir := t.TempDir()
	seedAges(t, dir, time.Minute)
	h := hubtest.Start(t, func(c *server.Config) { c.DataDir = dir; c.QueryTimeout = time.Nanosecond })
	status, b := queryHub(t, h, "/v1/query", `{"query":"AzureDiagnostics | take 1"}`)
	var eb wire.QueryErrorBody
	json.Unmarshal(b, &eb)
	if status != http.StatusGatewayTimeout || eb.Error.Code != "GatewayTimeout" || eb.Error.InnerError == nil ||
		eb.Error.InnerError.Code != "QueryTimeout" || !strings.Contains(eb.Error.Message, "--query-timeout") {
		t.Errorf("a query past --query-timeout = %d %s, want 504 GatewayTimeout/QueryTimeout naming the flag", status, b)
	}
}

func TestQueryConfigValidation(t *testing.T) {
	for _, c := range []server.Config{{QueryTimeout: -time.Second}, {QueryMaxRows: -1}} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--query-") {
			t.Errorf("Validate(%+v) = %v, want an error naming the flag", c, err)
		}
	}
	c := server.Config{}
	if err := c.Validate(); err != nil || c.QueryTimeout != 30*time.Second || c.QueryMaxRows != 30000 {
		t.Errorf("defaults = %v, %d (%v); want 30s, 30000", c.QueryTimeout, c.QueryMaxRows, err)
	}
}
