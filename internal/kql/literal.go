package kql

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// Datetimes and timespans are int64 nanoseconds: datetimes since the Unix
// epoch (UTC), so the supported range is 1678-2262.

var spanUnits = map[string]int64{
	"d": 24 * 3600e9, "day": 24 * 3600e9, "days": 24 * 3600e9,
	"h": 3600e9, "hr": 3600e9, "hrs": 3600e9, "hour": 3600e9, "hours": 3600e9,
	"m": 60e9, "min": 60e9, "minute": 60e9, "minutes": 60e9,
	"s": 1e9, "sec": 1e9, "second": 1e9, "seconds": 1e9,
	"ms": 1e6, "milli": 1e6, "millis": 1e6, "millisec": 1e6, "millisecond": 1e6, "milliseconds": 1e6,
	"micro": 1e3, "micros": 1e3, "microsec": 1e3, "microsecond": 1e3, "microseconds": 1e3,
	"nano": 1, "nanos": 1, "nanosec": 1, "nanosecond": 1, "nanoseconds": 1,
	"tick": 100, "ticks": 100,
}

// parseTimespanLit reads 5m, 1.5h, 24hr, 100ms, 3ticks into nanoseconds.
func parseTimespanLit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsLetter)
	if i <= 0 {
		return 0, fmt.Errorf("invalid timespan %q", s)
	}
	num, unit := strings.TrimSpace(s[:i]), s[i:]
	mult, ok := spanUnits[unit]
	if !ok {
		return 0, fmt.Errorf("invalid timespan unit %q in %q", unit, s)
	}
	return scale(num, mult, s)
}

// scale multiplies a decimal number by mult exactly.
func scale(num string, mult int64, orig string) (int64, error) {
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("invalid timespan %q", orig)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0, fmt.Errorf("timespan %q is out of range", orig)
	}
	return q.Int64(), nil
}

// parseSpanText reads timespan(...)'s argument: a literal (1d, 15
// seconds), a number of days, or [-][d.]hh:mm[:ss[.fffffff]].
func parseSpanText(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.IndexFunc(s, unicode.IsLetter) > 0 {
		return parseTimespanLit(strings.ReplaceAll(s, " ", ""))
	}
	if !strings.Contains(s, ":") {
		return scale(s, 24*3600e9, s)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var days int64
	if d, rest, ok := strings.Cut(s, "."); ok && !strings.Contains(d, ":") {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid timespan %q", s)
		}
		days, s = n, rest
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("invalid timespan %q", s)
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || h > 23 || m > 59 || h < 0 || m < 0 {
		return 0, fmt.Errorf("invalid timespan %q", s)
	}
	var sec int64
	if len(parts) == 3 {
		v, err := scale(parts[2], 1e9, s)
		if err != nil || v >= 60e9 || v < 0 {
			return 0, fmt.Errorf("invalid timespan %q", s)
		}
		sec = v
	}
	if days > math.MaxInt64/int64(24*time.Hour)-1 {
		return 0, fmt.Errorf("timespan %q is out of range", s)
	}
	v := days*int64(24*time.Hour) + h*int64(time.Hour) + m*int64(time.Minute) + sec
	if neg {
		v = -v
	}
	return v, nil
}

var datetimeLayouts = []string{
	"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05",
	"2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04Z07:00", "2006-01-02 15:04",
	"2006-01-02T15Z07:00", "2006-01-02", "2006-01", "2006",
	time.RFC1123, time.RFC1123Z, time.RFC850, time.RFC822, time.RFC822Z,
	"Mon, 2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04",
}

// parseDatetime reads a datetime literal's text (UTC unless it says
// otherwise).
func parseDatetime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	for _, l := range datetimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1678 || t.Year() > 2261 {
				return time.Time{}, fmt.Errorf("datetime %q is outside the supported range (years 1678 to 2261)", s)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid datetime %q; use ISO 8601 such as 2026-11-25T10:00:00Z", s)
}

func unquote(raw string) string {
	if len(raw) >= 2 && (raw[0] == '\'' || raw[0] == '"') && raw[len(raw)-1] == raw[0] {
		return raw[1 : len(raw)-1]
	}
	return raw
}

func (c *compiler) typedLit(x *syntax.TypedLit) *sx {
	raw := strings.TrimSpace(x.Raw)
	isNull := raw == "null"
	fail := func(err error) { panic(errorf(CodeSyntax, x.Pos, "%v", err)) }
	switch x.Type {
	case "datetime", "date":
		if isNull {
			return c.konst("datetime", nil)
		}
		t, err := parseDatetime(unquote(raw))
		if err != nil {
			fail(err)
		}
		return c.konst("datetime", t.UnixNano())
	case "timespan", "time":
		if isNull {
			return c.konst("timespan", nil)
		}
		d, err := parseSpanText(unquote(raw))
		if err != nil {
			fail(err)
		}
		return c.konst("timespan", d)
	case "int", "long":
		typ := x.Type
		if isNull {
			return c.konst(typ, nil)
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(raw, " ", ""), 10, 64)
		if err != nil {
			fail(fmt.Errorf("invalid %s literal %q", x.Type, raw))
		}
		if typ == "int" && (n > math.MaxInt32 || n < math.MinInt32) {
			fail(fmt.Errorf("int literal %q is out of range", raw))
		}
		return c.konst(typ, n)
	case "real", "double", "decimal":
		if isNull {
			return c.konst("real", nil)
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(raw, " ", ""), 64)
		if err != nil {
			fail(fmt.Errorf("invalid real literal %q", raw))
		}
		return c.konst("real", f)
	case "bool", "boolean":
		switch raw {
		case "null":
			return c.konst("bool", nil)
		case "true", "1":
			return c.konst("bool", true)
		case "false", "0":
			return c.konst("bool", false)
		}
		fail(fmt.Errorf("invalid bool literal %q", raw))
	case "guid":
		if isNull {
			return c.konst("string", nil)
		}
		return c.konst("string", unquote(raw))
	case "dynamic":
		if isNull {
			return &sx{sql: "NULL", typ: "dynamic", konst: true, null: true, dyn: &dynPath{root: "NULL"}}
		}
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			fail(fmt.Errorf("invalid dynamic literal: %v", err))
		}
		b, _ := json.Marshal(v)
		p := c.arg(string(b))
		return &sx{sql: p, typ: "dynamic", null: true, dyn: &dynPath{root: p}, konst: true, val: string(b)}
	}
	panic(errorf(CodeSyntax, x.Pos, "unknown literal type %s", x.Type))
}

// formatDatetime is the Log Analytics JSON form of a datetime:
// 2026-11-25T10:00:00.0000000Z.
func formatDatetime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// formatTimespan is [-][d.]hh:mm:ss[.fffffff].
func formatTimespan(ns int64) string {
	sign := ""
	u := uint64(ns)
	if ns < 0 {
		sign = "-"
		u = uint64(-ns)
	}
	ticks := u / 100
	days := ticks / (864e9)
	rem := ticks % 864e9
	h, rem := rem/36e9, rem%36e9
	m, rem := rem/6e8, rem%6e8
	s, frac := rem/1e7, rem%1e7
	out := sign
	if days > 0 {
		out += strconv.FormatUint(days, 10) + "."
	}
	out += fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if frac > 0 {
		out += fmt.Sprintf(".%07d", frac)
	}
	return out
}
