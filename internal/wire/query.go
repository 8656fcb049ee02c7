package wire

import "strconv"

// QueryRequest is the body of POST /v1/query, in the shape of the Log
// Analytics query API: a KQL query and an optional ISO 8601 timespan
// ("PT1H", "P1D", "2026-11-25T00:00:00Z/PT6H").
type QueryRequest struct {
	Query    string `json:"query"`
	Timespan string `json:"timespan,omitempty"`
}

// QueryResponse is the answer of POST /v1/query: Log Analytics' response
// with its one table, "PrimaryResult". Render is the query's render
// operator ({"visualization":"timechart", …}); Statistics is present when
// the request preferred include-statistics=true. Truncated is Tether's
// own: the row cap cut the result.
type QueryResponse struct {
	Tables     []QueryTable     `json:"tables"`
	Render     map[string]any   `json:"render,omitempty"`
	Statistics *QueryStatistics `json:"statistics,omitempty"`
	Truncated  bool             `json:"truncated,omitempty"`
}

// QueryTable is one result table. Each row holds one value per column:
// a string, a number, true or false, null, or (for dynamic columns) any
// JSON value. Datetimes are RFC 3339 strings with 7 fraction digits,
// timespans "[d.]hh:mm:ss[.fffffff]".
type QueryTable struct {
	Name    string        `json:"name"`
	Columns []QueryColumn `json:"columns"`
	Rows    [][]any       `json:"rows"`
}

// QueryColumn names a result column and its KQL type: string, datetime,
// long, int, real, bool, dynamic or timespan.
type QueryColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// QueryStatistics is the statistics member of a query answer.
type QueryStatistics struct {
	Query QueryStats `json:"query"`
}

// QueryStats describes one query's execution: its time in seconds and
// the rows it returned.
type QueryStats struct {
	ExecutionTime     float64        `json:"executionTime"`
	DatasetStatistics []DatasetStats `json:"datasetStatistics"`
}

// DatasetStats is the size of one result table.
type DatasetStats struct {
	TableRowCount int `json:"tableRowCount"`
}

// QueryErrorBody is Log Analytics' error answer (the OneAPI error shape):
// {"error":{"message","code","innererror":{"code","message","line","pos"}}}.
type QueryErrorBody struct {
	Error QueryErrorDetail `json:"error"`
}

// QueryErrorDetail is the error member of a QueryErrorBody. Code is the
// class (BadArgumentError, GatewayTimeout, AuthenticationFailed, …);
// InnerError says precisely what went wrong.
type QueryErrorDetail struct {
	Message    string           `json:"message"`
	Code       string           `json:"code"`
	InnerError *QueryInnerError `json:"innererror,omitempty"`
}

// QueryInnerError is the precise error: a code such as SyntaxError,
// SemanticError or QueryTimeout, the message, and for an error in the
// query text its 1-based line and column (pos).
type QueryInnerError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Pos     int    `json:"pos,omitempty"`
}

// QueryError is a refused query as a Go error: the HTTP status and the
// error body's fields.
type QueryError struct {
	Status    int
	Code      string // the class: BadArgumentError, GatewayTimeout, …
	InnerCode string // SyntaxError, SemanticError, QueryTimeout, …; may be ""
	Message   string // the precise message, without its position
	Line, Pos int    // 1-based; 0 when the error has no position in the query
}

// Error returns "line L, col P: message", or the message alone.
func (e *QueryError) Error() string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line) + ", col " + strconv.Itoa(e.Pos) + ": " + e.Message
	}
	return e.Message
}

// Err returns the body as a *QueryError.
func (b QueryErrorBody) Err(status int) *QueryError {
	e := &QueryError{Status: status, Code: b.Error.Code, Message: b.Error.Message}
	if in := b.Error.InnerError; in != nil {
		e.InnerCode, e.Line, e.Pos = in.Code, in.Line, in.Pos
		if in.Message != "" {
			e.Message = in.Message
		}
	}
	return e
}
