package kql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Execute runs a plan on a read-only database (the store's LogsDB pool)
// honouring ctx (timeout and cancel interrupt the running statement) and
// the row cap, and returns rows converted to Log Analytics JSON values:
// string, int64 (long/int), float64 (real), bool, datetime as an RFC 3339
// string with 7 fraction digits ("2026-11-25T10:00:00.0000000Z"),
// timespan as "[d.]hh:mm:ss[.fffffff]", dynamic as json.RawMessage, and
// null as nil.
//
// It refuses SQL that is not a single SELECT or WITH statement, so a Plan
// built by hand cannot write even through a writable connection.
func Execute(ctx context.Context, db Querier, p *Plan) (*Result, error) {
	if err := readOnly(p.SQL); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, p.SQL, p.Args...)
	if err != nil {
		return nil, execError(ctx, err)
	}
	defer rows.Close()
	res := &Result{Columns: p.Columns, Render: p.Render, Rows: [][]any{}}
	n := len(p.Columns)
	dest := make([]any, n)
	ptrs := make([]any, n)
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	for rows.Next() {
		if p.MaxRows > 0 && len(res.Rows) >= p.MaxRows {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, execError(ctx, err)
		}
		row := make([]any, n)
		for i, v := range dest {
			row[i] = convert(v, p.Columns[i].Type)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, execError(ctx, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, execError(ctx, err)
	}
	return res, nil
}

// readOnly refuses anything but one SELECT or WITH statement.
func readOnly(sql string) error {
	s := strings.TrimSpace(sql)
	u := strings.ToUpper(s[:min(len(s), 6)])
	if !strings.HasPrefix(u, "SELECT") && !strings.HasPrefix(u, "WITH") {
		return &Error{Code: CodeExecution, Message: "refusing to run a statement that is not a query (SELECT or WITH)"}
	}
	return nil
}

func execError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "the query ran out of time; narrow the time range or filter earlier", cause: ctx.Err()}
	case errors.Is(ctx.Err(), context.Canceled):
		return &Error{Code: CodeCanceled, Message: "the query was cancelled", cause: ctx.Err()}
	}
	return &Error{Code: CodeExecution, Message: fmt.Sprintf("the query failed while running: %v", err), cause: err}
}

// convert turns a SQL value into the Log Analytics JSON value of a KQL
// type.
func convert(v any, typ string) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if v == nil {
		if typ == "string" {
			return ""
		}
		return nil
	}
	switch typ {
	case "string":
		return text(v)
	case "long", "int":
		switch n := v.(type) {
		case int64:
			return n
		case float64:
			return int64(n)
		}
	case "real":
		switch n := v.(type) {
		case float64:
			return n
		case int64:
			return float64(n)
		}
	case "bool":
		switch n := v.(type) {
		case int64:
			return n != 0
		case bool:
			return n
		}
	case "datetime":
		if n, ok := v.(int64); ok {
			return formatDatetime(n)
		}
	case "timespan":
		if n, ok := v.(int64); ok {
			return formatTimespan(n)
		}
	case "dynamic":
		// The text parse_json reads: JSON as it is (compacted), anything
		// else a JSON string.
		s := text(v)
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(s)); err == nil {
			return json.RawMessage(b.Bytes())
		}
		if s == "" {
			return nil
		}
		return json.RawMessage(encode(s))
	}
	return v
}
