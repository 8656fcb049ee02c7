package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
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

// The acceptance test of issue 5: every query Microsoft documents for IoT
// Hub logs (Q01-Q14) and the portal's AzureMetrics queries (G1-G3) run
// unchanged on a real hub through POST /v1/query and through tether logs
// query (remote, and local on the running hub's --data), with the same
// answer; Q13 and the corpus's invalid forms fail with a positioned
// message.

// readCorpus reads testdata/kql-corpus.txtar: "-- NAME.kql --" headers,
// each followed by one query, exactly as published.
func readCorpus(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "kql-corpus.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	name := ""
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if h, ok := strings.CutPrefix(strings.TrimSpace(line), "-- "); ok && strings.HasSuffix(h, ".kql --") {
			name = strings.TrimSuffix(h, ".kql --")
			continue
		}
		if name != "" {
			out[name] += line
		}
	}
	return out
}

// seedCorpusLogs writes, through the store, the records the corpus
// queries look for, all within the last 24 hours but one, which is two
// days old and must never show (the default time range).
func seedCorpusLogs(t *testing.T, dir string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := now.Add(-2 * time.Hour)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	conn := func(dev, sdk, proto, tls string) string {
		return `{"deviceId":"` + dev + `","sdkVersion":"` + sdk + `","protocol":"` + proto + `","tlsVersion":"` + tls + `","maskedIpAddress":"10.0.0.XXX"}`
	}
	info := func(tm time.Time, cat, op, props, dev string) tether.LogRecord {
		return tether.LogRecord{Time: tm, Category: cat, OperationName: op, Level: tether.LevelInformation, Properties: props, DeviceID: dev}
	}
	fail := func(tm time.Time, cat, op string, code tether.ResultCode, props, dev string) tether.LogRecord {
		r := info(tm, cat, op, props, dev)
		r.Level, r.ResultType, r.ResultDescription = tether.LevelError, strconv.Itoa(int(code)), code.Name()
		return r
	}
	td, d2, d3 := conn("test-device", "azure-iot-device/1.17.3", "Mqtt", "1.2"), conn("d2", "azure-iot-sdk-c/1.9.0", "MqttWs", "1.3"), conn("d3", "", "Mqtt", "1.2")
	ms := int64(12)
	trace := func(tm time.Time, corr string) tether.LogRecord {
		r := info(tm, "DistributedTracing", "DiagnosticIoTHubD2C", `{"messageSize":"1","deviceId":"d2","callerLocalTimeUtc":"`+tm.Format(time.RFC3339)+`","correlationId":"`+corr+`"}`, "d2")
		r.DurationMs, r.ResultType = &ms, "Success"
		return r
	}
	recs := []tether.LogRecord{
		info(now.Add(-48*time.Hour), tether.CategoryConnections, "deviceConnect", td, "test-device"), // outside the default range
		info(at(0), tether.CategoryConnections, "deviceConnect", td, "test-device"),
		fail(at(10), tether.CategoryConnections, "deviceDisconnect", tether.DeviceConnectionClosedRemotely, td, "test-device"),
		info(at(1), tether.CategoryConnections, "deviceConnect", d2, "d2"),
		fail(at(20), tether.CategoryConnections, "deviceConnect", tether.IoTHubUnauthorized, d2, "d2"),
		fail(at(30), tether.CategoryConnections, "deviceDisconnect", tether.ThrottlingException, d3, "d3"),
		fail(at(31), tether.CategoryConnections, "deviceDisconnect", tether.ThrottlingException, d3, "d3"),
		fail(at(32), tether.CategoryD2CTwinOperations, "get", tether.ThrottlingException, `{"deviceId":"d3","sdkVersion":"azure-iot-sdk-c/1.9.0"}`, "d3"),
		info(at(33), tether.CategoryD2CTwinOperations, "get", `{"deviceId":"d2","sdkVersion":"azure-iot-sdk-c/1.9.0"}`, "d2"),
		fail(at(40), "Routes", "endpointDead", 0, `{"endpointName":"ep1","details":"unreachable"}`, ""),
		fail(at(41), "Routes", "endpointDead", 0, `{"endpointName":"ep1","details":"unreachable"}`, ""),
		info(at(42), "Routes", "endpointUnhealthy", `{"endpointName":"ep2","details":"timeout"}`, ""),
		trace(at(50), "00-8cd869a412459a25f5b4f31311223344-0144d2590aacd909-01"),
		trace(at(51), "00-11111111111111111111111111111111-0144d2590aacd909-01"),
	}
	recs[10].ResultType, recs[10].ResultDescription = "", ""
	recs[9].ResultType, recs[9].ResultDescription = "", ""
	if err := st.WriteLogs(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var samples []store.MetricSample
	for i := range 5 {
		for _, m := range []struct{ name, unit string }{{"d2c.telemetry.ingress.success", "Count"}, {"connectedDeviceCount", "Count"}, {"d2c.telemetry.ingress.allProtocol", "Count"}} {
			v := float64(i + 1)
			samples = append(samples, store.MetricSample{Time: at(i), Name: m.name, Total: v, Count: 1, Min: v, Max: v, Average: v, TimeGrain: "PT1M", Unit: m.unit})
		}
	}
	if err := st.WriteMetrics(ctx, samples); err != nil {
		t.Fatal(err)
	}
}

// corpusCase is what one query must answer: its columns (in order) or
// their count, its row count, and any further check. Failing queries
// give the inner error code and position instead.
type corpusCase struct {
	id      string
	columns []string
	ncols   int
	rows    int
	check   func(t *testing.T, tb wire.QueryTable)
}

var diagColumns = []string{"TimeGenerated", "Type", "TenantId", "SourceSystem", "ResourceId", "_ResourceId", "SubscriptionId",
	"ResourceGroup", "Resource", "ResourceProvider", "ResourceType", "Category", "OperationName", "Level", "ResultType",
	"ResultDescription", "DurationMs", "properties_s", "location", "CorrelationId"}

func corpusCases() []corpusCase {
	col := func(tb wire.QueryTable, name string) int {
		for i, c := range tb.Columns {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	cell := func(t *testing.T, tb wire.QueryTable, row int, name string) string {
		t.Helper()
		i := col(tb, name)
		if i < 0 || row >= len(tb.Rows) {
			t.Fatalf("no column %s or row %d in %v", name, row, tb.Columns)
		}
		return cellText(tb.Rows[row][i])
	}
	return []corpusCase{
		{id: "Q01", columns: diagColumns, rows: 4},
		{id: "Q02", columns: []string{"DeviceId", "Category", "_ResourceId", "count_"}, rows: 2, check: func(t *testing.T, tb wire.QueryTable) {
			if cell(t, tb, 0, "DeviceId") != "d3" || cell(t, tb, 0, "count_") != "2" || cell(t, tb, 1, "count_") != "1" {
				t.Errorf("Q02 rows = %v, want d3's 2 connection throttles first", tb.Rows)
			}
		}},
		{id: "Q03", columns: []string{"Endpoint", "OperationName", "Reason", "_ResourceId", "count_"}, rows: 2, check: func(t *testing.T, tb wire.QueryTable) {
			if cell(t, tb, 0, "Endpoint") != "ep1" || cell(t, tb, 0, "Reason") != "unreachable" || cell(t, tb, 0, "count_") != "2" {
				t.Errorf("Q03 rows = %v, want ep1 dead twice first", tb.Rows)
			}
		}},
		{id: "Q04", columns: []string{"ResultType", "ResultDescription", "Category", "_ResourceId", "count_"}, rows: 5},
		{id: "Q05", columns: []string{"DeviceId", "_ResourceId", "max_TimeGenerated"}, rows: 2},
		{id: "Q06", columns: []string{"DeviceId", "SDKVersion", "TimeGenerated", "_ResourceId"}, rows: 8},
		{id: "Q07", columns: append(append([]string{}, diagColumns...), "DeviceId"), rows: 2, check: func(t *testing.T, tb wire.QueryTable) {
			for r := range tb.Rows {
				if cell(t, tb, r, "DeviceId") != "test-device" {
					t.Errorf("Q07 row %d is of %s", r, cell(t, tb, r, "DeviceId"))
				}
			}
		}},
		{id: "Q08", columns: []string{"DeviceId", "SDKVersion", "TimeGenerated", "_ResourceId"}, rows: 6},
		{id: "Q09", columns: diagColumns, rows: 4},
		{id: "Q10", ncols: -1, rows: 4, check: func(t *testing.T, tb wire.QueryTable) {
			i := col(tb, "$table")
			if i < 0 {
				t.Fatalf("search * answer has no $table column: %v", tb.Columns)
			}
			for r := range tb.Rows {
				if cell(t, tb, r, "$table") != "AzureDiagnostics" || cell(t, tb, r, "Level") != "Error" {
					t.Errorf("Q10 row %d: $table %s, Level %s", r, cell(t, tb, r, "$table"), cell(t, tb, r, "Level"))
				}
			}
		}},
		{id: "Q11", columns: []string{"TimeGenerated", "OperationName", "Level", "ResultType", "ResultDescription", "DeviceId", "Protocol", "SDKVersion"}, rows: 6},
		{id: "Q12", columns: []string{"TimeGenerated", "Category", "OperationName", "Level", "CorrelationId", "DurationMs", "properties_s"}, rows: 2, check: func(t *testing.T, tb wire.QueryTable) {
			if a, b := cell(t, tb, 0, "TimeGenerated"), cell(t, tb, 1, "TimeGenerated"); a > b {
				t.Errorf("Q12 is not oldest first: %s then %s", a, b)
			}
		}},
		{id: "Q14", columns: []string{"DeviceId", "TLSVersion"}, rows: 3, check: func(t *testing.T, tb wire.QueryTable) {
			if tb.Columns[0].Type != "dynamic" || tb.Columns[1].Type != "dynamic" {
				t.Errorf("Q14 column types = %v, want dynamic (no tostring)", tb.Columns)
			}
		}},
		{id: "G1", columns: []string{"MetricName", "TimeGenerated", "UnitName", "Total", "Count", "Maximum", "Minimum", "Average"}, rows: 3, check: func(t *testing.T, tb wire.QueryTable) {
			for r := range tb.Rows {
				if cell(t, tb, r, "Total") != "5" {
					t.Errorf("G1 row %d Total = %s, want the newest sample's 5", r, cell(t, tb, r, "Total"))
				}
			}
		}},
		{id: "G2", ncols: 18, rows: 10, check: func(t *testing.T, tb wire.QueryTable) {
			if a, b := cell(t, tb, 0, "TimeGenerated"), cell(t, tb, 9, "TimeGenerated"); a < b {
				t.Errorf("G2 is not newest first: %s … %s", a, b)
			}
		}},
		{id: "G3", ncols: 18, rows: 0},
	}
}

// invalidCase is a query that must fail: the inner code, and the line
// and the text at the reported column.
type invalidCase struct {
	name, query, code string
	line              int
	at                string // the text the reported column points at
	says              []string
}

func invalidCases(corpus map[string]string) []invalidCase {
	return []invalidCase{
		{"Q13 lower-case category", corpus["Q13"], "SemanticError", 2, "category", []string{"'category'", "'Category'"}},
		// Ours, after the corpus's validity table (C01, C02, C09; C03; C04; C10).
		{"DeviceId is inside properties_s", "AzureDiagnostics\n| project TimeGenerated, DeviceId", "SemanticError", 2, "DeviceId", []string{"'DeviceId'"}},
		{"no DeviceId_s column", "AzureDiagnostics | where DeviceId_s == \"d1\"", "SemanticError", 1, "DeviceId_s", []string{"'DeviceId_s'"}},
		{"no json_extract function", "AzureDiagnostics | extend d = json_extract(properties_s, \"$.deviceId\")", "SemanticError", 1, "json_extract", []string{"json_extract"}},
		{"no properties column", "AzureDiagnostics | where properties contains \"x\"", "SemanticError", 1, "properties", []string{"'properties'"}},
		{"no body_s column", "AzureDiagnostics\n| project body_s", "SemanticError", 2, "body_s", []string{"'body_s'"}},
		{"syntax error", "AzureDiagnostics\n| where Level == ", "SyntaxError", 2, "", nil},
	}
}

// postQuery sends a query to the hub's API as a Log Analytics client
// would.
func postQuery(t *testing.T, h *hubtest.Hub, query string) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(wire.QueryRequest{Query: query})
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/v1/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", mustServiceToken(t, h))
	resp, err := h.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func mustServiceToken(t *testing.T, h *hubtest.Hub) string {
	t.Helper()
	cs := h.Policy(t, "service")
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok.String()
}

func decodeAnswer(t *testing.T, b []byte) wire.QueryResponse {
	t.Helper()
	var r wire.QueryResponse
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil || len(r.Tables) != 1 {
		t.Fatalf("answer %s: %v", b, err)
	}
	return r
}

func TestLogsQueryCorpus(t *testing.T) {
	dir := t.TempDir()
	seedCorpusLogs(t, dir, time.Now().UTC())
	h := hubtest.Start(t, func(c *server.Config) { c.DataDir = dir })
	ways := map[string][]string{
		"remote": {"--connection-string", h.Owner.String(), "--api-url", h.URL, "--ca", h.CAFile(), "--data", t.TempDir()},
		"local":  {"--data", dir}, // through the running hub, found by DATA/run.json
	}
	corpus := readCorpus(t)
	if len(corpus) != 17 {
		t.Fatalf("corpus holds %d queries, want Q01-Q14 and G1-G3", len(corpus))
	}
	for _, tc := range corpusCases() {
		t.Run(tc.id, func(t *testing.T) {
			status, b := postQuery(t, h, corpus[tc.id])
			if status != http.StatusOK {
				t.Fatalf("POST /v1/query %s = %d %s", tc.id, status, b)
			}
			ans := decodeAnswer(t, b)
			tb := ans.Tables[0]
			names := make([]string, len(tb.Columns))
			for i, c := range tb.Columns {
				names[i] = c.Name
			}
			switch {
			case tc.columns != nil && !reflect.DeepEqual(names, tc.columns):
				t.Errorf("columns = %v, want %v", names, tc.columns)
			case tc.ncols > 0 && len(names) != tc.ncols:
				t.Errorf("%d columns %v, want %d", len(names), names, tc.ncols)
			}
			if len(tb.Rows) != tc.rows {
				t.Errorf("%d rows, want %d: %v", len(tb.Rows), tc.rows, tb.Rows)
			}
			if tc.check != nil && len(tb.Rows) == tc.rows {
				tc.check(t, tb)
			}
			for way, flags := range ways {
				out := mustRun(t, append(flags, "logs", "query", corpus[tc.id], "-o", "json")...)
				if got := decodeAnswer(t, []byte(out)); !reflect.DeepEqual(got.Tables, ans.Tables) {
					t.Errorf("tether logs query (%s) answered\n%s\nthe API answered\n%s", way, out, b)
				}
			}
		})
	}

	t.Run("Q10 as a table", func(t *testing.T) {
		out := mustRun(t, append(ways["local"], "logs", "query", corpus["Q10"])...)
		if !strings.Contains(out, "(4 rows)") || !strings.Contains(out, "── row 4 ──") {
			t.Errorf("the seed query's table output:\n%s", out)
		}
	})

	for _, tc := range invalidCases(corpus) {
		t.Run(tc.name, func(t *testing.T) {
			status, b := postQuery(t, h, tc.query)
			var eb wire.QueryErrorBody
			json.Unmarshal(b, &eb)
			in := eb.Error.InnerError
			if status != http.StatusBadRequest || eb.Error.Code != "BadArgumentError" || in == nil || in.Code != tc.code {
				t.Fatalf("POST /v1/query = %d %s, want 400 BadArgumentError with innererror %s", status, b, tc.code)
			}
			lines := strings.Split(tc.query, "\n")
			if in.Line != tc.line || in.Pos < 1 || in.Line > len(lines) {
				t.Fatalf("error at line %d pos %d, want line %d: %s", in.Line, in.Pos, tc.line, b)
			}
			if line := lines[in.Line-1]; tc.at != "" && (in.Pos > len(line) || !strings.HasPrefix(line[in.Pos-1:], tc.at)) {
				t.Errorf("pos %d of %q does not point at %q", in.Pos, line, tc.at)
			}
			for _, s := range tc.says {
				if !strings.Contains(in.Message, s) {
					t.Errorf("message %q does not say %s", in.Message, s)
				}
			}
			_, _, err := runIn(t, "", append(ways["remote"], "logs", "query", tc.query)...)
			var ue usageError
			var qe *wire.QueryError
			if err == nil || errors.As(err, &ue) || !errors.As(err, &qe) || qe.Line != in.Line || qe.Pos != in.Pos || qe.Message != in.Message {
				t.Errorf("tether logs query = %v, want exit 1 with the API's positioned message", err)
			} else if first := strings.SplitN(err.Error(), "\n", 2)[0]; !strings.HasPrefix(first, "line ") {
				t.Errorf("CLI error %q does not start with its position", first)
			}
		})
	}
}

// TestLogsQueryInProcess runs a query on a data folder with no hub
// running: the CLI opens the logs itself.
func TestLogsQueryInProcess(t *testing.T) {
	dir := t.TempDir()
	seedCorpusLogs(t, dir, time.Now().UTC())
	out := mustRun(t, "--data", dir, "logs", "query", "AzureDiagnostics | where Level == \"Error\" | summarize count() by Category | order by count_ desc", "-o", "csv")
	want := "Category,count_\nConnections,4\nRoutes,2\nD2CTwinOperations,1\n"
	if out != want {
		t.Errorf("in-process query printed\n%s\nwant\n%s", out, want)
	}
	out = mustRun(t, "--data", dir, "logs", "query", "AzureDiagnostics | where Category == \"Connections\" | count", "--timespan", "P3D", "-o", "csv")
	if out != "Count\n7\n" {
		t.Errorf("--timespan P3D count printed %q, want the two-day-old row included (7)", out)
	}
}
