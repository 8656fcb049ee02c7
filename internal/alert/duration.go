package alert

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a Go duration ("5m", "90s") or an ISO 8601 duration
// ("PT5M", "P1DT2H").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration; write it as 5m, 30s or PT5M")
	}
	if s[0] == 'P' || s[0] == 'p' {
		return parseISO(strings.ToUpper(s))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write it as 5m, 30s or PT5M", s)
	}
	return d, nil
}

func parseISO(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not an ISO 8601 duration such as PT5M or P1DT2H", s)
	rest := s[1:]
	var d time.Duration
	inTime := false
	units := 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, bad
			}
			inTime, rest = true, rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, bad
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, bad
		}
		var unit time.Duration
		switch {
		case !inTime && rest[i] == 'D':
			unit = 24 * time.Hour
		case !inTime && rest[i] == 'W':
			unit = 7 * 24 * time.Hour
		case inTime && rest[i] == 'H':
			unit = time.Hour
		case inTime && rest[i] == 'M':
			unit = time.Minute
		case inTime && rest[i] == 'S':
			unit = time.Second
		default:
			return 0, bad
		}
		d += time.Duration(n * float64(unit))
		units++
		rest = rest[i+1:]
	}
	if units == 0 {
		return 0, bad
	}
	return d, nil
}

// ISODuration writes d as ISO 8601: PT5M, PT10S, PT1H30M, P1D.
func ISODuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	if days := d / (24 * time.Hour); days > 0 && d%(24*time.Hour) == 0 {
		fmt.Fprintf(&b, "%dD", days)
		return b.String()
	}
	b.WriteString("T")
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S")
	}
	return b.String()
}

// durationUnit is a unit that unitDuration may write.
type durationUnit struct {
	d time.Duration
	s string
}

var (
	// promUnits are Prometheus' duration units, largest first.
	promUnits = []durationUnit{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}}
	// goUnits are those of Go's time.ParseDuration that rules use.
	goUnits = []durationUnit{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
)

// promDuration writes d as Prometheus does: 5m, 10s, 1h30m, 2d.
func promDuration(d time.Duration) string { return unitDuration(d, promUnits) }

// shortDuration writes d as Go's time.ParseDuration reads it, without
// zero units: 5m, 10s, 1h30m, 48h.
func shortDuration(d time.Duration) string { return unitDuration(d, goUnits) }

// unitDuration writes d as a sum of units, largest first, leaving out
// the zero ones; what is smaller than the last unit is dropped.
func unitDuration(d time.Duration, units []durationUnit) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range units {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			d -= n * u.d
		}
	}
	return b.String()
}
