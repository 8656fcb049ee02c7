package store

import (
	"context"
	"fmt"
)

// C2DSince returns the devices with cloud-to-device messages queued after
// seq after, and the newest seq. A hub polls it to deliver messages that
// another process (the CLI on the same data folder) queued.
func (s *Store) C2DSince(ctx context.Context, after int64) (devices []string, last int64, err error) {
	rows, err := s.r.QueryContext(ctx, `SELECT device_id, max(seq) FROM c2d WHERE seq > ? GROUP BY device_id`, after)
	if err != nil {
		return nil, after, fmt.Errorf("c2d since %d: %w", after, err)
	}
	defer rows.Close()
	last = after
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, after, fmt.Errorf("c2d since %d: %w", after, err)
		}
		devices = append(devices, id)
		last = max(last, seq)
	}
	return devices, last, rows.Err()
}
