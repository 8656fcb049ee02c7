package kql

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// The binary operators: comparisons (with KQL's null rules), arithmetic on
// numbers, datetimes and timespans, the string operators, in and *.

func both(l, r *sx) bool { return l.agg || r.agg }

func (c *compiler) binary(x *syntax.Binary, e *env) *sx {
	if _, ok := x.L.(*syntax.Star); ok {
		return c.starOp(x, e)
	}
	if x.Op == ":" {
		panic(errorf(CodeSemantic, x.Pos, "':' is only allowed in a search predicate (search Column:\"term\")"))
	}
	l, r := c.scalar(x.L, e), c.scalar(x.R, e)
	agg := both(l, r)
	switch x.Op {
	case "and", "or":
		for _, s := range []*sx{l, r} {
			if s.typ != "bool" && !(s.konst && s.val == nil) {
				panic(errorf(CodeSemantic, x.Pos, "'%s' needs bool operands, not %s", x.Op, s.typ))
			}
		}
		return &sx{sql: l.sql + " " + strings.ToUpper(x.Op) + " " + r.sql, typ: "bool", agg: agg, null: l.null || r.null}
	case "==", "!=", "<>", "<", "<=", ">", ">=":
		c.comparable(x.Pos, x.Op, l, r)
		if e.star { // in a where or search predicate
			c.noteTime(l)
			c.noteTime(r)
		}
		ls, rs := scalarOf(l), scalarOf(r)
		switch x.Op {
		case "==":
			if dev := c.deviceIndex(l, r, e); dev != "" {
				return &sx{sql: dev, typ: "bool", agg: agg}
			}
			if !e.star && (l.null || r.null) {
				// A value, not a filter: false when one side is null.
				return &sx{sql: nullCompare(ls, "=", rs, "0"), typ: "bool", agg: agg, null: l.null && r.null}
			}
			return &sx{sql: ls + " = " + rs, typ: "bool", agg: agg, null: l.null || r.null}
		case "!=", "<>":
			if !l.null && !r.null {
				return &sx{sql: ls + " <> " + rs, typ: "bool", agg: agg}
			}
			if !e.star {
				// A value: true when one side is null, null when both are.
				return &sx{sql: nullCompare(ls, "<>", rs, "1"), typ: "bool", agg: agg, null: l.null && r.null}
			}
			// KQL keeps rows where one side is null.
			return &sx{sql: ls + " IS NOT " + rs, typ: "bool", agg: agg}
		}
		return &sx{sql: ls + " " + x.Op + " " + rs, typ: "bool", agg: agg, null: true}
	case "+", "-", "*", "/", "%":
		return c.arith(x, l, r)
	case "matches regex":
		if !r.konst {
			panic(errorf(CodeSemantic, x.R.ExprPos(), "the regular expression of matches regex must be a constant"))
		}
		if err := checkRegex(fmt.Sprint(r.val)); err != nil {
			panic(errorf(CodeSemantic, x.R.ExprPos(), "invalid regular expression: %v", err))
		}
		return &sx{sql: "kql_regex(" + c.str(l) + ", " + c.str(r) + ")", typ: "bool", agg: agg}
	}
	if fn, neg, ok := stringOp(x.Op); ok {
		s := fn(c.str(l), c.str(r))
		if neg {
			s = "NOT " + s
		}
		return &sx{sql: s, typ: "bool", agg: agg}
	}
	panic(errorf(CodeSemantic, x.Pos, "unknown operator '%s'", x.Op))
}

// stringOp returns the SQL builder of a string operator and whether it is
// negated.
func stringOp(op string) (func(a, b string) string, bool, bool) {
	neg := strings.HasPrefix(op, "!")
	base := strings.TrimPrefix(op, "!")
	cs := strings.HasSuffix(base, "_cs")
	name := strings.TrimSuffix(base, "_cs")
	flag := "0"
	if cs {
		flag = "1"
	}
	switch name {
	case "=~":
		return func(a, b string) string { return "kql_eq(" + a + ", " + b + ", 0)" }, false, true
	case "~":
		if op == "!~" {
			return func(a, b string) string { return "kql_eq(" + a + ", " + b + ", 0)" }, true, true
		}
	case "contains", "has", "startswith", "endswith", "hasprefix", "hassuffix":
		return func(a, b string) string { return "kql_" + name + "(" + a + ", " + b + ", " + flag + ")" }, neg, true
	}
	return nil, false, false
}

// deviceIndex answers tostring(parse_json(properties_s).deviceId) == "x"
// through the indexed _DeviceId column: the index finds the rows, and the
// original test keeps the answer exact.
func (c *compiler) deviceIndex(l, r *sx, e *env) string {
	if r.dev && !l.dev {
		l, r = r, l
	}
	if !l.dev || (l.typ != "string" && l.typ != "dynamic") || !r.konst || r.typ != "string" || r.val == "" || e.r == nil || e.r.hiddenSQL(deviceIDColumn) == nil {
		return ""
	}
	// A row whose deviceId is "x" (as a string, or as the dynamic string
	// parse_json(properties_s).deviceId) has _DeviceId "x". likelihood
	// tells the planner the test is very selective, so it prefers the
	// (_DeviceId, TimeGenerated) index to the category one.
	return "(likelihood(" + quote(deviceIDColumn) + " = " + r.sql + ", 0.000001) AND " + scalarOf(l) + " = " + r.sql + ")"
}

func (c *compiler) arith(x *syntax.Binary, l, r *sx) *sx {
	lt, rt := l.typ, r.typ
	var typ string
	switch {
	case isNumeric(lt) && isNumeric(rt):
		typ = "long"
		if lt == "real" || rt == "real" {
			typ = "real"
		} else if lt == "int" && rt == "int" {
			typ = "int"
		}
		if x.Op == "/" && typ != "real" {
			return &sx{sql: "kql_idiv(" + l.sql + ", " + r.sql + ")", typ: typ, agg: both(l, r), null: true}
		}
	case lt == "datetime" && rt == "timespan" && (x.Op == "+" || x.Op == "-"),
		lt == "timespan" && rt == "datetime" && x.Op == "+":
		typ = "datetime"
	case lt == "datetime" && rt == "datetime" && x.Op == "-":
		typ = "timespan"
	case lt == "timespan" && rt == "timespan" && (x.Op == "+" || x.Op == "-" || x.Op == "%"):
		typ = "timespan"
	case lt == "timespan" && rt == "timespan" && x.Op == "/":
		return &sx{sql: "(CAST(" + l.sql + " AS REAL) / " + r.sql + ")", typ: "real", agg: both(l, r), null: true}
	case lt == "timespan" && isNumeric(rt) && (x.Op == "*" || x.Op == "/"),
		isNumeric(lt) && rt == "timespan" && x.Op == "*":
		return &sx{sql: "CAST(" + l.sql + " " + x.Op + " " + r.sql + " AS INTEGER)", typ: "timespan", agg: both(l, r), null: true}
	default:
		panic(errorf(CodeSemantic, x.Pos, "operator '%s' cannot be applied to %s and %s", x.Op, lt, rt))
	}
	if l.konst && r.konst {
		if v, ok := foldArith(x.Op, l.val, r.val); ok {
			return c.konst(typ, v)
		}
	}
	return &sx{sql: "(" + l.sql + " " + x.Op + " " + r.sql + ")", typ: typ, agg: both(l, r), null: true}
}

// foldArith folds integer arithmetic on constants (ago(1h) - 5m and the
// like), so let values stay constants.
func foldArith(op string, a, b any) (any, bool) {
	x, ok1 := a.(int64)
	y, ok2 := b.(int64)
	if !ok1 || !ok2 {
		return nil, false
	}
	switch op {
	case "+":
		if (y > 0 && x > math.MaxInt64-y) || (y < 0 && x < math.MinInt64-y) {
			return nil, false
		}
		return x + y, true
	case "-":
		if (y < 0 && x > math.MaxInt64+y) || (y > 0 && x < math.MinInt64+y) {
			return nil, false
		}
		return x - y, true
	}
	return nil, false
}

func (c *compiler) in(x *syntax.In, e *env) *sx {
	l := c.scalar(x.L, e)
	if len(x.List) > MaxInList {
		panic(errorf(CodeLimitExceeded, x.Pos, "the list of %s has %d values; the limit is %d", x.Op, len(x.List), MaxInList))
	}
	var items []string
	agg := l.agg
	ci := strings.HasSuffix(x.Op, "~") || x.Op == "has_any" || x.Op == "has_all"
	var list []*sx
	var pos []syntax.Pos
	for _, it := range x.List {
		v := c.scalar(it, e)
		elems, ok := c.arrayConst(v) // x in (dynamic(["a", "b"]))
		if !ok {
			elems = []*sx{v}
		}
		for _, el := range elems {
			list = append(list, el)
			pos = append(pos, it.ExprPos())
		}
	}
	if len(list) > MaxInList {
		panic(errorf(CodeLimitExceeded, x.Pos, "the list of %s has %d values; the limit is %d", x.Op, len(list), MaxInList))
	}
	for i, v := range list {
		agg = agg || v.agg
		if ci {
			if x.Op == "has_any" || x.Op == "has_all" {
				items = append(items, c.str(v))
			} else {
				items = append(items, "kql_lower("+c.str(v)+")")
			}
			continue
		}
		c.comparable(pos[i], x.Op, l, v)
		items = append(items, scalarOf(v))
	}
	switch x.Op {
	case "has_any", "has_all":
		var parts []string
		ls := c.str(l)
		for _, it := range items {
			parts = append(parts, "kql_has("+ls+", "+it+", 0)")
		}
		j := " OR "
		if x.Op == "has_all" {
			j = " AND "
		}
		return &sx{sql: "(" + strings.Join(parts, j) + ")", typ: "bool", agg: agg}
	case "in~", "!in~":
		s := "kql_lower(" + c.str(l) + ") IN (" + strings.Join(items, ", ") + ")"
		if x.Op == "!in~" {
			s = "NOT " + s
		}
		return &sx{sql: s, typ: "bool", agg: agg}
	}
	ls := scalarOf(l)
	if x.Op == "in" {
		return &sx{sql: ls + " IN (" + strings.Join(items, ", ") + ")", typ: "bool", agg: agg, null: l.null}
	}
	s := ls + " NOT IN (" + strings.Join(items, ", ") + ")"
	if l.null {
		s = "(" + ls + " IS NULL OR " + s + ")" // KQL keeps rows whose value is null
	}
	return &sx{sql: s, typ: "bool", agg: agg}
}

// starOp compiles * <op> x: the operator applied to every column
// converted to string, ORed.
func (c *compiler) starOp(x *syntax.Binary, e *env) *sx {
	if !e.star || e.r == nil {
		panic(errorf(CodeSemantic, x.Pos, "'*' is only allowed in where and search predicates"))
	}
	r := c.scalar(x.R, e)
	rs := c.str(r)
	var fn func(a, b string) string
	neg := false
	switch x.Op {
	case "==":
		fn = func(a, b string) string { return a + " = " + b }
	default:
		var ok bool
		fn, neg, ok = stringOp(x.Op)
		if !ok {
			panic(errorf(CodeSemantic, x.Pos, "'*' cannot be used with '%s'", x.Op))
		}
	}
	var parts []string
	for _, col := range e.r.cols {
		v := &sx{sql: quote(col.sql), typ: col.typ, col: col}
		if col.inline != "" {
			v.sql = col.inline
		}
		parts = append(parts, fn(c.str(v), rs))
	}
	s := "(" + strings.Join(parts, " OR ") + ")"
	if neg {
		s = "NOT " + s
	}
	return &sx{sql: s, typ: "bool"}
}

// arrayConst expands a constant dynamic array into constants.
func (c *compiler) arrayConst(v *sx) ([]*sx, bool) {
	s, ok := v.val.(string)
	if v.typ != "dynamic" || !v.konst || !ok {
		return nil, false
	}
	var arr []any
	if err := json.Unmarshal([]byte(s), &arr); err != nil {
		return nil, false
	}
	var out []*sx
	for _, e := range arr {
		switch e := e.(type) {
		case string:
			out = append(out, c.konst("string", e))
		case float64:
			if e == math.Trunc(e) && math.Abs(e) < 1<<53 {
				out = append(out, c.konst("long", int64(e)))
			} else {
				out = append(out, c.konst("real", e))
			}
		case bool:
			out = append(out, c.konst("bool", e))
		default:
			out = append(out, &sx{sql: c.arg(encode(e)), typ: "dynamic", dyn: &dynPath{root: "NULL"}})
		}
	}
	return out, true
}

// nullCompare is KQL's l op r as a value when a side may be null: null
// when both are, oneNull (0 or 1) when one is, the SQL comparison
// otherwise. In a filter the plain comparison does, since where drops
// null and false alike.
func nullCompare(l, op, r, oneNull string) string {
	return "(CASE WHEN " + l + " IS NULL THEN (CASE WHEN " + r + " IS NULL THEN NULL ELSE " + oneNull + " END) WHEN " + r + " IS NULL THEN " + oneNull + " ELSE " + l + " " + op + " " + r + " END)"
}
