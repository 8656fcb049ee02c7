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
	m := max(n-len(p.fill), 1) // the columns SQL returns (one NULL when all are fixed)
	dest := make([]any, m)
	ptrs := make([]any, m)
	fixed := make([]any, len(p.fill))
	for i, f := range p.fill {
		fixed[i] = convert(f.val, p.Columns[f.i].Type)
	}
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
		for i, j, k := 0, 0, 0; i < n; i++ {
			if k < len(p.fill) && p.fill[k].i == i {
				row[i] = fixed[k]
				k++
				continue
			}
			row[i] = convert(dest[j], p.Columns[i].Type)
			j++
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

// writeWords are SQL keywords that only statements which change
// something contain; compiled plans never hold them outside quotes.
var writeWords = map[string]bool{"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true,
	"UPSERT": true, "CREATE": true, "DROP": true, "ALTER": true, "ATTACH": true, "DETACH": true,
	"PRAGMA": true, "VACUUM": true, "REINDEX": true, "ANALYZE": true, "BEGIN": true, "COMMIT": true,
	"ROLLBACK": true, "SAVEPOINT": true, "RELEASE": true}

// readOnly refuses anything but one SELECT or WITH statement: the first
// word must be SELECT or WITH, and outside quoted strings and names there
// may be no ';' and none of writeWords (WITH x AS (...) DELETE ... is a
// write).
func readOnly(sql string) error {
	refuse := &Error{Code: CodeExecution, Message: "refusing to run a statement that is not a query (SELECT or WITH)"}
	first := ""
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := byte(c)
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(sql[i+1:], end)
			if j < 0 {
				return refuse
			}
			i += j + 2
		case c == ';':
			if strings.TrimSpace(sql[i+1:]) != "" {
				return refuse
			}
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return refuse
			}
			i += j + 4
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			w := strings.ToUpper(sql[i:j])
			if first == "" {
				first = w
			}
			if writeWords[w] {
				return refuse
			}
			i = j
		default:
			i++
		}
	}
	if first != "SELECT" && first != "WITH" {
		return refuse
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
		if _, ok := v.(string); ok {
			return v // as it is: boxing the string again costs an allocation per cell
		}
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
