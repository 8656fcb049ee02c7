package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

// ActionGroup is a named list of alert notification receivers.
type ActionGroup struct {
	Name      string
	Receivers []ActionReceiver
	Secret    tether.Secret // the HMAC key of the webhooks' signature header
	Created   time.Time
	Updated   time.Time
	Pending   int // notifications waiting (read only)
	Dead      int // notifications given up on (read only)
}

// ActionReceiver is one receiver of an action group.
type ActionReceiver struct {
	Kind   string `json:"kind"`   // webhook, alertmanager or email
	Target string `json:"target"` // the URL or the email address
}

// Notification is one alert notification waiting for one receiver: a row
// of the notification outbox.
type Notification struct {
	ID          int64 // set by the store
	Group       string
	Kind        string
	Target      string
	AlertID     string
	Rule        string
	Condition   string // Fired, Resolved or Test
	Alert       []byte // the alert, JSON
	Created     time.Time
	Attempts    int
	NextAttempt time.Time
}

// NotificationAttempt is one attempt to send a notification, as recorded
// (and, for an outbox row, applied by [Store.RecordNotificationAttempt]).
type NotificationAttempt struct {
	ID          int64 // set by the store
	Delivery    int64 // the outbox row; 0 for a test sent at once
	Group       string
	Kind        string
	Target      string // redacted
	AlertID     string
	Rule        string
	Condition   string
	Time        time.Time
	Attempt     int
	StatusCode  int
	Error       string
	Latency     time.Duration
	Outcome     string    // delivered, retry or dead
	NextAttempt time.Time // for retry
}

func actionGroupNotFound(name string) error {
	return &tether.Error{Kind: tether.KindNotFound, Code: tether.NotFound, Message: fmt.Sprintf("No action group named '%s'.", name)}
}

const actionGroupColumns = `name, receivers, secret, created, updated,
	(SELECT count(*) FROM notify_outbox o WHERE o.action_group = g.name AND o.state = 'pending'),
	(SELECT count(*) FROM notify_outbox o WHERE o.action_group = g.name AND o.state = 'dead')`

// CreateActionGroup stores a new action group. A group of that name
// already existing is a conflict error.
func (s *Store) CreateActionGroup(ctx context.Context, g ActionGroup) error {
	if g.Name == "" || g.Secret == "" {
		return fmt.Errorf("create action group %q: Name and Secret are required", g.Name)
	}
	rs, err := json.Marshal(g.Receivers)
	if err != nil {
		return fmt.Errorf("create action group %q: %w", g.Name, err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM action_groups WHERE name = ?`, g.Name).Scan(&n); err != nil {
			return fmt.Errorf("create action group %q: %w", g.Name, err)
		}
		if n > 0 {
			return &tether.Error{Kind: tether.KindConflict, Code: tether.Conflict,
				Message: fmt.Sprintf("An action group named '%s' already exists; delete it first to replace it.", g.Name)}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO action_groups (name, receivers, secret, created, updated)
			VALUES (?, ?, ?, ?, ?)`, g.Name, string(rs), g.Secret.Reveal(), formatTime(g.Created), formatTime(g.Updated)); err != nil {
			return fmt.Errorf("create action group %q: %w", g.Name, err)
		}
		return nil
	})
}

// ActionGroup returns one action group.
func (s *Store) ActionGroup(ctx context.Context, name string) (ActionGroup, error) {
	g, err := scanActionGroup(s.r.QueryRowContext(ctx, `SELECT `+actionGroupColumns+` FROM action_groups g WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return ActionGroup{}, actionGroupNotFound(name)
	}
	if err != nil {
		return ActionGroup{}, fmt.Errorf("read action group %q: %w", name, err)
	}
	return g, nil
}

// ActionGroups returns every action group, by name.
func (s *Store) ActionGroups(ctx context.Context) ([]ActionGroup, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+actionGroupColumns+` FROM action_groups g ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read action groups: %w", err)
	}
	defer rows.Close()
	var gs []ActionGroup
	for rows.Next() {
		g, err := scanActionGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("read action groups: %w", err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read action groups: %w", err)
	}
	return gs, nil
}

func scanActionGroup(sc scanner) (ActionGroup, error) {
	var (
		g                ActionGroup
		rs, secret       string
		created, updated string
	)
	if err := sc.Scan(&g.Name, &rs, &secret, &created, &updated, &g.Pending, &g.Dead); err != nil {
		return ActionGroup{}, err
	}
	g.Secret = tether.Secret(secret)
	if err := json.Unmarshal([]byte(rs), &g.Receivers); err != nil {
		return ActionGroup{}, fmt.Errorf("stored receivers of %q: %w", g.Name, err)
	}
	var err error
	if g.Created, err = parseTime(created); err != nil {
		return ActionGroup{}, err
	}
	if g.Updated, err = parseTime(updated); err != nil {
		return ActionGroup{}, err
	}
	return g, nil
}

// DeleteActionGroup removes an action group and the notifications waiting
// for its receivers. Its attempts stay until [Store.TrimNotifications].
func (s *Store) DeleteActionGroup(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM action_groups WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete action group %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete action group %q: %w", name, err)
	} else if n == 0 {
		return actionGroupNotFound(name)
	}
	return nil
}

// EnqueueNotifications adds ns to the outbox in one transaction; when it
// returns, they are on disk. A notification whose group was deleted
// meanwhile is a not found error, and none is added.
func (s *Store) EnqueueNotifications(ctx context.Context, ns []Notification) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, n := range ns {
			res, err := tx.ExecContext(ctx, `INSERT INTO notify_outbox (action_group, kind, target, alert_id, rule,
				condition, alert, created, next_attempt) SELECT name, ?, ?, ?, ?, ?, ?, ?, ? FROM action_groups WHERE name = ?`,
				n.Kind, n.Target, n.AlertID, n.Rule, n.Condition, n.Alert, formatC2DTime(n.Created),
				formatOptTime(n.NextAttempt), n.Group)
			if err != nil {
				return fmt.Errorf("enqueue notification for %q: %w", n.Group, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return actionGroupNotFound(n.Group)
			}
		}
		return nil
	})
}

// DueNotifications returns, for each receiver (group, kind and target)
// with pending notifications, its oldest one when that is due at now: at
// most limit, oldest first. A receiver's later notifications wait for its
// first, so that a Resolved never overtakes its Fired.
func (s *Store) DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, action_group, kind, target, alert_id, rule, condition, alert,
		created, attempts, next_attempt FROM (
			SELECT o.*, row_number() OVER (PARTITION BY action_group, kind, target ORDER BY id) AS n
			FROM notify_outbox o WHERE state = 'pending')
		WHERE n = 1 AND next_attempt <= ? ORDER BY id LIMIT ?`, formatC2DTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("read due notifications: %w", err)
	}
	defer rows.Close()
	var ns []Notification
	for rows.Next() {
		var n Notification
		var created, next string
		if err := rows.Scan(&n.ID, &n.Group, &n.Kind, &n.Target, &n.AlertID, &n.Rule, &n.Condition, &n.Alert,
			&created, &n.Attempts, &next); err != nil {
			return nil, fmt.Errorf("read due notifications: %w", err)
		}
		if n.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		if n.NextAttempt, err = parseTime(next); err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read due notifications: %w", err)
	}
	return ns, nil
}

// RecordNotificationAttempt records a and, when a.Delivery is an outbox
// row, applies its outcome in the same transaction: delivered and dead
// rows are done, a retry waits until a.NextAttempt; each counts one more
// attempt. A row deleted meanwhile is skipped.
func (s *Store) RecordNotificationAttempt(ctx context.Context, a NotificationAttempt) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_attempts (delivery, action_group, kind, target,
			alert_id, rule, condition, time, attempt, status, error, latency_ns, outcome, next_attempt)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Delivery, a.Group, a.Kind, a.Target, a.AlertID, a.Rule, a.Condition, formatC2DTime(a.Time), a.Attempt,
			a.StatusCode, a.Error, int64(a.Latency), a.Outcome, formatOptTime(a.NextAttempt)); err != nil {
			return fmt.Errorf("record notification attempt for %q: %w", a.Group, err)
		}
		if a.Delivery == 0 {
			return nil
		}
		state, done := "pending", ""
		if a.Outcome != "retry" {
			state, done = a.Outcome, formatC2DTime(a.Time.Add(a.Latency))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notify_outbox SET state = ?, done = ?, next_attempt = ?,
			attempts = attempts + 1 WHERE id = ? AND state = 'pending'`,
			state, done, formatOptTime(a.NextAttempt), a.Delivery); err != nil {
			return fmt.Errorf("record notification attempt for %q: %w", a.Group, err)
		}
		return nil
	})
}

// NotificationAttempts returns the newest limit attempts, newest first:
// of one action group, or of all when group is "".
func (s *Store) NotificationAttempts(ctx context.Context, group string, limit int) ([]NotificationAttempt, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, delivery, action_group, kind, target, alert_id, rule, condition,
		time, attempt, status, error, latency_ns, outcome, next_attempt FROM notify_attempts
		WHERE ? = '' OR action_group = ? ORDER BY id DESC LIMIT ?`, group, group, limit)
	if err != nil {
		return nil, fmt.Errorf("read notification attempts: %w", err)
	}
	defer rows.Close()
	var as []NotificationAttempt
	for rows.Next() {
		var (
			a       NotificationAttempt
			t, next string
			latency int64
		)
		if err := rows.Scan(&a.ID, &a.Delivery, &a.Group, &a.Kind, &a.Target, &a.AlertID, &a.Rule, &a.Condition,
			&t, &a.Attempt, &a.StatusCode, &a.Error, &latency, &a.Outcome, &next); err != nil {
			return nil, fmt.Errorf("read notification attempts: %w", err)
		}
		a.Latency = time.Duration(latency)
		if a.Time, err = parseTime(t); err != nil {
			return nil, err
		}
		if a.NextAttempt, err = parseTime(next); err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notification attempts: %w", err)
	}
	return as, nil
}

// TrimNotifications removes the delivered and dead notifications done
// before before, and the attempts made before it, and returns how many
// rows it removed.
func (s *Store) TrimNotifications(ctx context.Context, before time.Time) (int, error) {
	var n int64
	t := formatC2DTime(before)
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM notify_outbox WHERE state <> 'pending' AND done < ?`,
			`DELETE FROM notify_attempts WHERE time < ?`,
		} {
			res, err := tx.ExecContext(ctx, q, t)
			if err != nil {
				return fmt.Errorf("trim notifications: %w", err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return int(n), err
}
