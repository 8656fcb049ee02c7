package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

const c2dColumns = `seq, device_id, message_id, correlation_id, user_id, content_type,
	content_encoding, ack, enqueued, expiry, properties, body, delivery_count`

// c2dTimeFormat is RFC 3339 with a fixed nine fraction digits: stored
// this way, times compare correctly as text.
const c2dTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatC2DTime(t time.Time) string { return t.UTC().Format(c2dTimeFormat) }

func c2dNotFound(deviceID string, seq int64) error {
	return &tether.Error{Kind: tether.KindNotFound,
		Message: fmt.Sprintf("No cloud-to-device message %d is queued for device '%s'.", seq, deviceID)}
}

// EnqueueC2D queues m for its device and returns it as stored, with its
// Seq. The caller sets EnqueuedTime; an empty MessageID gets a random
// UUID, and a zero ExpiryTime becomes EnqueuedTime plus
// [tether.DefaultC2DTTL]. The device must exist, and must have fewer than
// [tether.MaxC2DPending] messages that have not expired at EnqueuedTime.
// The device's CloudToDeviceMessageCount goes up by one in the same
// transaction.
func (s *Store) EnqueueC2D(ctx context.Context, m tether.C2DMessage) (tether.C2DMessage, error) {
	if m.EnqueuedTime.IsZero() {
		return tether.C2DMessage{}, fmt.Errorf("enqueue c2d for %q: EnqueuedTime is required", m.DeviceID)
	}
	if m.MessageID == "" {
		m.MessageID = newUUID()
	}
	if m.ExpiryTime.IsZero() {
		m.ExpiryTime = m.EnqueuedTime.Add(tether.DefaultC2DTTL)
	}
	m.DeliveryCount = 0
	props, _ := encodeProps(nil, m.Properties)
	body := m.Body
	if body == nil {
		body = noBody
	}
	now := formatC2DTime(m.EnqueuedTime)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var pending int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM c2d WHERE device_id = ? AND expiry > ?)
			FROM devices WHERE id = ?`, m.DeviceID, now, m.DeviceID).Scan(&pending)
		if errors.Is(err, sql.ErrNoRows) {
			return deviceNotFound(m.DeviceID)
		}
		if err != nil {
			return fmt.Errorf("enqueue c2d for %q: %w", m.DeviceID, err)
		}
		if pending >= tether.MaxC2DPending {
			return tether.Errorf(tether.DeviceMaximumQueueDepthExceeded,
				"device '%s' already has %d pending cloud-to-device messages (the limit is %d)",
				m.DeviceID, pending, tether.MaxC2DPending)
		}
		// The c2d_count_insert trigger counts it on the device.
		res, err := tx.ExecContext(ctx, `INSERT INTO c2d (device_id, message_id, correlation_id, user_id,
			content_type, content_encoding, ack, enqueued, expiry, properties, body, delivery_count)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			m.DeviceID, m.MessageID, m.CorrelationID, m.UserID, m.ContentType, m.ContentEncoding,
			m.Ack, now, formatC2DTime(m.ExpiryTime), props, body)
		if err != nil {
			return fmt.Errorf("enqueue c2d for %q: %w", m.DeviceID, err)
		}
		m.Seq, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return tether.C2DMessage{}, err
	}
	return m, nil
}

// PendingC2D returns the device's messages that have not expired at now,
// oldest first. An unknown device has none.
func (s *Store) PendingC2D(ctx context.Context, deviceID string, now time.Time) ([]tether.C2DMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+c2dColumns+` FROM c2d
		WHERE device_id = ? AND expiry > ? ORDER BY seq`, deviceID, formatC2DTime(now))
	if err != nil {
		return nil, fmt.Errorf("read c2d of %q: %w", deviceID, err)
	}
	defer rows.Close()
	var ms []tether.C2DMessage
	for rows.Next() {
		m, err := scanC2D(rows)
		if err != nil {
			return nil, fmt.Errorf("read c2d of %q: %w", deviceID, err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read c2d of %q: %w", deviceID, err)
	}
	return ms, nil
}

// MarkC2DDelivered counts one more delivery of the message.
func (s *Store) MarkC2DDelivered(ctx context.Context, deviceID string, seq int64) error {
	return s.c2dExec(ctx, "mark c2d delivered", deviceID, seq,
		`UPDATE c2d SET delivery_count = delivery_count + 1 WHERE device_id = ? AND seq = ?`)
}

// CompleteC2D removes a message its device has accepted (or rejected).
func (s *Store) CompleteC2D(ctx context.Context, deviceID string, seq int64) error {
	return s.c2dExec(ctx, "complete c2d", deviceID, seq, `DELETE FROM c2d WHERE device_id = ? AND seq = ?`)
}

// c2dExec runs a statement on one message, with the device ID and seq as
// its arguments; no such message is a not-found error.
func (s *Store) c2dExec(ctx context.Context, op, deviceID string, seq int64, query string) error {
	res, err := s.w.ExecContext(ctx, query, deviceID, seq)
	if err != nil {
		return fmt.Errorf("%s %d of %q: %w", op, seq, deviceID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s %d of %q: %w", op, seq, deviceID, err)
	} else if n == 0 {
		return c2dNotFound(deviceID, seq)
	}
	return nil
}

// PurgeC2D removes every message queued for the device, expired or not,
// and returns how many there were.
func (s *Store) PurgeC2D(ctx context.Context, deviceID string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM devices WHERE id = ?`, deviceID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return deviceNotFound(deviceID)
		}
		if err != nil {
			return fmt.Errorf("purge c2d of %q: %w", deviceID, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM c2d WHERE device_id = ?`, deviceID)
		if err != nil {
			return fmt.Errorf("purge c2d of %q: %w", deviceID, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// ExpireC2D removes every device's messages that have expired at now and
// returns how many there were.
func (s *Store) ExpireC2D(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM c2d WHERE expiry <= ?`, formatC2DTime(now))
	if err != nil {
		return 0, fmt.Errorf("expire c2d: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("expire c2d: %w", err)
	}
	return int(n), nil
}

func scanC2D(sc scanner) (tether.C2DMessage, error) {
	var (
		m                tether.C2DMessage
		enqueued, expiry string
		props            sql.NullString
	)
	err := sc.Scan(&m.Seq, &m.DeviceID, &m.MessageID, &m.CorrelationID, &m.UserID, &m.ContentType,
		&m.ContentEncoding, &m.Ack, &enqueued, &expiry, &props, &m.Body, &m.DeliveryCount)
	if err != nil {
		return tether.C2DMessage{}, err
	}
	if len(m.Body) == 0 {
		m.Body = nil
	}
	if m.EnqueuedTime, err = parseTime(enqueued); err != nil {
		return tether.C2DMessage{}, err
	}
	if m.ExpiryTime, err = parseTime(expiry); err != nil {
		return tether.C2DMessage{}, err
	}
	if m.Properties, err = decodeProps(props); err != nil {
		return tether.C2DMessage{}, err
	}
	return m, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
