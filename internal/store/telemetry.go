package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

// TelemetryQuery selects messages from the telemetry stream.
type TelemetryQuery struct {
	After    int64  // only messages with Seq > After
	DeviceID string // "" means every device
	Limit    int    // at most this many; <= 0 means 1000
}

// defaultTelemetryLimit is a TelemetryQuery's Limit when it has none.
const defaultTelemetryLimit = 1000

// trimChunk is how many rows one TrimTelemetry transaction deletes, so
// that appends can slip in between.
const trimChunk = 10_000

const insertTelemetry = `INSERT INTO telemetry
	(seq, device_id, module_id, enqueued, system, properties, body) VALUES (?, ?, ?, ?, ?, ?, ?)`

// noBody is stored for a message without a body: a nil []byte would be NULL.
var noBody = []byte{}

// AppendTelemetry appends msgs to the telemetry stream in one transaction,
// numbering them with the next Seq values in order. It sets Seq in msgs
// itself, once the transaction has committed, and returns msgs. Each
// message's EnqueuedTime is stored as given.
func (s *Store) AppendTelemetry(ctx context.Context, msgs []tether.Message) ([]tether.Message, error) {
	if len(msgs) == 0 {
		return msgs, nil
	}
	var last int64
	err := writeTx(ctx, s.tw, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE telemetry_state SET last_seq = last_seq + ? RETURNING last_seq`,
			len(msgs)).Scan(&last)
		if err != nil {
			return err
		}
		stmt := tx.StmtContext(ctx, s.appendStmt)
		var (
			sys, props any
			buf        []byte
		)
		first := last - int64(len(msgs)) + 1
		for i := range msgs {
			m := &msgs[i]
			sys, buf = encodeProps(buf, m.System)
			props, buf = encodeProps(buf, m.Properties)
			body := m.Body
			if body == nil {
				body = noBody
			}
			if _, err := stmt.ExecContext(ctx, first+int64(i), m.DeviceID, m.ModuleID,
				unixNano(m.EnqueuedTime), sys, props, body); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("append telemetry: %w", err)
	}
	first := last - int64(len(msgs)) + 1
	for i := range msgs {
		msgs[i].Seq = first + int64(i)
	}
	return msgs, nil
}

// ReadTelemetry returns the messages q selects, in Seq order. Empty maps
// and bodies read back as nil, and times in UTC.
func (s *Store) ReadTelemetry(ctx context.Context, q TelemetryQuery) ([]tether.Message, error) {
	if q.Limit <= 0 {
		q.Limit = defaultTelemetryLimit
	}
	query := `SELECT seq, device_id, module_id, enqueued, system, properties, body FROM telemetry WHERE seq > ?`
	args := []any{q.After}
	if q.DeviceID != "" {
		query += ` AND device_id = ?`
		args = append(args, q.DeviceID)
	}
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.tr.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read telemetry: %w", err)
	}
	defer rows.Close()
	var msgs []tether.Message
	for rows.Next() {
		var (
			m          tether.Message
			enqueued   int64
			sys, props sql.NullString
		)
		if err := rows.Scan(&m.Seq, &m.DeviceID, &m.ModuleID, &enqueued, &sys, &props, &m.Body); err != nil {
			return nil, fmt.Errorf("read telemetry: %w", err)
		}
		m.EnqueuedTime = fromUnixNano(enqueued)
		if len(m.Body) == 0 {
			m.Body = nil
		}
		if m.System, err = decodeProps(sys); err != nil {
			return nil, fmt.Errorf("read telemetry %d: %w", m.Seq, err)
		}
		if m.Properties, err = decodeProps(props); err != nil {
			return nil, fmt.Errorf("read telemetry %d: %w", m.Seq, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read telemetry: %w", err)
	}
	return msgs, nil
}

// LastTelemetrySeq returns the Seq of the newest message ever appended,
// even if it has been trimmed since, or 0 before the first append.
func (s *Store) LastTelemetrySeq(ctx context.Context) (int64, error) {
	var last int64
	if err := s.tr.QueryRowContext(ctx, `SELECT last_seq FROM telemetry_state`).Scan(&last); err != nil {
		return 0, fmt.Errorf("read last telemetry seq: %w", err)
	}
	return last, nil
}

// TrimTelemetry deletes the oldest messages of the stream: those enqueued
// before olderThan, and those beyond the newest keepMax (keepMax <= 0
// keeps any number; a zero olderThan keeps any age). It returns how many
// it deleted.
//
// Trimming by age works from the oldest message forwards and stops at the
// first one enqueued at or after olderThan, so the stream stays a
// contiguous range of Seq and the cost follows the rows deleted; a message
// with an older EnqueuedTime behind a newer one waits for it. It deletes
// in chunks of a few thousand rows, each its own transaction, so appends
// are not held up for long.
func (s *Store) TrimTelemetry(ctx context.Context, olderThan time.Time, keepMax int64) (int64, error) {
	cut, err := s.trimCut(ctx, olderThan, keepMax)
	if err != nil {
		return 0, fmt.Errorf("trim telemetry: %w", err)
	}
	var deleted int64
	for {
		var n int64
		err := writeTx(ctx, s.tw, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM telemetry WHERE seq IN
				(SELECT seq FROM telemetry WHERE seq < ? ORDER BY seq LIMIT ?)`, cut, trimChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return deleted, fmt.Errorf("trim telemetry: %w", err)
		}
		deleted += n
		if n < trimChunk {
			return deleted, nil
		}
	}
}

// trimCut returns the Seq below which TrimTelemetry deletes.
func (s *Store) trimCut(ctx context.Context, olderThan time.Time, keepMax int64) (int64, error) {
	last, err := s.LastTelemetrySeq(ctx)
	if err != nil {
		return 0, err
	}
	var cut int64
	if !olderThan.IsZero() {
		err := s.tr.QueryRowContext(ctx, `SELECT seq FROM telemetry WHERE enqueued >= ? ORDER BY seq LIMIT 1`,
			unixNano(olderThan)).Scan(&cut)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			cut = last + 1 // every message is older
		case err != nil:
			return 0, err
		}
	}
	if keepMax > 0 {
		cut = max(cut, last-keepMax+1)
	}
	return cut, nil
}

// TelemetryOffset returns the Seq a consumer group last committed; ok is
// false when it never did.
func (s *Store) TelemetryOffset(ctx context.Context, group string) (seq int64, ok bool, err error) {
	err = s.tr.QueryRowContext(ctx, `SELECT seq FROM telemetry_offsets WHERE consumer_group = ?`, group).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read telemetry offset of %q: %w", group, err)
	}
	return seq, true, nil
}

// SetTelemetryOffset commits a consumer group's Seq, replacing any
// earlier one.
func (s *Store) SetTelemetryOffset(ctx context.Context, group string, seq int64) error {
	_, err := s.tw.ExecContext(ctx, `INSERT INTO telemetry_offsets (consumer_group, seq) VALUES (?, ?)
		ON CONFLICT (consumer_group) DO UPDATE SET seq = excluded.seq`, group, seq)
	if err != nil {
		return fmt.Errorf("set telemetry offset of %q: %w", group, err)
	}
	return nil
}

// unixNano returns t as stored in the telemetry table: Unix nanoseconds,
// with 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano reads a time written by unixNano, in UTC.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
