package kql

import (
	"strconv"
	"strings"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

func (c *compiler) summarize(r *rel, o *syntax.Summarize) *rel {
	var cols []*col
	var sel, groups []string
	// An hour-index key is grouped by first, as its expression, so that
	// SQLite can group in that index's order, without a sort; the range
	// of the query is then given on it too (finishReads).
	var hourGroup string
	used := map[string]bool{}
	unique := func(name string) string {
		if !used[name] {
			used[name] = true
			return name
		}
		for i := 1; ; i++ {
			n := name + strconv.Itoa(i)
			if !used[n] {
				used[n] = true
				return n
			}
		}
	}
	for _, it := range o.By {
		v := c.scalar(it.Value, &env{r: r})
		if v.agg {
			panic(errorf(CodeSemantic, it.Value.ExprPos(), "an aggregate cannot be a summarize 'by' key"))
		}
		name := it.Name
		if name == "" {
			name = inferName(it.Value)
		}
		if name == "" {
			name = nextColumnName(keys(used))
		}
		if it.Name != "" && used[name] {
			panic(errorf(CodeSemantic, it.Pos, "column '%s' is defined twice in summarize", name))
		}
		nc := c.newCol(unique(name), v.typ)
		sel = append(sel, v.sql+" AS "+quote(nc.sql))
		if v.hourKey != "" && hourGroup == "" && (c.opts.Timespan != nil || !c.timeUsed) {
			hourGroup = v.hourKey
			c.reads[0].hourRange = true
		} else {
			groups = append(groups, strconv.Itoa(len(sel)))
		}
		cols = append(cols, nc)
	}
	if hourGroup != "" {
		groups = append([]string{hourGroup}, groups...)
	}
	for _, it := range o.Aggs {
		if call, ok := it.Value.(*syntax.Call); ok && (call.Name == "arg_max" || call.Name == "arg_min") {
			if len(o.Aggs) > 1 {
				panic(errorf(CodeSemantic, call.Pos, "%s must be the only aggregate of its summarize in Tether; see docs/kql.md", call.Name))
			}
			if it.Name != "" {
				panic(errorf(CodeSemantic, it.Pos, "%s cannot be named with Name = ...", call.Name))
			}
			s, cs := c.argMax(r, call, unique)
			sel = append(sel, s...)
			cols = append(cols, cs...)
			continue
		}
		v := c.scalar(it.Value, &env{r: r, aggOK: true})
		if !v.agg {
			panic(errorf(CodeSemantic, it.Value.ExprPos(), "summarize needs aggregate functions such as count() or max(x) before 'by'"))
		}
		name := it.Name
		if name == "" {
			name = inferName(it.Value)
		}
		if name == "" {
			name = nextColumnName(keys(used))
		}
		if it.Name != "" && used[name] {
			panic(errorf(CodeSemantic, it.Pos, "column '%s' is defined twice in summarize", name))
		}
		nc := c.newCol(unique(name), v.typ)
		sel = append(sel, v.sql+" AS "+quote(nc.sql))
		cols = append(cols, nc)
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + r.cte
	if len(groups) > 0 {
		q += " GROUP BY " + strings.Join(groups, ", ")
	}
	return &rel{cte: c.emit(q), cols: cols}
}

func keys(m map[string]bool) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// argMax compiles arg_max(T, cols...) (or arg_min): the row of the group
// with the largest T, through SQLite's rule that bare columns take their
// values from the row of the only max() (or min()) of the query.
func (c *compiler) argMax(r *rel, call *syntax.Call, unique func(string) string) ([]string, []*col) {
	if len(call.Args) < 1 {
		panic(errorf(CodeSemantic, call.Pos, "%s() needs an expression to maximise and the columns to return", call.Name))
	}
	v := c.scalar(call.Args[0], &env{r: r})
	if v.agg || v.typ == "dynamic" {
		panic(errorf(CodeSemantic, call.Args[0].ExprPos(), "%s() needs a scalar, non-dynamic first argument", call.Name))
	}
	fn := "MAX"
	if call.Name == "arg_min" {
		fn = "MIN"
	}
	name := inferName(call.Args[0])
	if name == "" {
		name = strings.TrimPrefix(call.Name, "arg_")
	}
	first := c.newCol(unique(name), v.typ)
	sel := []string{fn + "(" + v.sql + ") AS " + quote(first.sql)}
	cols := []*col{first}
	var want []*col
	for _, a := range call.Args[1:] {
		switch a := a.(type) {
		case *syntax.Star:
			for _, cc := range r.cols {
				if cc != v.col {
					want = append(want, cc)
				}
			}
		case *syntax.Ident:
			cc := c.columnRef(r, a)
			if cc != v.col {
				want = append(want, cc)
			}
		default:
			panic(errorf(CodeSemantic, a.ExprPos(), "%s() returns columns: list column names or *", call.Name))
		}
	}
	for _, cc := range want {
		nc := c.newCol(unique(cc.name), cc.typ)
		sel = append(sel, quote(cc.sql)+" AS "+quote(nc.sql))
		cols = append(cols, nc)
	}
	return sel, cols
}

// aggregate compiles an aggregation function call.
func (c *compiler) aggregate(x *syntax.Call, e *env) *sx {
	in := &env{r: e.r, aggOK: true, inAgg: true}
	arg := func(i int) *sx {
		if i >= len(x.Args) {
			panic(errorf(CodeSemantic, x.Pos, "%s() needs %d argument(s)", x.Name, i+1))
		}
		return c.scalar(x.Args[i], in)
	}
	nargs := func(lo, hi int) {
		if len(x.Args) < lo || len(x.Args) > hi {
			panic(errorf(CodeSemantic, x.Pos, "%s() takes %d to %d arguments, not %d", x.Name, lo, hi, len(x.Args)))
		}
	}
	out := func(sql, typ string, null bool) *sx { return &sx{sql: sql, typ: typ, agg: true, null: null} }
	switch x.Name {
	case "count":
		nargs(0, 1)
		if len(x.Args) == 0 {
			return out("COUNT(*)", "long", false)
		}
		return out("COUNT("+scalarOf(arg(0))+")", "long", false)
	case "countif":
		nargs(1, 1)
		p := arg(0)
		if p.typ != "bool" {
			panic(errorf(CodeSemantic, x.Args[0].ExprPos(), "countif() needs a bool predicate, not %s", p.typ))
		}
		return out("COUNT(CASE WHEN "+p.sql+" THEN 1 END)", "long", false)
	case "dcount":
		nargs(1, 2)
		return out("COUNT(DISTINCT "+scalarOf(arg(0))+")", "long", false)
	case "min", "max":
		nargs(1, 1)
		v := arg(0)
		if v.typ == "dynamic" {
			panic(errorf(CodeSemantic, x.Args[0].ExprPos(), "%s() of a dynamic value: convert it first (tolong(), todatetime()...)", x.Name))
		}
		return out(strings.ToUpper(x.Name)+"("+v.sql+")", v.typ, true)
	case "avg":
		nargs(1, 1)
		v := arg(0)
		if !isNumeric(v.typ) {
			panic(errorf(CodeSemantic, x.Args[0].ExprPos(), "avg() needs a number, not %s", v.typ))
		}
		return out("AVG("+v.sql+")", "real", true)
	case "sum", "sumif":
		if x.Name == "sum" {
			nargs(1, 1)
		} else {
			nargs(2, 2)
		}
		v := arg(0)
		typ := v.typ
		switch typ {
		case "int":
			typ = "long"
		case "long", "real", "timespan":
		default:
			panic(errorf(CodeSemantic, x.Args[0].ExprPos(), "%s() needs a number, not %s", x.Name, v.typ))
		}
		val := v.sql
		if x.Name == "sumif" {
			p := arg(1)
			if p.typ != "bool" {
				panic(errorf(CodeSemantic, x.Args[1].ExprPos(), "sumif() needs a bool predicate, not %s", p.typ))
			}
			val = "CASE WHEN " + p.sql + " THEN " + v.sql + " END"
		}
		return out("COALESCE(SUM("+val+"), 0)", typ, false)
	case "make_list", "make_set":
		nargs(1, 2)
		v := arg(0)
		val := v.sql
		switch v.typ {
		case "dynamic":
			val = "json(kql_json_get(" + v.sql + "))"
		case "datetime":
			val = "kql_fmt_datetime(" + v.sql + ")"
		case "timespan":
			val = "kql_fmt_timespan(" + v.sql + ")"
		case "bool":
			val = "json(CASE " + v.sql + " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"
		}
		d := "json_group_array("
		if x.Name == "make_set" {
			d = "json_group_array(DISTINCT "
		}
		s := out(d+val+") FILTER (WHERE "+v.sql+" IS NOT NULL)", "dynamic", false)
		s.dyn = &dynPath{root: s.sql}
		return s
	case "arg_max", "arg_min":
		panic(errorf(CodeSemantic, x.Pos, "%s() must stand alone in summarize: summarize %s(T, cols...) by ...", x.Name, x.Name))
	}
	panic(errorf(CodeSemantic, x.Pos, "unknown aggregate '%s'", x.Name))
}
