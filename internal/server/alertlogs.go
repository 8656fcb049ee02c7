package server

import (
	"context"
	"time"

	"github.com/tether-iot/tether/internal/alert"
	"github.com/tether-iot/tether/internal/kql"
)

// alertLogs is internal/kql over the logs pool as the alert engine's
// LogQuerier: log rules are checked when created and run over their
// window.
type alertLogs struct{ db kql.Querier }

var _ alert.LogQuerier = alertLogs{}

// Check compiles query; its error carries the line and column.
func (l alertLogs) Check(query string) error {
	_, err := kql.Compile(query, kql.Options{Now: time.Now()})
	return err
}

// Query runs query over [from, to], with to as now() for ago().
func (l alertLogs) Query(ctx context.Context, query string, from, to time.Time) (alert.LogResult, error) {
	res, err := kql.Query(ctx, l.db, query, kql.Options{Now: to, Timespan: &kql.TimeRange{Start: from, End: to}})
	if err != nil {
		return alert.LogResult{}, err
	}
	out := alert.LogResult{Columns: make([]string, len(res.Columns)), Rows: res.Rows}
	for i, c := range res.Columns {
		out.Columns[i] = c.Name
	}
	return out, nil
}
