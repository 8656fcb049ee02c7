package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// These tests cover the HTTP layer of /v1/query with a hand-written
// querier; internal/server's tests run the real compiler over a real
// store behind the same route.

// fakeQuerier is a LogQuerier with one function field.
type fakeQuerier struct {
	fn func(ctx context.Context, q LogQuery) (*LogResult, error)
}

func (f fakeQuerier) QueryLogs(ctx context.Context, q LogQuery) (*LogResult, error) {
	return f.fn(ctx, q)
}

// noStore satisfies the registry interfaces New requires; the query
// routes never call them.
type noStore struct {
	DeviceStore
	TwinStore
	StatsSource
}

const testHost = "hub.example"

var testKey = tether.Secret("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")

func mustQueryAPI(t *testing.T, q LogQuerier) *API {
	t.Helper()
	a, err := New(Options{
		Hostname: testHost, Devices: noStore{}, Twins: noStore{}, Stats: noStore{}, Logs: q,
		Policy: func(_ context.Context, name string) (tether.Policy, error) {
			for _, p := range tether.DefaultPolicies() {
				if p.Name == name {
					p.PrimaryKey, p.SecondaryKey = testKey, testKey
					return p, nil
				}
			}
			return tether.Policy{}, tether.Errorf(tether.DeviceNotFound, "no policy %s", name)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustToken(t *testing.T, policy string) string {
	t.Helper()
	tok, err := sas.Sign(testHost, testKey, policy, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok.String()
}

type queryCall struct {
	method, target, body, policy string
	header                       http.Header
}

func serveQuery(t *testing.T, a *API, c queryCall) (int, string) {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.target == "" {
		c.target = "/v1/query"
	}
	req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.policy == "" {
		c.policy = "service"
	}
	if c.policy != "-" {
		req.Header.Set("Authorization", mustToken(t, c.policy))
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type = %q, want application/json", c.method, c.target, ct)
	}
	return rec.Code, rec.Body.String()
}

func TestQueryAnswersInLogAnalyticsShape(t *testing.T) {
	var got LogQuery
	a := mustQueryAPI(t, fakeQuerier{func(_ context.Context, q LogQuery) (*LogResult, error) {
		got = q
		return &LogResult{
			Columns:   []wire.QueryColumn{{Name: "ResultType", Type: "string"}, {Name: "count_", Type: "long"}},
			Rows:      [][]any{{"404104", int64(3)}, {"", int64(12)}},
			Truncated: true,
			Render:    &LogRender{Visualization: "timechart", Properties: map[string]string{"title": "drops"}},
		}, nil
	}})
	status, body := serveQuery(t, a, queryCall{
		target: "/v1/query?timespan=P1D",
		body:   `{"query": "AzureDiagnostics | summarize count() by ResultType", "timespan": "PT1H"}`,
		header: http.Header{"Prefer": {"include-render=true, include-statistics=true", "wait=7"}},
	})
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	if got.Query != "AzureDiagnostics | summarize count() by ResultType" {
		t.Errorf("querier got query %q", got.Query)
	}
	if strings.Join(got.Timespans, ",") != "PT1H,P1D" {
		t.Errorf("querier got timespans %q, want the body's PT1H and the URL's P1D", got.Timespans)
	}
	if got.Timeout != 7*time.Second {
		t.Errorf("querier got timeout %v, want 7s from Prefer: wait=7", got.Timeout)
	}
	var resp struct {
		Tables []struct {
			Name    string
			Columns []map[string]string
			Rows    [][]any
		}
		Render     map[string]any
		Statistics struct {
			Query struct {
				ExecutionTime     *float64
				DatasetStatistics []struct{ TableRowCount int }
			}
		}
		Truncated bool
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if len(resp.Tables) != 1 || resp.Tables[0].Name != "PrimaryResult" {
		t.Fatalf("tables = %+v, want one PrimaryResult", resp.Tables)
	}
	tb := resp.Tables[0]
	if len(tb.Columns) != 2 || tb.Columns[1]["name"] != "count_" || tb.Columns[1]["type"] != "long" {
		t.Errorf("columns = %v", tb.Columns)
	}
	if len(tb.Rows) != 2 || tb.Rows[0][0] != "404104" || tb.Rows[1][1] != 12.0 {
		t.Errorf("rows = %v", tb.Rows)
	}
	if resp.Render["visualization"] != "timechart" || resp.Render["title"] != "drops" {
		t.Errorf("render = %v, want visualization and title flattened as Log Analytics does", resp.Render)
	}
	if !resp.Truncated {
		t.Errorf("truncated missing from %s", body)
	}
	st := resp.Statistics.Query
	if st.ExecutionTime == nil || len(st.DatasetStatistics) != 1 || st.DatasetStatistics[0].TableRowCount != 2 {
		t.Errorf("statistics = %+v in %s", st, body)
	}
}

func TestQueryGetAndEmptyResult(t *testing.T) {
	a := mustQueryAPI(t, fakeQuerier{func(_ context.Context, q LogQuery) (*LogResult, error) {
		if q.Query != "AzureMetrics | take 1" {
			t.Errorf("query = %q", q.Query)
		}
		return &LogResult{}, nil
	}})
	status, body := serveQuery(t, a, queryCall{method: http.MethodGet, target: "/v1/query?query=AzureMetrics%20%7C%20take%201"})
	want := `{"tables":[{"name":"PrimaryResult","columns":[],"rows":[]}]}`
	if status != http.StatusOK || strings.TrimSpace(body) != want {
		t.Errorf("GET = %d %s, want 200 %s", status, body, want)
	}
}

func TestQueryErrors(t *testing.T) {
	refuse := func(err error) LogQuerier {
		return fakeQuerier{func(context.Context, LogQuery) (*LogResult, error) { return nil, err }}
	}
	never := fakeQuerier{func(context.Context, LogQuery) (*LogResult, error) {
		t.Error("the querier was called for a request that should be refused first")
		return nil, nil
	}}
	valid := `{"query":"AzureDiagnostics"}`
	tests := []struct {
		name       string
		q          LogQuerier
		call       queryCall
		status     int
		code, info string
		inner      string
		line, pos  int
	}{
		{"semantic error with position", refuse(&QueryError{Code: "SemanticError", Message: "'category' is not a column of AzureDiagnostics; did you mean 'Category'?", Line: 2, Pos: 9}),
			queryCall{body: valid}, 400, "BadArgumentError", "line 2, col 9: 'category' is not a column", "SemanticError", 2, 9},
		{"timeout", refuse(&QueryError{Code: CodeQueryTimeout, Message: "the query ran longer than 30s"}),
			queryCall{body: valid}, 504, "GatewayTimeout", "ran longer than 30s", "QueryTimeout", 0, 0},
		{"deadline from the store", refuse(context.DeadlineExceeded),
			queryCall{body: valid}, 504, "GatewayTimeout", "ran out of time", "QueryTimeout", 0, 0},
		{"internal error hidden", refuse(io.ErrUnexpectedEOF),
			queryCall{body: valid}, 500, "InternalServerError", "internal error", "", 0, 0},
		{"truncated JSON", never, queryCall{body: `{"query": "x"`}, 400, "BadArgumentError", "the JSON ends before the object is closed", "InvalidRequest", 0, 0},
		{"malformed JSON", never, queryCall{body: `{"query" "x"}`}, 400, "BadArgumentError", "malformed JSON at byte", "InvalidRequest", 0, 0},
		{"query not a string", never, queryCall{body: `{"query": 5}`}, 400, "BadArgumentError", `field "query" must be a string`, "InvalidRequest", 0, 0},
		{"unknown field", never, queryCall{body: `{"query": "x", "workspaces": ["a"]}`}, 400, "BadArgumentError", `unknown field "workspaces"; the fields are query and timespan`, "InvalidRequest", 0, 0},
		{"missing query", never, queryCall{body: `{"timespan": "PT1H"}`}, 400, "BadArgumentError", "the query is empty", "InvalidRequest", 0, 0},
		{"blank query", never, queryCall{body: `{"query": "  \n "}`}, 400, "BadArgumentError", "the query is empty", "InvalidRequest", 0, 0},
		{"empty body", never, queryCall{body: ``}, 400, "BadArgumentError", "the request body is empty", "InvalidRequest", 0, 0},
		{"two values", never, queryCall{body: valid + valid}, 400, "BadArgumentError", "more than one JSON value", "InvalidRequest", 0, 0},
		{"huge body", never, queryCall{body: `{"query": "` + strings.Repeat("x", maxBody) + `"}`}, 413, "PayloadTooLargeError", "over the limit", "MessageTooLarge", 0, 0},
		{"bad Prefer wait", never, queryCall{body: valid, header: http.Header{"Prefer": {"wait=soon"}}}, 400, "BadArgumentError", "Prefer: wait=soon", "InvalidRequest", 0, 0},
		{"no token", never, queryCall{body: valid, policy: "-"}, 401, "AuthenticationFailed", "Authorization header missing", "IotHubUnauthorizedAccess", 0, 0},
		{"policy without ServiceConnect", never, queryCall{body: valid, policy: "registryRead"}, 401, "AuthenticationFailed", "ServiceConnect", "IotHubUnauthorizedAccess", 0, 0},
		{"not configured", nil, queryCall{body: valid}, 503, "ServiceUnavailableError", "not configured", "ServiceUnavailable", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := serveQuery(t, mustQueryAPI(t, tc.q), tc.call)
			var eb wire.QueryErrorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Fatalf("body %s is not JSON: %v", body, err)
			}
			e := eb.Error
			if status != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.info) {
				t.Errorf("answer = %d %s, want %d code %s message containing %q", status, body, tc.status, tc.code, tc.info)
			}
			switch {
			case tc.inner == "" && e.InnerError != nil:
				t.Errorf("innererror = %+v, want none", e.InnerError)
			case tc.inner != "" && (e.InnerError == nil || e.InnerError.Code != tc.inner || e.InnerError.Line != tc.line || e.InnerError.Pos != tc.pos):
				t.Errorf("innererror = %+v in %s, want code %s line %d pos %d", e.InnerError, body, tc.inner, tc.line, tc.pos)
			}
		})
	}
}

// TestQueryCancelledWhenClientGoesAway checks the querier's context ends
// when the client hangs up mid-query.
func TestQueryCancelledWhenClientGoesAway(t *testing.T) {
	started, ended := make(chan struct{}), make(chan error, 1)
	a := mustQueryAPI(t, fakeQuerier{func(ctx context.Context, _ LogQuery) (*LogResult, error) {
		close(started)
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
			return nil, ctx.Err()
		case <-time.After(20 * time.Second):
			ended <- nil
			return &LogResult{}, nil
		}
	}})
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/query", strings.NewReader(`{"query":"AzureDiagnostics"}`))
	req.Header.Set("Authorization", mustToken(t, "service"))
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the query never reached the querier")
	}
	cancel()
	if err := <-errc; err == nil {
		t.Error("the client's request succeeded after it was cancelled")
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Error("the querier ran to its end: its context was not cancelled when the client left")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the querier's context was not cancelled within 10s of the client leaving")
	}
}
