package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	sqlite3 "modernc.org/sqlite/lib"
)

const deviceColumns = `id, generation_id, version, status, status_reason, status_updated,
	conn_state, conn_state_updated, last_activity, c2d_count, auth_type,
	primary_key, secondary_key, primary_thumb, secondary_thumb, iot_edge,
	last_disc_time, last_disc_reason, last_disc_code`

// devicePlaceholders is one ? per column of deviceColumns.
var devicePlaceholders = strings.TrimSuffix(strings.Repeat("?, ", strings.Count(deviceColumns, ",")+1), ", ")

func deviceNotFound(id string) error {
	return tether.Errorf(tether.DeviceNotFound, "Device '%s' is not registered.", id)
}

// CreateDevice stores d as given, and its twin [tether.NewTwin](d.ID), in
// one transaction. The caller validates d and sets its GenerationID and
// Version.
func (s *Store) CreateDevice(ctx context.Context, d tether.Device) (tether.Device, error) {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO devices (`+deviceColumns+`, created)
			VALUES (`+devicePlaceholders+`, ?)`,
			append(deviceValues(d), formatTime(time.Now()))...)
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return tether.Errorf(tether.DeviceAlreadyExists, "A device with ID '%s' is already registered.", d.ID)
		}
		if err != nil {
			return fmt.Errorf("create device %q: %w", d.ID, err)
		}
		return insertTwin(ctx, tx, tether.NewTwin(d.ID))
	})
	if err != nil {
		return tether.Device{}, err
	}
	return d, nil
}

// Device returns the device with the given ID.
func (s *Store) Device(ctx context.Context, id string) (tether.Device, error) {
	return getDevice(ctx, s.r, id)
}

// Devices returns up to limit devices ordered by ID; limit <= 0 means all.
func (s *Store) Devices(ctx context.Context, limit int) ([]tether.Device, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var ds []tether.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return ds, nil
}

// DeviceCounts returns how many devices are registered, enabled and
// disabled.
func (s *Store) DeviceCounts(ctx context.Context) (total, enabled, disabled int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT count(*),
		coalesce(sum(status = ?), 0), coalesce(sum(status = ?), 0) FROM devices`,
		tether.StatusEnabled, tether.StatusDisabled).Scan(&total, &enabled, &disabled)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("count devices: %w", err)
	}
	return total, enabled, disabled, nil
}

// UpdateDevice reads the device, lets fn change it, and writes it back with
// its Version one above the stored one, all in one write transaction. An
// error from fn aborts the update and is returned unchanged; fn must not
// change the ID. It returns the device as stored.
func (s *Store) UpdateDevice(ctx context.Context, id string, fn func(*tether.Device) error) (tether.Device, error) {
	var d tether.Device
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if d, err = getDevice(ctx, tx, id); err != nil {
			return err
		}
		version := d.Version
		if fn != nil {
			if err := fn(&d); err != nil {
				return err
			}
		}
		if d.ID != id {
			return fmt.Errorf("update device %q: the callback changed the ID to %q", id, d.ID)
		}
		d.Version = version + 1
		_, err = tx.ExecContext(ctx, `UPDATE devices SET (`+deviceColumns+`)
			= (`+devicePlaceholders+`) WHERE id = ?`,
			append(deviceValues(d), id)...)
		if err != nil {
			return fmt.Errorf("update device %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return tether.Device{}, err
	}
	return d, nil
}

// DeleteDevice deletes the device and its twin in one write transaction,
// unless fn, given the stored device, returns an error (a stale ETag, say),
// which is returned unchanged. fn may be nil.
func (s *Store) DeleteDevice(ctx context.Context, id string, fn func(tether.Device) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		d, err := getDevice(ctx, tx, id)
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(d); err != nil {
				return err
			}
		}
		// The twin goes with it: ON DELETE CASCADE.
		if _, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete device %q: %w", id, err)
		}
		return nil
	})
}

func getDevice(ctx context.Context, q querier, id string) (tether.Device, error) {
	d, err := scanDevice(q.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return tether.Device{}, deviceNotFound(id)
	}
	if err != nil {
		return tether.Device{}, fmt.Errorf("read device %q: %w", id, err)
	}
	return d, nil
}

// deviceValues returns d's values in deviceColumns order.
func deviceValues(d tether.Device) []any {
	a := d.Auth
	return []any{d.ID, d.GenerationID, d.Version, string(d.Status), d.StatusReason,
		formatTime(d.StatusUpdatedTime), string(d.ConnectionState),
		formatTime(d.ConnectionStateUpdatedTime), formatTime(d.LastActivityTime),
		d.CloudToDeviceMessageCount, string(a.Type), a.PrimaryKey.Reveal(),
		a.SecondaryKey.Reveal(), a.PrimaryThumbprint, a.SecondaryThumbprint, d.IoTEdge,
		formatTime(d.LastDisconnect.Time), string(d.LastDisconnect.Reason), int(d.LastDisconnect.Code)}
}

func scanDevice(sc scanner) (tether.Device, error) {
	var (
		d                                    tether.Device
		statusUpdated, connUpdated, activity string
		lastDisc                             string
		primary, secondary                   string
	)
	a := &d.Auth
	err := sc.Scan(&d.ID, &d.GenerationID, &d.Version, &d.Status, &d.StatusReason,
		&statusUpdated, &d.ConnectionState, &connUpdated, &activity,
		&d.CloudToDeviceMessageCount, &a.Type, &primary, &secondary,
		&a.PrimaryThumbprint, &a.SecondaryThumbprint, &d.IoTEdge,
		&lastDisc, &d.LastDisconnect.Reason, &d.LastDisconnect.Code)
	if err != nil {
		return tether.Device{}, err
	}
	a.PrimaryKey, a.SecondaryKey = tether.Secret(primary), tether.Secret(secondary)
	for _, t := range []struct {
		s   string
		dst *time.Time
	}{{statusUpdated, &d.StatusUpdatedTime}, {connUpdated, &d.ConnectionStateUpdatedTime}, {activity, &d.LastActivityTime}, {lastDisc, &d.LastDisconnect.Time}} {
		if *t.dst, err = parseTime(t.s); err != nil {
			return tether.Device{}, err
		}
	}
	return d, nil
}
