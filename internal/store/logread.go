package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

// LogFilter selects Connections rows for [Store.ConnectionLogs].
type LogFilter struct {
	DeviceID     string    // "" for every device (and rows with no device)
	Since, Until time.Time // TimeGenerated in [Since, Until); a zero Until means no upper bound
	Limit        int       // at most this many rows, the newest; 0 means 100000
}

// ConnectionLogs returns the Connections rows that f selects, oldest
// first, and whether the limit left older rows out. A device's rows come
// through the (_DeviceId, TimeGenerated) index.
func (s *Store) ConnectionLogs(ctx context.Context, f LogFilter) ([]tether.LogRecord, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 100000
	}
	until := int64(1<<63 - 1)
	if !f.Until.IsZero() {
		until = f.Until.UnixNano()
	}
	q := `SELECT TimeGenerated, OperationName, Level, ResultType, ResultDescription, DurationMs, properties_s, _DeviceId, _Reason
		FROM AzureDiagnostics WHERE Category = ? AND TimeGenerated >= ? AND TimeGenerated < ?`
	args := []any{tether.CategoryConnections, f.Since.UnixNano(), until}
	if f.DeviceID != "" {
		q += ` AND _DeviceId = ?`
		args = append(args, f.DeviceID)
	}
	q += ` ORDER BY TimeGenerated DESC, rowid DESC LIMIT ?`
	args = append(args, f.Limit+1)
	rows, err := s.logs.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("read connection logs: %w", err)
	}
	defer rows.Close()
	var out []tether.LogRecord
	for rows.Next() {
		var r tether.LogRecord
		var t int64
		var dur *int64
		var reason string
		if err := rows.Scan(&t, &r.OperationName, &r.Level, &r.ResultType, &r.ResultDescription, &dur, &r.Properties, &r.DeviceID, &reason); err != nil {
			return nil, false, fmt.Errorf("read connection logs: %w", err)
		}
		r.Time, r.Category, r.DurationMs, r.Reason = time.Unix(0, t).UTC(), tether.CategoryConnections, dur, tether.Reason(reason)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read connection logs: %w", err)
	}
	truncated := len(out) > f.Limit
	if truncated {
		out = out[:f.Limit]
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, truncated, nil
}

// MetricSamples returns the AzureMetrics rows of the metric name with
// TimeGenerated in [since, until), oldest first.
func (s *Store) MetricSamples(ctx context.Context, name string, since, until time.Time) ([]MetricSample, error) {
	rows, err := s.logs.r.QueryContext(ctx, `SELECT TimeGenerated, MetricName, coalesce(Total, 0), coalesce(Count, 0),
		coalesce(Minimum, 0), coalesce(Maximum, 0), coalesce(Average, 0), TimeGrain, UnitName
		FROM AzureMetrics WHERE MetricName = ? AND TimeGenerated >= ? AND TimeGenerated < ? ORDER BY TimeGenerated`,
		name, since.UnixNano(), until.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	defer rows.Close()
	var out []MetricSample
	for rows.Next() {
		var m MetricSample
		var t int64
		var count float64
		if err := rows.Scan(&t, &m.Name, &m.Total, &count, &m.Min, &m.Max, &m.Average, &m.TimeGrain, &m.Unit); err != nil {
			return nil, fmt.Errorf("read metrics: %w", err)
		}
		m.Time, m.Count = time.Unix(0, t).UTC(), int64(count)
		out = append(out, m)
	}
	return out, rows.Err()
}
