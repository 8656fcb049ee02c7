package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Session is the persistent MQTT session of one client id: the bits of
// its subscriptions, or Subs < 0 to forget the session.
type Session struct {
	ClientID string
	Subs     int
	Updated  time.Time
}

// Session returns the stored subscriptions of a client id.
func (s *Store) Session(ctx context.Context, clientID string) (subs int, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT subs FROM mqtt_sessions WHERE client_id = ?`, clientID).Scan(&subs)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read session %q: %w", clientID, err)
	}
	return subs, true, nil
}

// SaveSessions stores or (Subs < 0) deletes sessions in one transaction.
func (s *Store) SaveSessions(ctx context.Context, ss []Session) error {
	if len(ss) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, x := range ss {
			var err error
			if x.Subs < 0 {
				_, err = tx.ExecContext(ctx, `DELETE FROM mqtt_sessions WHERE client_id = ?`, x.ClientID)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO mqtt_sessions (client_id, subs, updated) VALUES (?, ?, ?)
					ON CONFLICT (client_id) DO UPDATE SET subs = excluded.subs, updated = excluded.updated`,
					x.ClientID, x.Subs, formatTime(x.Updated))
			}
			if err != nil {
				return fmt.Errorf("save session %q: %w", x.ClientID, err)
			}
		}
		return nil
	})
}
