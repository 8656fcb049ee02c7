package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// settingDiagnostics is the setting that holds the diagnostic settings
// (their JSON).
const settingDiagnostics = "diagnosticSettings"

// DiagnosticSettings returns the stored diagnostic settings as JSON; ""
// when they were never set.
func (s *Store) DiagnosticSettings(ctx context.Context) (string, error) {
	v, _, err := s.Setting(ctx, settingDiagnostics)
	return v, err
}

// PutDiagnosticSettings stores the diagnostic settings' JSON.
func (s *Store) PutDiagnosticSettings(ctx context.Context, settings string) error {
	return s.PutSetting(ctx, settingDiagnostics, settings)
}

// LogResource returns the resourceId (upper case, as Azure writes it) and
// location that the store writes in every diagnostic log row, for records
// exported elsewhere.
func (s *Store) LogResource() (resourceID, location string) {
	if s.logs == nil {
		return strings.ToUpper(DefaultResourceID), DefaultLocation
	}
	return s.logs.hub.resourceID, s.logs.hub.location
}

// ExpireC2DMessages removes every device's messages that have expired at
// now, as ExpireC2D does, and returns them (bodies included), so that
// each can be logged.
func (s *Store) ExpireC2DMessages(ctx context.Context, now time.Time) ([]tether.C2DMessage, error) {
	var ms []tether.C2DMessage
	err := s.write(ctx, func(tx *sql.Tx) error {
		ms = ms[:0]
		rows, err := tx.QueryContext(ctx, `DELETE FROM c2d WHERE expiry <= ? RETURNING `+c2dColumns, formatC2DTime(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanC2D(rows)
			if err != nil {
				return err
			}
			ms = append(ms, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("expire c2d: %w", err)
	}
	return ms, nil
}
