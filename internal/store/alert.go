package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// AlertRule is a stored alert rule: its definition and state as JSON that
// internal/alert owns.
type AlertRule struct {
	Name    string
	Spec    []byte
	Status  []byte
	Created time.Time
	Updated time.Time
}

// AlertEvent is one state change of an alert rule: a row of the Alerts
// table in the logs file.
type AlertEvent struct {
	Time          time.Time
	Rule          string
	State         string
	PreviousState string
	Severity      int
	SignalType    string
	MetricName    string
	Aggregation   string
	Operator      string
	Threshold     float64
	Value         float64
	Window        time.Duration
	Query         string
	ResultCount   int64
	Description   string
}

// alertsTable is the logs file's table of alert state changes.
const alertsTable = "Alerts"

// PutAlertRule creates or replaces r.Name (its spec, status and update
// time; the creation time is kept) and reports whether it created it.
func (s *Store) PutAlertRule(ctx context.Context, r AlertRule) (bool, error) {
	var created bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alert_rules SET spec = ?, status = ?, updated = ? WHERE name = ?`,
			string(r.Spec), string(r.Status), formatTime(r.Updated), r.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO alert_rules (name, spec, status, created, updated) VALUES (?, ?, ?, ?, ?)`,
			r.Name, string(r.Spec), string(r.Status), formatTime(r.Created), formatTime(r.Updated))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("put alert rule %q: %w", r.Name, err)
	}
	return created, nil
}

// AlertRules returns every rule, by name.
func (s *Store) AlertRules(ctx context.Context) ([]AlertRule, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, spec, status, created, updated FROM alert_rules ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	defer rows.Close()
	var out []AlertRule
	for rows.Next() {
		var r AlertRule
		var spec, status, created, updated string
		if err := rows.Scan(&r.Name, &spec, &status, &created, &updated); err != nil {
			return nil, fmt.Errorf("read alert rules: %w", err)
		}
		r.Spec, r.Status = []byte(spec), []byte(status)
		if r.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		if r.Updated, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	return out, nil
}

// DeleteAlertRule removes a rule; its history stays.
func (s *Store) DeleteAlertRule(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM alert_rules WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete alert rule %q: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &tether.Error{Kind: tether.KindNotFound, Code: tether.NotFound, Message: fmt.Sprintf("No alert rule named '%s'.", name)}
		}
		return nil
	})
}

// SetAlertStatus replaces a rule's state; an unknown (deleted) rule is
// not an error.
func (s *Store) SetAlertStatus(ctx context.Context, name string, status []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE alert_rules SET status = ? WHERE name = ?`, string(status), name)
		if err != nil {
			return fmt.Errorf("set alert status %q: %w", name, err)
		}
		return nil
	})
}

// AppendAlertEvents writes state changes to the Alerts table of the logs
// file, with the hub's resource ID.
func (s *Store) AppendAlertEvents(ctx context.Context, es []AlertEvent) error {
	if len(es) == 0 {
		return nil
	}
	l := s.logs
	rid := l.hub.resourceID
	now := time.Now()
	err := writeTx(ctx, l.w, func(tx *sql.Tx) error {
		for _, e := range es {
			if _, err := tx.ExecContext(ctx, `INSERT INTO Alerts (TimeGenerated, ResourceId, _ResourceId, AlertName, AlertRuleId,
				Severity, State, PreviousState, SignalType, MetricName, Aggregation, Operator, Threshold, MetricValue,
				WindowSize, Query, ResultCount, Description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				logTime(e.Time, now), rid, strings.ToLower(rid), e.Rule, rid+"/ALERTRULES/"+strings.ToUpper(e.Rule),
				e.Severity, e.State, e.PreviousState, e.SignalType, e.MetricName, e.Aggregation, e.Operator,
				nullReal(e.Threshold), nullReal(e.Value), isoWindow(e.Window), e.Query, e.ResultCount, e.Description); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write alert events: %w", err)
	}
	return nil
}

// AlertEvents returns the newest limit state changes of rule (or of every
// rule for ""), newest first.
func (s *Store) AlertEvents(ctx context.Context, rule string, limit int) ([]AlertEvent, error) {
	q := `SELECT TimeGenerated, AlertName, State, PreviousState, Severity, SignalType, MetricName, Aggregation, Operator,
		coalesce(Threshold, 0), coalesce(MetricValue, 0), WindowSize, Query, ResultCount, Description FROM Alerts`
	args := []any{}
	if rule != "" {
		q += ` WHERE AlertName = ?`
		args = append(args, rule)
	}
	q += ` ORDER BY TimeGenerated DESC, rowid DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.logs.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read alert events: %w", err)
	}
	defer rows.Close()
	var out []AlertEvent
	for rows.Next() {
		var e AlertEvent
		var t int64
		var window string
		if err := rows.Scan(&t, &e.Rule, &e.State, &e.PreviousState, &e.Severity, &e.SignalType, &e.MetricName,
			&e.Aggregation, &e.Operator, &e.Threshold, &e.Value, &window, &e.Query, &e.ResultCount, &e.Description); err != nil {
			return nil, fmt.Errorf("read alert events: %w", err)
		}
		e.Time = time.Unix(0, t).UTC()
		e.Window = parseISOWindow(window)
		out = append(out, e)
	}
	return out, rows.Err()
}

// isoWindow writes a window as ISO 8601 seconds or minutes: PT5M, PT90S.
func isoWindow(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("PT%dM", d/time.Minute)
	}
	return fmt.Sprintf("PT%dS", d/time.Second)
}

func parseISOWindow(s string) time.Duration {
	var n int64
	var unit byte
	if _, err := fmt.Sscanf(s, "PT%d%c", &n, &unit); err != nil {
		return 0
	}
	if unit == 'M' {
		return time.Duration(n) * time.Minute
	}
	return time.Duration(n) * time.Second
}
