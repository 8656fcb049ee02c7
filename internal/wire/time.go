package wire

import (
	"strconv"
	"time"
)

// Time formats a time as the service API does; the zero time is
// "0001-01-01T00:00:00Z". On input it accepts RFC 3339 and Azure's
// zone-less "0001-01-01T00:00:00".
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte(`"0001-01-01T00:00:00Z"`), nil
	}
	return []byte(strconv.Quote(tt.UTC().Format(time.RFC3339Nano))), nil
}

// UnmarshalJSON implements json.Unmarshaler. Unparseable times become the
// zero time: they are read-only fields the hub ignores on input.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		*t = Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999"} {
		if tt, err := time.Parse(layout, s); err == nil {
			if tt.Year() <= 1 {
				tt = time.Time{}
			}
			*t = Time(tt)
			return nil
		}
	}
	*t = Time{}
	return nil
}

// Std returns t as a time.Time.
func (t Time) Std() time.Time { return time.Time(t) }
