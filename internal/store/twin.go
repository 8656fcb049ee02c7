package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tether-iot/tether"
)

const twinColumns = `version, tags, desired, desired_version, desired_meta,
	reported, reported_version, reported_meta`

// Twin returns the twin of the device with the given ID.
func (s *Store) Twin(ctx context.Context, id string) (tether.Twin, error) {
	return getTwin(ctx, s.r, id)
}

// UpdateTwin reads the device's twin, lets fn change it, and writes it
// back with its Version one above the stored one, all in one write
// transaction. fn changes the collections' own versions and $metadata,
// typically with [tether.TwinCollection.Patch]. An error from fn aborts
// the update and is returned unchanged; fn must not change the DeviceID.
// It returns the twin as a later [Store.Twin] would read it.
func (s *Store) UpdateTwin(ctx context.Context, id string, fn func(*tether.Twin) error) (tether.Twin, error) {
	var t tether.Twin
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = getTwin(ctx, tx, id); err != nil {
			return err
		}
		version := t.Version
		if fn != nil {
			if err := fn(&t); err != nil {
				return err
			}
		}
		if t.DeviceID != id {
			return fmt.Errorf("update twin %q: the callback changed the device ID to %q", id, t.DeviceID)
		}
		t.Version = version + 1
		row, err := encodeTwin(t)
		if err != nil {
			return fmt.Errorf("update twin %q: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE twins SET (`+twinColumns+`)
			= (?, ?, ?, ?, ?, ?, ?, ?) WHERE device_id = ?`, append(row.args(), id)...); err != nil {
			return fmt.Errorf("update twin %q: %w", id, err)
		}
		// Return what was stored: JSON numbers read back as float64.
		if t, err = row.twin(id); err != nil {
			return fmt.Errorf("update twin %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return tether.Twin{}, err
	}
	return t, nil
}

func insertTwin(ctx context.Context, tx *sql.Tx, t tether.Twin) error {
	row, err := encodeTwin(t)
	if err != nil {
		return fmt.Errorf("create twin %q: %w", t.DeviceID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO twins (device_id, `+twinColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{t.DeviceID}, row.args()...)...); err != nil {
		return fmt.Errorf("create twin %q: %w", t.DeviceID, err)
	}
	return nil
}

func getTwin(ctx context.Context, q querier, id string) (tether.Twin, error) {
	var row twinRow
	err := q.QueryRowContext(ctx, `SELECT `+twinColumns+` FROM twins WHERE device_id = ?`, id).Scan(row.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := getDevice(ctx, q, id); err != nil {
			return tether.Twin{}, err
		}
		return tether.Twin{}, fmt.Errorf("read twin %q: device is registered but has no twin", id)
	}
	if err != nil {
		return tether.Twin{}, fmt.Errorf("read twin %q: %w", id, err)
	}
	t, err := row.twin(id)
	if err != nil {
		return tether.Twin{}, fmt.Errorf("read twin %q: %w", id, err)
	}
	return t, nil
}

// twinRow is a twin as stored, in twinColumns order.
type twinRow struct {
	version               int64
	tags, desired         string
	desiredVersion        int64
	desiredMeta, reported string
	reportedVersion       int64
	reportedMeta          string
}

func (r *twinRow) dest() []any {
	return []any{&r.version, &r.tags, &r.desired, &r.desiredVersion, &r.desiredMeta,
		&r.reported, &r.reportedVersion, &r.reportedMeta}
}

func (r *twinRow) args() []any {
	return []any{r.version, r.tags, r.desired, r.desiredVersion, r.desiredMeta,
		r.reported, r.reportedVersion, r.reportedMeta}
}

func encodeTwin(t tether.Twin) (twinRow, error) {
	r := twinRow{version: t.Version, desiredVersion: t.Desired.Version, reportedVersion: t.Reported.Version}
	for _, f := range []struct {
		name string
		m    map[string]any
		dst  *string
	}{
		{"tags", t.Tags, &r.tags},
		{"desired properties", t.Desired.Props, &r.desired},
		{"desired $metadata", t.Desired.Meta, &r.desiredMeta},
		{"reported properties", t.Reported.Props, &r.reported},
		{"reported $metadata", t.Reported.Meta, &r.reportedMeta},
	} {
		var err error
		if *f.dst, err = encodeMap(f.m); err != nil {
			return twinRow{}, fmt.Errorf("encode %s: %w", f.name, err)
		}
	}
	return r, nil
}

// twin decodes r as the twin of device id.
func (r *twinRow) twin(id string) (tether.Twin, error) {
	t := tether.Twin{DeviceID: id, Version: r.version}
	t.Desired.Version, t.Reported.Version = r.desiredVersion, r.reportedVersion
	for _, f := range []struct {
		s   string
		dst *map[string]any
	}{
		{r.tags, &t.Tags},
		{r.desired, &t.Desired.Props},
		{r.desiredMeta, &t.Desired.Meta},
		{r.reported, &t.Reported.Props},
		{r.reportedMeta, &t.Reported.Meta},
	} {
		var err error
		if *f.dst, err = decodeMap(f.s); err != nil {
			return tether.Twin{}, err
		}
	}
	return t, nil
}
