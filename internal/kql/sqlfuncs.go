package kql

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// The SQL the compiler writes calls these Go functions. modernc.org/sqlite
// keeps one process-wide function registry that every connection copies
// when it opens, so they are registered from init: by the time any store
// opens its connections (in main, after all package initialisation), the
// functions exist. They are pure and safe for concurrent use.
func init() {
	det := sqlite.MustRegisterDeterministicScalarFunction
	det("kql_json_get", -1, jsonGet)
	det("kql_json_str", -1, jsonStr)
	det("kql_json_val", -1, jsonVal)
	for name, mode := range map[string]int{"kql_contains": opContains, "kql_has": opHas, "kql_startswith": opStarts,
		"kql_endswith": opEnds, "kql_hasprefix": opHasPrefix, "kql_hassuffix": opHasSuffix, "kql_eq": opEq} {
		det(name, 3, strFunc(mode))
	}
	det("kql_lower", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return strings.ToLower(text(a[0])), nil
	})
	det("kql_upper", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		return strings.ToUpper(text(a[0])), nil
	})
	det("kql_regex", 2, regexMatch)
	det("kql_fmt_datetime", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if n, ok := a[0].(int64); ok {
			return formatDatetime(n), nil
		}
		return "", nil
	})
	det("kql_fmt_timespan", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if n, ok := a[0].(int64); ok {
			return formatTimespan(n), nil
		}
		return "", nil
	})
	det("kql_fmt_real", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		switch n := a[0].(type) {
		case float64:
			return formatReal(n), nil
		case int64:
			return strconv.FormatInt(n, 10), nil
		}
		return "", nil
	})
	det("kql_tolong", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s := strings.TrimSpace(text(a[0]))
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -9.2e18 && f <= 9.2e18 {
			return int64(f), nil
		}
		return nil, nil
	})
	det("kql_toreal", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if f, err := strconv.ParseFloat(strings.TrimSpace(text(a[0])), 64); err == nil {
			return f, nil
		}
		return nil, nil
	})
	det("kql_todatetime", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if t, err := parseInstant(strings.TrimSpace(text(a[0]))); err == nil {
			return t.UnixNano(), nil
		}
		return nil, nil
	})
	det("kql_totimespan", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if d, err := parseSpanText(text(a[0])); err == nil {
			return d, nil
		}
		return nil, nil
	})
	det("kql_tobool", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		switch strings.ToLower(strings.TrimSpace(text(a[0]))) {
		case "true", "1":
			return int64(1), nil
		case "false", "0":
			return int64(0), nil
		}
		return nil, nil
	})
	det("kql_idiv", 2, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		x, ok1 := a[0].(int64)
		y, ok2 := a[1].(int64)
		if !ok1 || !ok2 || y == 0 || (y == -1 && x == -1<<63) {
			return nil, nil
		}
		return x / y, nil
	})
	det("kql_substring", 3, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		r := []rune(text(a[0]))
		start, _ := a[1].(int64)
		n, ok := a[2].(int64)
		if start < 0 {
			start = 0
		}
		if start >= int64(len(r)) {
			return "", nil
		}
		end := int64(len(r))
		if ok && n >= 0 && start+n < end {
			end = start + n
		}
		return string(r[start:end]), nil
	})
	det("kql_array_length", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		v, ok := parseDynamic(a[0])
		if arr, isArr := v.([]any); ok && isArr {
			return int64(len(arr)), nil
		}
		return nil, nil
	})
}

func formatReal(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// text reads a SQL value as a string.
func text(v driver.Value) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatReal(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// parseCache keeps the last parsed JSON document: Q11 reads three keys of
// the same properties_s per row.
var parseCache struct {
	sync.Mutex
	src string
	val any
	ok  bool
}

// parseDynamic reads a value as parse_json does: JSON text becomes its
// value; text that is not JSON stays a string. ok is false for null.
func parseDynamic(v driver.Value) (any, bool) {
	var s string
	switch x := v.(type) {
	case nil:
		return nil, false
	case string:
		s = x
	case []byte:
		s = string(x)
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), true
	case float64:
		return json.Number(formatReal(x)), true
	default:
		s = fmt.Sprint(v)
	}
	if s == "" {
		return nil, false
	}
	parseCache.Lock()
	if parseCache.ok && parseCache.src == s {
		val := parseCache.val
		parseCache.Unlock()
		return val, val != nil
	}
	parseCache.Unlock()
	var val any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&val); err != nil || d.More() {
		val = s
	} else if _, err := d.Token(); err == nil {
		val = s
	}
	parseCache.Lock()
	parseCache.src, parseCache.val, parseCache.ok = s, val, true
	parseCache.Unlock()
	return val, val != nil
}

// walk follows a member path; ok is false for null or missing.
func walk(a []driver.Value) (any, bool) {
	if len(a) == 0 {
		return nil, false
	}
	v, ok := parseDynamic(a[0])
	for _, k := range a[1:] {
		if !ok {
			return nil, false
		}
		switch key := k.(type) {
		case string:
			m, isMap := v.(map[string]any)
			if !isMap {
				return nil, false
			}
			v, ok = m[key]
		case int64:
			arr, isArr := v.([]any)
			if !isArr {
				return nil, false
			}
			if key < 0 {
				key += int64(len(arr))
			}
			if key < 0 || key >= int64(len(arr)) {
				return nil, false
			}
			v, ok = arr[key], true
		default:
			return nil, false
		}
		ok = ok && v != nil
	}
	return v, ok
}

func encode(v any) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func jsonGet(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	v, ok := walk(a)
	if !ok {
		return nil, nil
	}
	return encode(v), nil
}

func jsonStr(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	v, ok := walk(a)
	if !ok {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return encode(v), nil
}

func jsonVal(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	v, ok := walk(a)
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, _ := x.Float64()
		return f, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return encode(v), nil
}

// The string operators.
const (
	opContains = iota
	opHas
	opStarts
	opEnds
	opHasPrefix
	opHasSuffix
	opEq
)

func strFunc(mode int) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, sub := text(a[0]), text(a[1])
		if cs, _ := a[2].(int64); cs == 0 {
			s, sub = strings.ToLower(s), strings.ToLower(sub)
		}
		var r bool
		switch mode {
		case opContains:
			r = strings.Contains(s, sub)
		case opStarts:
			r = strings.HasPrefix(s, sub)
		case opEnds:
			r = strings.HasSuffix(s, sub)
		case opEq:
			r = s == sub
		default:
			r = hasTerm(s, sub, mode)
		}
		if r {
			return int64(1), nil
		}
		return int64(0), nil
	}
}

// alnum reports whether r is part of a term: a letter or a digit. Every
// other character, '_' included, separates terms.
func alnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// hasTerm finds sub in s on term boundaries (both for has, the start for
// hasprefix, the end for hassuffix).
func hasTerm(s, sub string, mode int) bool {
	if sub == "" {
		return true
	}
	first, _ := utf8.DecodeRuneInString(sub)
	last, _ := utf8.DecodeLastRuneInString(sub)
	for i := 0; i <= len(s)-len(sub); {
		j := strings.Index(s[i:], sub)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(sub)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		startOK := start == 0 || !alnum(before) || !alnum(first)
		endOK := end == len(s) || !alnum(after) || !alnum(last)
		switch {
		case mode == opHas && startOK && endOK,
			mode == opHasPrefix && startOK,
			mode == opHasSuffix && endOK:
			return true
		}
		_, n := utf8.DecodeRuneInString(s[start:])
		i = start + n
	}
	return false
}

var regexCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

func checkRegex(p string) error {
	_, err := regexp.Compile(p)
	return err
}

func regexMatch(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	p := text(a[1])
	regexCache.Lock()
	re, ok := regexCache.m[p]
	if !ok {
		var err error
		re, err = regexp.Compile(p)
		if err != nil {
			regexCache.Unlock()
			return nil, fmt.Errorf("kql: invalid regular expression %q: %v", p, err)
		}
		if regexCache.m == nil || len(regexCache.m) > 256 {
			regexCache.m = map[string]*regexp.Regexp{}
		}
		regexCache.m[p] = re
	}
	regexCache.Unlock()
	if re.MatchString(text(a[0])) {
		return int64(1), nil
	}
	return int64(0), nil
}
