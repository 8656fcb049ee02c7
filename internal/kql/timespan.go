package kql

import (
	"fmt"
	"strings"
	"time"
)

// ParseTimespan parses a request timespan: an ISO 8601 duration ("PT1H",
// "P1D", "P7DT12H") meaning [now-d, now], or an interval "start/end",
// "start/duration" or "duration/end".
func ParseTimespan(s string, now time.Time) (TimeRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return TimeRange{}, fmt.Errorf("empty timespan")
	}
	if a, b, ok := strings.Cut(s, "/"); ok {
		if strings.HasPrefix(a, "P") {
			d, err := parseISODuration(a)
			if err != nil {
				return TimeRange{}, err
			}
			end, err := parseInstant(b)
			if err != nil {
				return TimeRange{}, err
			}
			return TimeRange{Start: end.Add(-d), End: end}, nil
		}
		start, err := parseInstant(a)
		if err != nil {
			return TimeRange{}, err
		}
		if strings.HasPrefix(b, "P") {
			d, err := parseISODuration(b)
			if err != nil {
				return TimeRange{}, err
			}
			return TimeRange{Start: start, End: start.Add(d)}, nil
		}
		end, err := parseInstant(b)
		if err != nil {
			return TimeRange{}, err
		}
		if end.Before(start) {
			return TimeRange{}, fmt.Errorf("timespan %q ends before it starts", s)
		}
		return TimeRange{Start: start, End: end}, nil
	}
	d, err := parseISODuration(s)
	if err != nil {
		return TimeRange{}, err
	}
	now = now.UTC()
	return TimeRange{Start: now.Add(-d), End: now}, nil
}

func parseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t.UTC(), nil
	}
	t, err = parseDatetime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q in timespan: use RFC 3339 such as 2026-11-25T10:00:00Z", s)
	}
	return t, nil
}

// parseISODuration reads PnW, PnDTnHnMnS (fractions allowed on the last
// unit). Years and months are refused: their length varies.
func parseISODuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid timespan %q: use an ISO 8601 duration such as PT1H, P1D or P7DT12H, or an interval start/end", s)
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, bad
	}
	rest := s[1:]
	var total float64
	inTime := false
	seen := false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, bad
			}
			inTime = true
			rest = rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' || rest[i] == ',') {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, bad
		}
		var n float64
		if _, err := fmt.Sscan(strings.ReplaceAll(rest[:i], ",", "."), &n); err != nil {
			return 0, bad
		}
		unit := rest[i]
		rest = rest[i+1:]
		var d time.Duration
		switch {
		case !inTime && unit == 'W':
			d = 7 * 24 * time.Hour
		case !inTime && unit == 'D':
			d = 24 * time.Hour
		case inTime && unit == 'H':
			d = time.Hour
		case inTime && unit == 'M':
			d = time.Minute
		case inTime && unit == 'S':
			d = time.Second
		case !inTime && (unit == 'Y' || unit == 'M'):
			return 0, fmt.Errorf("invalid timespan %q: years and months are not supported; use days (P30D)", s)
		default:
			return 0, bad
		}
		total += n * float64(d)
		seen = true
	}
	if !seen || total > float64(200*365*24*time.Hour) {
		return 0, bad
	}
	return time.Duration(total), nil
}
