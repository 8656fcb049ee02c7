package kql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// aggregates are the aggregation functions summarize accepts.
var aggregates = map[string]bool{
	"count": true, "countif": true, "dcount": true, "min": true, "max": true, "avg": true,
	"sum": true, "sumif": true, "arg_max": true, "arg_min": true, "make_list": true, "make_set": true,
}

// scalarFuncs are the scalar functions; the values are argument counts
// (min, max; -1 = any).
var scalarFuncs = map[string][2]int{
	"tostring": {1, 1}, "parse_json": {1, 1}, "todynamic": {1, 1}, "parsejson": {1, 1}, "toobject": {1, 1},
	"toint": {1, 1}, "tolong": {1, 1}, "todouble": {1, 1}, "toreal": {1, 1}, "todatetime": {1, 1},
	"totimespan": {1, 1}, "tobool": {1, 1}, "toboolean": {1, 1},
	"isempty": {1, 1}, "isnotempty": {1, 1}, "isnull": {1, 1}, "isnotnull": {1, 1},
	"iff": {3, 3}, "iif": {3, 3}, "case": {3, -1}, "strcat": {1, 64}, "tolower": {1, 1}, "toupper": {1, 1},
	"strlen": {1, 1}, "substring": {2, 3}, "coalesce": {1, 64}, "not": {1, 1},
	"now": {0, 1}, "ago": {1, 1}, "bin": {2, 2}, "floor": {2, 2}, "startofday": {1, 1},
	"extract_json": {2, 3}, "extractjson": {2, 3}, "abs": {1, 1}, "round": {1, 2},
	"min_of": {2, 64}, "max_of": {2, 64}, "array_length": {1, 1},
}

// hints are names people write for functions that have another name in
// KQL.
var hints = map[string]string{
	"json_extract": "extract_json", "json_value": "extract_json", "len": "strlen", "length": "strlen",
	"lower": "tolower", "upper": "toupper", "concat": "strcat", "if": "iff", "substr": "substring",
	"isblank": "isempty", "ifnull": "coalesce", "nvl": "coalesce", "to_string": "tostring",
	"cast": "tostring", "json_parse": "parse_json", "count_distinct": "dcount", "average": "avg",
	"mean": "avg", "datetime_now": "now", "getdate": "now", "current_timestamp": "now",
}

func funcNames() []string {
	var n []string
	for k := range scalarFuncs {
		n = append(n, k)
	}
	for k := range aggregates {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func (c *compiler) call(x *syntax.Call, e *env) *sx {
	if aggregates[x.Name] {
		if !e.aggOK {
			panic(errorf(CodeSemantic, x.Pos, "'%s' is an aggregate function; it can only be used in summarize", x.Name))
		}
		if e.inAgg {
			panic(errorf(CodeSemantic, x.Pos, "aggregate '%s' cannot be nested in another aggregate", x.Name))
		}
		return c.aggregate(x, e)
	}
	arity, ok := scalarFuncs[x.Name]
	if !ok {
		msg := fmt.Sprintf("unknown function '%s'", x.Name)
		if h := hints[x.Name]; h != "" {
			msg += fmt.Sprintf("; did you mean '%s'?", h)
		} else if s := syntax.Suggest(x.Name, funcNames()); s != "" {
			msg += fmt.Sprintf("; did you mean '%s'?", s)
		}
		panic(errorf(CodeSemantic, x.Pos, "%s", msg))
	}
	if len(x.Args) < arity[0] || arity[1] >= 0 && len(x.Args) > arity[1] {
		want := fmt.Sprint(arity[0])
		if arity[1] != arity[0] {
			if arity[1] < 0 {
				want = fmt.Sprintf("at least %d", arity[0])
			} else {
				want = fmt.Sprintf("%d to %d", arity[0], arity[1])
			}
		}
		panic(errorf(CodeSemantic, x.Pos, "%s() takes %s argument(s), not %d", x.Name, want, len(x.Args)))
	}
	var args []*sx
	agg := false
	for _, a := range x.Args {
		s := c.scalar(a, e)
		agg = agg || s.agg
		args = append(args, s)
	}
	out := c.scalarCall(x, args)
	out.agg = out.agg || agg
	return out
}

func (c *compiler) scalarCall(x *syntax.Call, a []*sx) *sx {
	pos := x.Pos
	argErr := func(i int, want string) {
		panic(errorf(CodeSemantic, x.Args[i].ExprPos(), "%s() needs %s, not %s", x.Name, want, a[i].typ))
	}
	switch x.Name {
	case "tostring":
		return &sx{sql: c.str(a[0]), typ: "string", dev: a[0].dev}
	case "parse_json", "todynamic", "parsejson", "toobject":
		v := a[0]
		if v.typ == "dynamic" {
			return v
		}
		d := &dynPath{root: c.str(v), baseProp: v.col != nil && v.col.prop}
		return &sx{sql: d.get(), typ: "dynamic", dyn: d, null: true}
	case "toint", "tolong":
		typ := "long"
		if x.Name == "toint" {
			typ = "int"
		}
		switch a[0].typ {
		case "long", "int", "bool":
			return &sx{sql: a[0].sql, typ: typ, null: a[0].null}
		case "real":
			return &sx{sql: "CAST(" + a[0].sql + " AS INTEGER)", typ: typ, null: true}
		case "string", "dynamic":
			return &sx{sql: "kql_tolong(" + c.str(a[0]) + ")", typ: typ, null: true}
		case "datetime", "timespan":
			return &sx{sql: "(" + a[0].sql + " / 100)", typ: typ, null: true} // ticks
		}
		argErr(0, "a number or string")
	case "todouble", "toreal":
		switch a[0].typ {
		case "long", "int", "real", "bool":
			return &sx{sql: "CAST(" + a[0].sql + " AS REAL)", typ: "real", null: true}
		case "string", "dynamic":
			return &sx{sql: "kql_toreal(" + c.str(a[0]) + ")", typ: "real", null: true}
		}
		argErr(0, "a number or string")
	case "todatetime":
		switch a[0].typ {
		case "datetime":
			return a[0]
		case "string", "dynamic":
			return &sx{sql: "kql_todatetime(" + c.str(a[0]) + ")", typ: "datetime", null: true}
		}
		argErr(0, "a string or datetime")
	case "totimespan":
		switch a[0].typ {
		case "timespan":
			return a[0]
		case "string", "dynamic":
			return &sx{sql: "kql_totimespan(" + c.str(a[0]) + ")", typ: "timespan", null: true}
		}
		argErr(0, "a string or timespan")
	case "tobool", "toboolean":
		switch a[0].typ {
		case "bool":
			return a[0]
		case "long", "int", "real":
			return &sx{sql: "(CASE WHEN " + a[0].sql + " IS NULL THEN NULL WHEN " + a[0].sql + " <> 0 THEN 1 ELSE 0 END)", typ: "bool", null: true}
		case "string", "dynamic":
			return &sx{sql: "kql_tobool(" + c.str(a[0]) + ")", typ: "bool", null: true}
		}
		argErr(0, "a string or number")
	case "isempty", "isnotempty":
		s := "(" + c.str(a[0]) + " = '')"
		if x.Name == "isnotempty" {
			s = "(" + c.str(a[0]) + " <> '')"
		}
		return &sx{sql: s, typ: "bool"}
	case "isnull", "isnotnull":
		if a[0].typ == "string" {
			return c.konst("bool", x.Name == "isnotnull")
		}
		op := " IS NULL)"
		if x.Name == "isnotnull" {
			op = " IS NOT NULL)"
		}
		v := a[0].sql
		if a[0].typ == "dynamic" {
			v = "kql_json_get(" + v + ")" // '' and JSON null are null
		}
		return &sx{sql: "(" + v + op, typ: "bool"}
	case "iff", "iif":
		if a[0].typ != "bool" {
			argErr(0, "a bool condition")
		}
		typ := c.unify(x, a[1:])
		return &sx{sql: "(CASE WHEN " + a[0].sql + " THEN " + c.as(a[1], typ) + " ELSE " + c.as(a[2], typ) + " END)", typ: typ, null: typ != "string"}
	case "case":
		if len(a)%2 == 0 {
			panic(errorf(CodeSemantic, pos, "case() needs pairs of condition and value, then an else value"))
		}
		var vals []*sx
		for i := 1; i < len(a); i += 2 {
			vals = append(vals, a[i])
		}
		vals = append(vals, a[len(a)-1])
		typ := c.unify(x, vals)
		var b strings.Builder
		b.WriteString("(CASE")
		for i := 0; i+1 < len(a); i += 2 {
			if a[i].typ != "bool" {
				argErr(i, "a bool condition")
			}
			b.WriteString(" WHEN " + a[i].sql + " THEN " + c.as(a[i+1], typ))
		}
		b.WriteString(" ELSE " + c.as(a[len(a)-1], typ) + " END)")
		return &sx{sql: b.String(), typ: typ, null: typ != "string"}
	case "strcat":
		var parts []string
		for _, v := range a {
			parts = append(parts, c.str(v))
		}
		return &sx{sql: "(" + strings.Join(parts, " || ") + ")", typ: "string"}
	case "tolower":
		return &sx{sql: "kql_lower(" + c.str(a[0]) + ")", typ: "string"}
	case "toupper":
		return &sx{sql: "kql_upper(" + c.str(a[0]) + ")", typ: "string"}
	case "strlen":
		return &sx{sql: "length(" + c.str(a[0]) + ")", typ: "long"}
	case "substring":
		for i := 1; i < len(a); i++ {
			if !isNumeric(a[i].typ) {
				argErr(i, "a number")
			}
		}
		ln := "-1"
		if len(a) == 3 {
			ln = a[2].sql
		}
		return &sx{sql: "kql_substring(" + c.str(a[0]) + ", " + a[1].sql + ", " + ln + ")", typ: "string"}
	case "coalesce":
		typ := c.unify(x, a)
		var parts []string
		for _, v := range a {
			parts = append(parts, c.as(v, typ))
		}
		if typ == "string" {
			return &sx{sql: "COALESCE(" + strings.Join(nonEmpty(parts), ", ") + ", '')", typ: typ}
		}
		if len(parts) == 1 {
			return &sx{sql: parts[0], typ: typ, null: true}
		}
		return &sx{sql: "COALESCE(" + strings.Join(parts, ", ") + ")", typ: typ, null: true}
	case "not":
		if a[0].typ != "bool" {
			argErr(0, "a bool")
		}
		return &sx{sql: "(NOT " + a[0].sql + ")", typ: "bool", null: a[0].null}
	case "now":
		t := c.now.UnixNano()
		if len(a) == 1 {
			d := c.constSpan(x, a[0], 0)
			t += d
		}
		return c.konst("datetime", t)
	case "ago":
		return c.konst("datetime", c.now.UnixNano()-c.constSpan(x, a[0], 0))
	case "bin", "floor":
		return c.bin(x, a[0], a[1])
	case "startofday":
		if a[0].typ != "datetime" {
			argErr(0, "a datetime")
		}
		return c.bin(x, a[0], c.konst("timespan", int64(24*time.Hour)))
	case "extract_json", "extractjson":
		if !a[0].konst || a[0].typ != "string" {
			panic(errorf(CodeSemantic, x.Args[0].ExprPos(), "%s() needs a constant JSON path such as \"$.deviceId\"", x.Name))
		}
		keys, err := parseJSONPath(a[0].val.(string))
		if err != nil {
			panic(errorf(CodeSemantic, x.Args[0].ExprPos(), "%v", err))
		}
		d := &dynPath{root: c.str(a[1])}
		for _, k := range keys {
			d.path = append(d.path, c.arg(k))
		}
		return &sx{sql: d.str(), typ: "string"}
	case "abs":
		if !isNumeric(a[0].typ) && a[0].typ != "timespan" {
			argErr(0, "a number")
		}
		return &sx{sql: "abs(" + a[0].sql + ")", typ: a[0].typ, null: true}
	case "round":
		if !isNumeric(a[0].typ) {
			argErr(0, "a number")
		}
		n := "0"
		if len(a) == 2 {
			n = a[1].sql
		}
		return &sx{sql: "round(" + a[0].sql + ", " + n + ")", typ: "real", null: true}
	case "min_of", "max_of":
		typ := c.unify(x, a)
		var parts []string
		for _, v := range a {
			parts = append(parts, c.as(v, typ))
		}
		return &sx{sql: strings.TrimSuffix(x.Name, "_of") + "(" + strings.Join(parts, ", ") + ")", typ: typ, null: true}
	case "array_length":
		if a[0].typ != "dynamic" {
			argErr(0, "a dynamic array")
		}
		return &sx{sql: "kql_array_length(" + a[0].sql + ")", typ: "long", null: true}
	}
	panic(errorf(CodeSemantic, pos, "function '%s' is not implemented", x.Name))
}

func nonEmpty(parts []string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, "NULLIF("+p+", '')")
	}
	return out
}

// unify returns the common type of values (branches of iff, case,
// coalesce), widening numbers.
func (c *compiler) unify(x *syntax.Call, vals []*sx) string {
	typ := ""
	for _, v := range vals {
		if v.konst && v.val == nil && v.typ != "string" {
			continue
		}
		switch {
		case typ == "" || typ == v.typ:
			typ = v.typ
		case isNumeric(typ) && isNumeric(v.typ):
			if typ == "real" || v.typ == "real" {
				typ = "real"
			} else {
				typ = "long"
			}
		default:
			panic(errorf(CodeSemantic, x.Pos, "the values of %s() have different types: %s and %s", x.Name, typ, v.typ))
		}
	}
	if typ == "" {
		typ = vals[0].typ
	}
	return typ
}

// as returns v's SQL for a context of type typ (only widening is needed).
func (c *compiler) as(v *sx, typ string) string {
	if typ == "string" {
		return c.str(v)
	}
	if v.konst && v.val == nil {
		return "NULL"
	}
	return v.sql
}

// constSpan returns the value of a constant timespan argument.
func (c *compiler) constSpan(x *syntax.Call, v *sx, i int) int64 {
	if v.typ != "timespan" || !v.konst || v.val == nil {
		panic(errorf(CodeSemantic, x.Args[i].ExprPos(), "%s() needs a constant timespan such as 1h", x.Name))
	}
	return v.val.(int64)
}

// bin rounds down to a multiple of size (floor, from the Unix epoch for
// datetimes).
func (c *compiler) bin(x *syntax.Call, v, size *sx) *sx {
	if !size.konst {
		panic(errorf(CodeSemantic, x.Args[len(x.Args)-1].ExprPos(), "the bin size must be a constant"))
	}
	switch {
	case (v.typ == "datetime" || v.typ == "timespan") && size.typ == "timespan",
		(v.typ == "long" || v.typ == "int") && (size.typ == "long" || size.typ == "int"):
		n, _ := size.val.(int64)
		if n <= 0 {
			return &sx{sql: "NULL", typ: v.typ, null: true, agg: v.agg}
		}
		if n == hourNanos && c.hourIndexed(v) {
			// Times in the store are after the epoch, where integer
			// division floors.
			k := hourExpr(v.sql)
			return &sx{sql: "((" + k + ") * " + size.sql + ")", typ: v.typ, null: true, hourKey: k}
		}
		return &sx{sql: "(" + v.sql + " - ((" + v.sql + " % " + size.sql + ") + " + size.sql + ") % " + size.sql + ")", typ: v.typ, null: true, agg: v.agg}
	case isNumeric(v.typ) && isNumeric(size.typ):
		f := toFloat(size.val)
		if f <= 0 {
			return &sx{sql: "NULL", typ: "real", null: true, agg: v.agg}
		}
		return &sx{sql: "(floor(" + v.sql + " / " + size.sql + ") * " + size.sql + ")", typ: "real", null: true, agg: v.agg}
	}
	panic(errorf(CodeSemantic, x.Pos, "%s() cannot round %s by %s; use a timespan size for datetimes (bin(TimeGenerated, 1h))", x.Name, v.typ, size.typ))
}

// hourNanos is an hour in nanoseconds, the unit of datetimes in the store.
const hourNanos = int64(time.Hour)

// hourExpr is the expression the store's hour index is on
// (migrations-logs/0005_hour_index.sql), over the time column t. SQLite
// uses an index on an expression only for that same expression, so it
// is written out, not bound.
func hourExpr(t string) string { return t + " / " + strconv.FormatInt(hourNanos, 10) }

// hourIndexed tells whether v is the unmodified time column of the
// query's only table read, and that table has an hour index.
func (c *compiler) hourIndexed(v *sx) bool {
	return v.col != nil && v.col.baseTime && v.typ == "datetime" &&
		len(c.reads) == 1 && c.reads[0].table.hourIndex
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// parseJSONPath reads $.a.b[0]['c'] into keys (string) and indexes
// (int64).
func parseJSONPath(p string) ([]any, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("JSON path %q must start with $", p)
	}
	var keys []any
	s := p[1:]
	for s != "" {
		switch {
		case s[0] == '.':
			s = s[1:]
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			if end == 0 {
				return nil, fmt.Errorf("empty name in JSON path %q", p)
			}
			keys = append(keys, s[:end])
			s = s[end:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("missing ] in JSON path %q", p)
			}
			in := strings.TrimSpace(s[1:end])
			s = s[end+1:]
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				keys = append(keys, in[1:len(in)-1])
				continue
			}
			var n int64
			if _, err := fmt.Sscan(in, &n); err != nil {
				return nil, fmt.Errorf("invalid index %q in JSON path %q", in, p)
			}
			keys = append(keys, n)
		default:
			return nil, fmt.Errorf("unexpected %q in JSON path %q", s[:1], p)
		}
	}
	return keys, nil
}
