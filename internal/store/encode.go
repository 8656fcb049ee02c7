package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// formatTime returns t as stored: RFC 3339 in UTC with nanoseconds.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// parseTime reads a time written by formatTime. Times come back in UTC,
// the zero time as the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// encodeMap returns m as a JSON object; nil becomes {}.
func encodeMap(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// decodeMap reads a JSON object written by encodeMap; null becomes an
// empty map. Numbers come back as float64.
func decodeMap(s string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("stored JSON: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
