package kql

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Options for one query. Now is the single clock reading for now()/ago()
// and the default range; the zero Now means the time Compile is called.
type Options struct {
	Now          time.Time
	Timespan     *TimeRange    // the request's timespan (REST/CLI), applied in addition to query filters; nil = none
	DefaultRange time.Duration // applied only when Timespan is nil and the query does not filter TimeGenerated; 0 = 24h
	MaxRows      int           // row cap, 0 = 30000; more rows => Result.Truncated
	Tables       []Table       // extra tables beyond the built-in AzureDiagnostics, AzureMetrics and Alerts (one of the same name replaces it); may be nil
}

// TimeRange is the closed interval [Start, End].
type TimeRange struct{ Start, End time.Time }

// Table is the KQL view of a SQLite table. Column names are the SQL
// names too, and no two may differ only in case (SQLite folds them).
type Table struct {
	Name       string
	Columns    []Column
	TimeColumn string // the datetime column the time range applies to, such as "TimeGenerated"; "" = none
	// hourIndex: the table has an index led by TimeColumn / hourNanos
	// (the store's AzureDiagnostics_hour), which bin(TimeColumn, 1h)
	// groups by; see hourKey.
	hourIndex bool
}

// Column is a named, typed column. Type is a Log Analytics type name:
// "string", "datetime", "long", "int", "real", "bool", "dynamic" or
// "timespan".
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Plan is a compiled query: one parameterised SQLite statement.
type Plan struct {
	SQL     string
	Args    []any
	Columns []Column // output columns, in order, with KQL types
	Render  *Render  // nil when no render operator
	MaxRows int
	// fill lists the output columns that SQL does not return because
	// they hold one value in every row (see col.fixed), in column order.
	fill []fixedCol
}

// fixedCol is output column i, holding val in every row.
type fixedCol struct {
	i   int
	val any
}

// Render is the render operator's visualization, passed back to clients.
type Render struct {
	Visualization string            `json:"visualization"`
	Properties    map[string]string `json:"properties,omitempty"`
}

// Querier runs a read query; *sql.DB, *sql.Conn and *sql.Tx are Queriers.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Result is a query's output: rows of Log Analytics JSON values (see
// [Execute]).
type Result struct {
	Columns   []Column
	Rows      [][]any
	Truncated bool
	Render    *Render
}

// Error codes.
const (
	CodeSyntax        = "SyntaxError"
	CodeSemantic      = "SemanticError"
	CodeLimitExceeded = "LimitExceeded"
	CodeTimeout       = "QueryTimeout"
	CodeCanceled      = "QueryCanceled"
	CodeExecution     = "ExecutionError"
)

// Error is a query error with a position. Code is a Log Analytics style
// code: "SyntaxError", "SemanticError" (unknown column/table/function,
// type errors, unsupported operators), "LimitExceeded", "QueryTimeout",
// "QueryCanceled" or "ExecutionError".
type Error struct {
	Code    string
	Message string
	Line    int // 1-based; 0 when not positional
	Col     int
	cause   error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d, col %d: %s", e.Line, e.Col, e.Message)
	}
	return e.Message
}

// Unwrap returns the underlying error (context.Canceled for a cancelled
// query, for example), or nil.
func (e *Error) Unwrap() error { return e.cause }

// Query compiles and executes a query.
func Query(ctx context.Context, db Querier, query string, opts Options) (*Result, error) {
	p, err := Compile(query, opts)
	if err != nil {
		return nil, err
	}
	return Execute(ctx, db, p)
}
