package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// These tests cover the command's flags and printing against the real
// API handler with a hand-written querier; internal/server's acceptance
// test runs the corpus through this command on a real hub.

// scriptedQuerier answers every query with res or err and remembers the
// last query.
type scriptedQuerier struct {
	mu   sync.Mutex
	last api.LogQuery
	res  *api.LogResult
	err  error
}

func (s *scriptedQuerier) QueryLogs(_ context.Context, q api.LogQuery) (*api.LogResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = q
	return s.res, s.err
}

func startQueryHub(t *testing.T, q api.LogQuerier) []string {
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
	a, err := api.New(api.Options{Hostname: "hub.test", Devices: st, Twins: st, Stats: st, Policy: st.Policy, Logs: q})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	cs := sas.ConnectionString{HostName: "hub.test", KeyName: "iothubowner", Key: key}
	return []string{"--connection-string", cs.String(), "--api-url", srv.URL, "--data", t.TempDir()}
}

// runIn runs the CLI with stdin and returns its standard output and
// error output apart.
func runIn(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

var connColumns = []wire.QueryColumn{{Name: "TimeGenerated", Type: "datetime"}, {Name: "OperationName", Type: "string"},
	{Name: "ResultType", Type: "string"}, {Name: "DurationMs", Type: "long"}, {Name: "properties_s", Type: "string"}}

func connRows() [][]any {
	return [][]any{
		{"2026-11-25T10:00:00.0000000Z", "deviceConnect", "", int64(12), `{"deviceId":"d1","protocol":"Mqtt"}`},
		{"2026-11-25T10:05:00.0000000Z", "deviceDisconnect", "404104", nil, `{"deviceId":"d1","protocol":"Mqtt","details":"` + strings.Repeat("keep-alive ", 10) + `"}`},
	}
}

func TestLogsQueryTable(t *testing.T) {
	q := &scriptedQuerier{res: &api.LogResult{Columns: connColumns, Rows: connRows()}}
	hub := startQueryHub(t, q)
	out := mustRun(t, append(hub, "logs", "query", "AzureDiagnostics | take 2", "--timespan", "PT6H")...)
	if q.last.Query != "AzureDiagnostics | take 2" || len(q.last.Timespans) != 1 || q.last.Timespans[0] != "PT6H" {
		t.Errorf("the hub got %+v, want the query and --timespan PT6H", q.last)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "TimeGenerated") || !strings.Contains(lines[0], "properties_s") {
		t.Fatalf("table output:\n%s", out)
	}
	for _, want := range []string{"deviceDisconnect", "404104", "(2 rows)", `{"deviceId":"d1","protocol":"Mqtt","det…`, "(1 cell cut at 40 characters"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "── row") {
		t.Errorf("a table that fits is printed as records:\n%s", out)
	}

}

func TestLogsQueryWideRowsAsRecords(t *testing.T) {
	q := &scriptedQuerier{res: &api.LogResult{Columns: connColumns, Rows: connRows(), Truncated: true,
		Render: &api.LogRender{Visualization: "timechart"}}}
	hub := startQueryHub(t, q)
	t.Setenv("COLUMNS", "60")
	out := mustRun(t, append(hub, "logs", "query", "AzureDiagnostics")...)
	for _, want := range []string{"── row 1 ──", "── row 2 ──", "OperationName:  deviceDisconnect", "DurationMs:     12",
		"(2 rows)", "(truncated: the hub's row cap stopped the result at 2 rows", "render a timechart", "empty and null values are left out"} {
		if !strings.Contains(out, want) {
			t.Errorf("record output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "ResultType:") != 1 || strings.Count(out, "DurationMs:") != 1 {
		t.Errorf("records print empty or null values (row 1's ResultType, row 2's DurationMs):\n%s", out)
	}
}

func TestLogsQueryCSVAndJSON(t *testing.T) {
	q := &scriptedQuerier{res: &api.LogResult{Columns: connColumns, Rows: connRows()}}
	hub := startQueryHub(t, q)
	out := mustRun(t, append(hub, "logs", "query", "AzureDiagnostics", "-o", "csv")...)
	want := "TimeGenerated,OperationName,ResultType,DurationMs,properties_s\n" +
		`2026-11-25T10:00:00.0000000Z,deviceConnect,,12,"{""deviceId"":""d1"",""protocol"":""Mqtt""}"` + "\n"
	if !strings.HasPrefix(out, want) || !strings.Contains(out, strings.Repeat("keep-alive ", 10)) {
		t.Errorf("csv output:\n%s\nwant it to start with\n%s and hold the long cell whole", out, want)
	}
	out = mustRun(t, append(hub, "logs", "query", "AzureDiagnostics", "-o", "json")...)
	var resp wire.QueryResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.Tables) != 1 || len(resp.Tables[0].Rows) != 2 || resp.Tables[0].Columns[3].Type != "long" {
		t.Errorf("json output is not the Log Analytics answer (%v):\n%s", err, out)
	}
}

func TestLogsQueryFromFileAndStdin(t *testing.T) {
	q := &scriptedQuerier{res: &api.LogResult{Columns: connColumns[:1]}}
	hub := startQueryHub(t, q)
	query := "AzureDiagnostics\n| where Category == \"Connections\"\n| take 5\n"
	file := filepath.Join(t.TempDir(), "drops.kql")
	os.WriteFile(file, []byte(query), 0o600)
	if _, _, err := runIn(t, "", append(hub, "logs", "query", "-f", file)...); err != nil || q.last.Query != query {
		t.Errorf("-f FILE sent %q (err %v), want the file's text", q.last.Query, err)
	}
	out, _, err := runIn(t, query, append(hub, "logs", "query", "-f", "-")...)
	if err != nil || q.last.Query != query || !strings.Contains(out, "(no rows)") {
		t.Errorf("-f - sent %q (err %v, output %q), want standard input's text and (no rows)", q.last.Query, err, out)
	}
}

func TestLogsQueryErrors(t *testing.T) {
	q := &scriptedQuerier{err: &api.QueryError{Code: "SemanticError", Message: "'category' is not a column of AzureDiagnostics; did you mean 'Category'?", Line: 2, Pos: 9}}
	hub := startQueryHub(t, q)
	_, _, err := runIn(t, "", append(hub, "logs", "query", "AzureDiagnostics\n| where category == \"DistributedTracing\"")...)
	var ue usageError
	if err == nil || errors.As(err, &ue) {
		t.Fatalf("a refused query gave %v, want a non-usage error (exit 1)", err)
	}
	want := "line 2, col 9: 'category' is not a column of AzureDiagnostics; did you mean 'Category'?\n" +
		"  2 | | where category == \"DistributedTracing\"\n" +
		"    |         ^"
	if err.Error() != want {
		t.Errorf("error =\n%s\nwant\n%s", err, want)
	}

	usage := []struct {
		name string
		args []string
		want string
	}{
		{"no query", []string{"logs", "query"}, "needs a query"},
		{"two queries", []string{"logs", "query", "a", "b"}, "takes one query"},
		{"argument and file", []string{"logs", "query", "a", "-f", "x.kql"}, "not both"},
		{"empty stdin", []string{"logs", "query", "-f", "-"}, "the query in standard input is empty"},
		{"bad output", []string{"logs", "query", "x", "-o", "yaml"}, `--output "yaml": use table, json or csv`},
		{"csv elsewhere", []string{"device", "list", "-o", "csv"}, "--output csv is for 'tether logs query'"},
		{"narrow cells", []string{"logs", "query", "x", "--max-width", "3"}, "--max-width 3"},
	}
	for _, tc := range usage {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runIn(t, "", append(hub, tc.args...)...)
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("tether %s = %v, want a usage error (exit 2) containing %q", strings.Join(tc.args, " "), err, tc.want)
			}
		})
	}
}
