package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

// Presence is a device's connection state as the gateway reports it.
type Presence struct {
	DeviceID     string
	State        tether.ConnectionState
	StateChanged time.Time // zero: leave connectionStateUpdatedTime as it is
	LastActivity time.Time // zero: leave lastActivityTime as it is
	// Disconnect, when its Time is set, is recorded as the last disconnect.
	Disconnect tether.Disconnect
}

// SetPresence records connection states and last activity times in one
// transaction. Unlike UpdateDevice it does not change a device's version
// (its ETag): connection state is not part of the identity, and a device
// connecting must not make a service's If-Match update fail. Unknown
// devices are skipped.
func (s *Store) SetPresence(ctx context.Context, ps []Presence) error {
	if len(ps) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE devices SET
			conn_state = coalesce(nullif(?, ''), conn_state),
			conn_state_updated = CASE WHEN ? = '' THEN conn_state_updated ELSE ? END,
			last_activity = CASE WHEN ? = '' THEN last_activity ELSE ? END,
			last_disc_time = CASE WHEN ? = '' THEN last_disc_time ELSE ? END,
			last_disc_reason = CASE WHEN ? = '' THEN last_disc_reason ELSE ? END,
			last_disc_code = CASE WHEN ? = '' THEN last_disc_code ELSE ? END
			WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("set presence: %w", err)
		}
		defer stmt.Close()
		for _, p := range ps {
			changed, active := "", ""
			if !p.StateChanged.IsZero() {
				changed = formatTime(p.StateChanged)
			}
			if !p.LastActivity.IsZero() {
				active = formatTime(p.LastActivity)
			}
			disc := ""
			if !p.Disconnect.Time.IsZero() {
				disc = formatTime(p.Disconnect.Time)
			}
			if _, err := stmt.ExecContext(ctx, string(p.State), changed, changed, active, active,
				disc, disc, disc, string(p.Disconnect.Reason), disc, int(p.Disconnect.Code), p.DeviceID); err != nil {
				return fmt.Errorf("set presence of %q: %w", p.DeviceID, err)
			}
		}
		return nil
	})
}

// ResetPresence marks every device that the registry still shows as
// Connected as Disconnected at time at. A starting hub calls it: after a
// crash nothing is connected, whatever the last run wrote.
func (s *Store) ResetPresence(ctx context.Context, at time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE devices SET conn_state = ?, conn_state_updated = ? WHERE conn_state = ?`,
			string(tether.Disconnected), formatTime(at), string(tether.Connected))
		if err != nil {
			return fmt.Errorf("reset presence: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
