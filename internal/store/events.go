package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// EventSubscription is a webhook that lifecycle events of some types are
// delivered to, with its back-off state.
type EventSubscription struct {
	Name        string
	URL         string
	Types       []string // event type names, such as DeviceConnected
	Schema      string   // eventgrid or cloudevents
	Secret      tether.Secret
	Created     time.Time
	Updated     time.Time
	Failures    int       // consecutive failed attempts
	NextAttempt time.Time // no attempt before; zero when not backing off
	Pending     int       // events waiting (read only)
	Dead        int       // events given up on (read only)
}

// OutboxEvent is one event waiting for one subscription: a row of the
// outbox.
type OutboxEvent struct {
	Seq          int64 // the delivery order; set by the store
	Subscription string
	EventID      string
	Type         string
	Subject      string
	Time         time.Time
	Data         []byte // the event's data member, JSON
	Created      time.Time
	Attempts     int
}

// EventAttempt is the outcome of one delivery request, for
// [Store.RecordEventAttempt].
type EventAttempt struct {
	Subscription string
	Time         time.Time
	Attempt      int // 1 for a first attempt
	EventIDs     []string
	StatusCode   int // 0 when there was no answer
	Error        string
	Latency      time.Duration
	Outcome      string // delivered, retry or dead
	Delivered    []int64
	Retry        []int64
	Dead         []int64
	Failures     int       // the subscription's consecutive failures from now on
	NextAttempt  time.Time // the subscription's next attempt; zero for none
}

// EventDelivery is a recorded delivery attempt.
type EventDelivery struct {
	ID           int64
	Subscription string
	Time         time.Time
	Attempt      int
	EventIDs     []string
	StatusCode   int
	Error        string
	Latency      time.Duration
	Outcome      string
	NextAttempt  time.Time
}

func eventSubscriptionNotFound(name string) error {
	return &tether.Error{Kind: tether.KindNotFound, Code: tether.NotFound, Message: fmt.Sprintf("No event subscription named '%s'.", name)}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// formatOptTime is formatC2DTime, or "" for the zero time.
func formatOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatC2DTime(t)
}

const eventSubscriptionColumns = `name, url, types, schema, secret, created, updated, failures, next_attempt,
	(SELECT count(*) FROM event_outbox o WHERE o.subscription = s.name AND o.state = 'pending'),
	(SELECT count(*) FROM event_outbox o WHERE o.subscription = s.name AND o.state = 'dead')`

// PutEventSubscription creates the subscription sub.Name or replaces its
// URL, types and schema, and returns it as stored, and whether it was
// created. sub.Created is used only on create; sub.Updated is the time of
// this write. sub.Secret is stored on create, and on replace only when
// replaceSecret is set. A replace clears the back-off, so that a fixed
// endpoint is tried at once.
func (s *Store) PutEventSubscription(ctx context.Context, sub EventSubscription, replaceSecret bool) (EventSubscription, bool, error) {
	if sub.Name == "" || sub.Secret == "" {
		return EventSubscription{}, false, fmt.Errorf("put event subscription %q: Name and Secret are required", sub.Name)
	}
	types := "," + strings.Join(sub.Types, ",") + ","
	var created bool
	var out EventSubscription
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE event_subscriptions SET url = ?, types = ?, schema = ?,
			secret = CASE WHEN ? THEN ? ELSE secret END, updated = ?, failures = 0, next_attempt = ''
			WHERE name = ?`,
			sub.URL, types, sub.Schema, boolInt(replaceSecret), sub.Secret.Reveal(), formatTime(sub.Updated), sub.Name)
		if err != nil {
			return fmt.Errorf("put event subscription %q: %w", sub.Name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			created = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO event_subscriptions
				(name, url, types, schema, secret, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				sub.Name, sub.URL, types, sub.Schema, sub.Secret.Reveal(), formatTime(sub.Created), formatTime(sub.Updated)); err != nil {
				return fmt.Errorf("put event subscription %q: %w", sub.Name, err)
			}
		}
		out, err = getEventSubscription(ctx, tx, sub.Name)
		return err
	})
	if err != nil {
		return EventSubscription{}, false, err
	}
	return out, created, nil
}

// EventSubscription returns one subscription.
func (s *Store) EventSubscription(ctx context.Context, name string) (EventSubscription, error) {
	return getEventSubscription(ctx, s.r, name)
}

func getEventSubscription(ctx context.Context, q querier, name string) (EventSubscription, error) {
	sub, err := scanEventSubscription(q.QueryRowContext(ctx, `SELECT `+eventSubscriptionColumns+`
		FROM event_subscriptions s WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return EventSubscription{}, eventSubscriptionNotFound(name)
	}
	if err != nil {
		return EventSubscription{}, fmt.Errorf("read event subscription %q: %w", name, err)
	}
	return sub, nil
}

// EventSubscriptions returns every subscription, by name.
func (s *Store) EventSubscriptions(ctx context.Context) ([]EventSubscription, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventSubscriptionColumns+` FROM event_subscriptions s ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read event subscriptions: %w", err)
	}
	defer rows.Close()
	var subs []EventSubscription
	for rows.Next() {
		sub, err := scanEventSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("read event subscriptions: %w", err)
		}
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read event subscriptions: %w", err)
	}
	return subs, nil
}

func scanEventSubscription(sc scanner) (EventSubscription, error) {
	var (
		sub                    EventSubscription
		types, secret          string
		created, updated, next string
	)
	if err := sc.Scan(&sub.Name, &sub.URL, &types, &sub.Schema, &secret, &created, &updated,
		&sub.Failures, &next, &sub.Pending, &sub.Dead); err != nil {
		return EventSubscription{}, err
	}
	sub.Secret = tether.Secret(secret)
	if t := strings.Trim(types, ","); t != "" {
		sub.Types = strings.Split(t, ",")
	}
	var err error
	if sub.Created, err = parseTime(created); err != nil {
		return EventSubscription{}, err
	}
	if sub.Updated, err = parseTime(updated); err != nil {
		return EventSubscription{}, err
	}
	if sub.NextAttempt, err = parseTime(next); err != nil {
		return EventSubscription{}, err
	}
	return sub, nil
}

// DeleteEventSubscription removes a subscription and the events waiting
// for it. Its delivery record stays until [Store.TrimEvents] removes it.
func (s *Store) DeleteEventSubscription(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM event_subscriptions WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete event subscription %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete event subscription %q: %w", name, err)
	} else if n == 0 {
		return eventSubscriptionNotFound(name)
	}
	return nil
}

// EnqueueEvent adds e to the outbox of every subscription whose types
// include e.Type, in one statement, and returns how many subscriptions
// want it. e.Seq, e.Subscription and e.Attempts are ignored. When it
// returns, the rows are on disk.
func (s *Store) EnqueueEvent(ctx context.Context, e OutboxEvent) (int, error) {
	if e.EventID == "" || e.Type == "" || strings.Contains(e.Type, ",") {
		return 0, fmt.Errorf("enqueue event: EventID and a Type without commas are required")
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO event_outbox
		(subscription, event_id, event_type, subject, event_time, data, created)
		SELECT name, ?, ?, ?, ?, ?, ? FROM event_subscriptions WHERE instr(types, ?) > 0 ORDER BY name`,
		e.EventID, e.Type, e.Subject, formatTime(e.Time), e.Data, formatC2DTime(e.Created), ","+e.Type+",")
	if err != nil {
		return 0, fmt.Errorf("enqueue event %s: %w", e.EventID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("enqueue event %s: %w", e.EventID, err)
	}
	return int(n), nil
}

// DueEvents returns the pending events of the subscriptions that are not
// backing off at now: for each, its oldest perSubscription events, in
// outbox order.
func (s *Store) DueEvents(ctx context.Context, now time.Time, perSubscription int) ([]OutboxEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, subscription, event_id, event_type, subject, event_time,
		data, created, attempts FROM (
			SELECT o.*, row_number() OVER (PARTITION BY o.subscription ORDER BY o.seq) AS n
			FROM event_subscriptions s JOIN event_outbox o ON o.subscription = s.name AND o.state = 'pending'
			WHERE s.next_attempt <= ?)
		WHERE n <= ? ORDER BY seq`, formatC2DTime(now), perSubscription)
	if err != nil {
		return nil, fmt.Errorf("read due events: %w", err)
	}
	defer rows.Close()
	var es []OutboxEvent
	for rows.Next() {
		var e OutboxEvent
		var t, created string
		if err := rows.Scan(&e.Seq, &e.Subscription, &e.EventID, &e.Type, &e.Subject, &t, &e.Data, &created, &e.Attempts); err != nil {
			return nil, fmt.Errorf("read due events: %w", err)
		}
		if e.Time, err = parseTime(t); err != nil {
			return nil, err
		}
		if e.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read due events: %w", err)
	}
	return es, nil
}

// RecordEventAttempt records a delivery attempt and applies its outcome
// in one transaction: the events in a.Delivered and a.Dead are done, those
// in a.Retry wait, each counts one more attempt, and the subscription's
// back-off becomes a.Failures and a.NextAttempt. Events or a subscription
// deleted meanwhile are skipped.
func (s *Store) RecordEventAttempt(ctx context.Context, a EventAttempt) error {
	done := formatC2DTime(a.Time.Add(a.Latency))
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_deliveries (subscription, time, attempt, event_ids,
			status, error, latency_ns, outcome, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Subscription, formatC2DTime(a.Time), a.Attempt, strings.Join(a.EventIDs, " "), a.StatusCode,
			a.Error, int64(a.Latency), a.Outcome, formatOptTime(a.NextAttempt)); err != nil {
			return fmt.Errorf("record event delivery for %q: %w", a.Subscription, err)
		}
		for _, u := range []struct {
			seqs       []int64
			state, set string
		}{{a.Delivered, "delivered", done}, {a.Retry, "pending", ""}, {a.Dead, "dead", done}} {
			if len(u.seqs) == 0 {
				continue
			}
			args := []any{u.state, u.set, a.Subscription}
			for _, seq := range u.seqs {
				args = append(args, seq)
			}
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(u.seqs)), ", ")
			if _, err := tx.ExecContext(ctx, `UPDATE event_outbox SET state = ?, done = ?, attempts = attempts + 1
				WHERE subscription = ? AND state = 'pending' AND seq IN (`+marks+`)`, args...); err != nil {
				return fmt.Errorf("record event delivery for %q: %w", a.Subscription, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE event_subscriptions SET failures = ?, next_attempt = ? WHERE name = ?`,
			a.Failures, formatOptTime(a.NextAttempt), a.Subscription); err != nil {
			return fmt.Errorf("record event delivery for %q: %w", a.Subscription, err)
		}
		return nil
	})
}

// EventDeliveries returns the newest limit delivery attempts, newest
// first: of one subscription, or of all when subscription is "".
func (s *Store) EventDeliveries(ctx context.Context, subscription string, limit int) ([]EventDelivery, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, subscription, time, attempt, event_ids, status, error,
		latency_ns, outcome, next_attempt FROM event_deliveries
		WHERE ? = '' OR subscription = ? ORDER BY id DESC LIMIT ?`, subscription, subscription, limit)
	if err != nil {
		return nil, fmt.Errorf("read event deliveries: %w", err)
	}
	defer rows.Close()
	var ds []EventDelivery
	for rows.Next() {
		var (
			d            EventDelivery
			t, ids, next string
			latency      int64
		)
		if err := rows.Scan(&d.ID, &d.Subscription, &t, &d.Attempt, &ids, &d.StatusCode, &d.Error,
			&latency, &d.Outcome, &next); err != nil {
			return nil, fmt.Errorf("read event deliveries: %w", err)
		}
		d.Latency = time.Duration(latency)
		d.EventIDs = strings.Fields(ids)
		if d.Time, err = parseTime(t); err != nil {
			return nil, err
		}
		if d.NextAttempt, err = parseTime(next); err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read event deliveries: %w", err)
	}
	return ds, nil
}

// TrimEvents removes the delivered and dead events done before before,
// and the delivery attempts made before it, and returns how many rows it
// removed.
func (s *Store) TrimEvents(ctx context.Context, before time.Time) (int, error) {
	var n int64
	t := formatC2DTime(before)
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM event_outbox WHERE state <> 'pending' AND done < ?`,
			`DELETE FROM event_deliveries WHERE time < ?`,
		} {
			res, err := tx.ExecContext(ctx, q, t)
			if err != nil {
				return fmt.Errorf("trim events: %w", err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return int(n), err
}
