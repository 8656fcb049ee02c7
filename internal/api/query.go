package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// LogQuerier runs KQL over the hub's diagnostic logs (the AzureDiagnostics
// and AzureMetrics tables). A query it refuses (bad syntax, an unknown
// column, a bad timespan, a timeout) is a *QueryError; when ctx ends
// first it stops and returns ctx's error.
type LogQuerier interface {
	QueryLogs(ctx context.Context, q LogQuery) (*LogResult, error)
}

// LogQuery is one query to run.
type LogQuery struct {
	Query string
	// Timespans are ISO 8601 timespans ("PT1H", "start/end") from the
	// body and the URL; the query sees the rows inside all of them.
	Timespans []string
	// Timeout, when not zero, is shorter than the querier's own limit:
	// the client's Prefer: wait=N.
	Timeout time.Duration
}

// LogResult is a query's one result table.
type LogResult struct {
	Columns   []wire.QueryColumn
	Rows      [][]any // Log Analytics JSON values: string, int64, float64, bool, nil, json.RawMessage
	Truncated bool    // the row cap cut the result
	Render    *LogRender
}

// LogRender is the query's render operator: a visualization such as
// "timechart" and its properties (title, xcolumn, …).
type LogRender struct {
	Visualization string
	Properties    map[string]string
}

// QueryError is a query the querier refused. Code is the precise,
// Log Analytics style code: SyntaxError, SemanticError, LimitExceeded,
// InvalidTimespan, QueryTimeout. Line and Pos (the column) are 1-based,
// 0 when the error has no place in the query text.
type QueryError struct {
	Code      string
	Message   string
	Line, Pos int
}

func (e *QueryError) Error() string {
	return (&wire.QueryError{Message: e.Message, Line: e.Line, Pos: e.Pos}).Error()
}

// CodeQueryTimeout is the QueryError code of a query that ran out of time;
// the API answers it with 504 GatewayTimeout, as Log Analytics does.
const CodeQueryTimeout = "QueryTimeout"

// handleQuery registers a /v1/query route: ServiceConnect, versioned by
// its path, errors in Log Analytics' shape.
func (a *API) handleQuery(pattern string) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err := a.authorize(r, tether.ServiceConnect)
		if err == nil && a.o.Logs == nil {
			err = tether.Errorf(tether.ServiceUnavailable, "log queries are not configured on this hub")
		}
		if err == nil {
			err = a.query(w, r)
		}
		if err != nil {
			a.writeQueryError(w, r, err)
		}
	})
}

// query answers POST /v1/query {"query","timespan"} and
// GET /v1/query?query=&timespan=.
func (a *API) query(w http.ResponseWriter, r *http.Request) error {
	var in wire.QueryRequest
	if r.Method == http.MethodGet {
		in.Query = r.URL.Query().Get("query")
	} else if err := decodeQuery(r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Query) == "" {
		return badRequest("the query is empty: send {\"query\": \"AzureDiagnostics | take 10\"}")
	}
	q := LogQuery{Query: in.Query}
	for _, ts := range []string{in.Timespan, r.URL.Query().Get("timespan")} {
		if ts != "" {
			q.Timespans = append(q.Timespans, ts)
		}
	}
	prefer := parsePrefer(r.Header.Values("Prefer"))
	if s, ok := prefer["wait"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return badRequest("Prefer: wait=%s is not a whole number of seconds of at least 1", s)
		}
		q.Timeout = time.Duration(n) * time.Second
	}
	start := time.Now()
	res, err := a.o.Logs.QueryLogs(r.Context(), q)
	if err != nil {
		return err
	}
	out := wire.QueryResponse{
		Tables:    []wire.QueryTable{{Name: "PrimaryResult", Columns: res.Columns, Rows: res.Rows}},
		Truncated: res.Truncated,
	}
	if out.Tables[0].Columns == nil {
		out.Tables[0].Columns = []wire.QueryColumn{}
	}
	if out.Tables[0].Rows == nil {
		out.Tables[0].Rows = [][]any{}
	}
	if rd := res.Render; rd != nil {
		out.Render = map[string]any{}
		for k, v := range rd.Properties {
			out.Render[k] = v
		}
		out.Render["visualization"] = rd.Visualization
	}
	if prefer["include-statistics"] == "true" {
		out.Statistics = &wire.QueryStatistics{Query: wire.QueryStats{
			ExecutionTime:     time.Since(start).Seconds(),
			DatasetStatistics: []wire.DatasetStats{{TableRowCount: len(res.Rows)}},
		}}
	}
	return writeJSON(w, http.StatusOK, "", out)
}

// decodeQuery reads the POST body strictly: a JSON object with query and
// timespan, nothing else.
func decodeQuery(r *http.Request, in *wire.QueryRequest) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tether.Errorf(tether.MessageTooLarge, "the request body is over the limit of %d bytes", maxBody)
		}
		return badRequest("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body is empty: send {\"query\": \"…\", \"timespan\": \"PT1H\"}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest("the request body has the unknown field %s; the fields are query and timespan", f)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return badRequest("the request body is not valid: the JSON ends before the object is closed")
		}
		return badRequest("the request body is not valid: %s", describeJSONError(err))
	}
	if dec.More() {
		return badRequest("the request body holds more than one JSON value")
	}
	return nil
}

// parsePrefer reads Prefer headers ("include-statistics=true, wait=30")
// into lower-case names and values.
func parsePrefer(hs []string) map[string]string {
	m := map[string]string{}
	for _, h := range hs {
		for _, p := range strings.Split(h, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
				m[k] = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
			}
		}
	}
	return m
}

// requestError is a bad request to the query endpoint (not a bad query).
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{fmt.Sprintf(format, args...)}
}
