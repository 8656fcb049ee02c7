package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/kql"
	"github.com/tether-iot/tether/internal/wire"
)

// logQuerier runs KQL with internal/kql over the store's read-only logs
// pool, for the API's /v1/query (and so for tether logs query). Each
// query gets its own deadline and the row cap.
//
// The compiler's SQLite functions (kql_has, the JSON helpers, …) are
// registered by internal/kql's init, process-wide, before any connection
// opens: importing kql here, in the package that opens the store, is what
// makes them available on the pool's connections.
type logQuerier struct {
	db      kql.Querier
	timeout time.Duration
	maxRows int
	now     func() time.Time
}

var _ api.LogQuerier = logQuerier{}

// QueryLogs runs q; the request's timespans apply together (their
// intersection), and q.Timeout may shorten the hub's limit.
func (l logQuerier) QueryLogs(ctx context.Context, q api.LogQuery) (*api.LogResult, error) {
	now := l.now()
	opts := kql.Options{Now: now, MaxRows: l.maxRows}
	for _, s := range q.Timespans {
		tr, err := kql.ParseTimespan(s, now)
		if err != nil {
			msg := err.Error()
			var ke *kql.Error
			if errors.As(err, &ke) {
				msg = ke.Message
			}
			return nil, &api.QueryError{Code: "InvalidTimespan", Message: fmt.Sprintf("timespan %q: %s", s, msg)}
		}
		if t := opts.Timespan; t != nil {
			if t.Start.After(tr.Start) {
				tr.Start = t.Start
			}
			if t.End.Before(tr.End) {
				tr.End = t.End
			}
		}
		opts.Timespan = &tr
	}
	timeout := l.timeout
	if q.Timeout > 0 && q.Timeout < timeout {
		timeout = q.Timeout
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := kql.Query(qctx, l.db, q.Query, opts)
	if err != nil {
		return nil, l.queryError(ctx, qctx, err, timeout)
	}
	out := &api.LogResult{Rows: res.Rows, Truncated: res.Truncated}
	for _, c := range res.Columns {
		out.Columns = append(out.Columns, wire.QueryColumn{Name: c.Name, Type: c.Type})
	}
	if r := res.Render; r != nil {
		out.Render = &api.LogRender{Visualization: r.Visualization, Properties: r.Properties}
	}
	return out, nil
}

// queryError maps a compiler or executor error to the API's: the
// client's own cancellation stays ctx's error, a deadline becomes a
// QueryTimeout that names the limit, a kql.Error keeps its code and
// position; anything else is internal.
func (l logQuerier) queryError(ctx, qctx context.Context, err error, timeout time.Duration) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ke *kql.Error
	isKQL := errors.As(err, &ke)
	if errors.Is(qctx.Err(), context.DeadlineExceeded) || (isKQL && ke.Code == kql.CodeTimeout) {
		return &api.QueryError{Code: api.CodeQueryTimeout, Message: fmt.Sprintf(
			"the query ran longer than %v, the hub's limit (tether serve --query-timeout); narrow it with a shorter time range or a more selective where", timeout)}
	}
	if isKQL {
		return &api.QueryError{Code: ke.Code, Message: ke.Message, Line: ke.Line, Pos: ke.Col}
	}
	return err
}

// newLogQuerier returns the querier over db with cfg's limits.
func newLogQuerier(db kql.Querier, timeout time.Duration, maxRows int) logQuerier {
	return logQuerier{db: db, timeout: timeout, maxRows: maxRows, now: time.Now}
}
