package kql

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// sx is a bound, compiled scalar expression.
type sx struct {
	sql   string
	typ   string
	konst bool // a constant: val holds its value
	val   any  // string, int64 (long, int, datetime and timespan as ns), float64, bool, nil
	agg   bool // contains an aggregate
	null  bool // may be SQL NULL (strings never are)
	// dev: equals tostring(parse_json(properties_s).deviceId) of the row.
	dev bool
	// dyn: a dynamic value as a JSON source and a member path, so that
	// parse_json(s).a.b compiles to one call on s.
	dyn *dynPath
	col *col // the column, for a plain column reference
	// hourKey, for bin(TimeGenerated, 1h) of a table with an hour index,
	// is that index's expression: summarize groups by it (see hourKey).
	hourKey string
}

// dynPath is root (SQL text, read as parse_json does) then path
// (placeholders of bound keys and indexes).
type dynPath struct {
	root     string
	path     []string
	keys     []any // the path's keys (string) and indexes (int64), for SQLite's own JSON path
	baseProp bool  // root is AzureDiagnostics' properties_s
}

// env is what an expression is bound against.
type env struct {
	r     *rel
	aggOK bool // aggregates allowed (summarize)
	inAgg bool // inside an aggregate's arguments
	star  bool // in a where or search predicate: * is allowed, and a test of TimeGenerated is the query's time filter
}

func (c *compiler) konst(typ string, v any) *sx {
	s := &sx{typ: typ, konst: true, val: v, null: v == nil && typ != "string"}
	if v == nil {
		s.sql = "NULL"
		if typ == "string" {
			s.sql = "''"
			s.val = ""
			s.null = false
		}
		return s
	}
	if b, ok := v.(bool); ok {
		if b {
			s.sql = "1"
		} else {
			s.sql = "0"
		}
		return s
	}
	s.sql = c.arg(v)
	return s
}

// scalar binds and compiles an expression.
func (c *compiler) scalar(x syntax.Expr, e *env) *sx {
	if e == nil {
		e = &env{}
	}
	switch x := x.(type) {
	case *syntax.Paren:
		s := *c.scalar(x.X, e)
		if !s.konst && s.dyn == nil {
			s.sql = "(" + s.sql + ")"
		}
		return &s
	case *syntax.StringLit:
		return c.konst("string", x.Value)
	case *syntax.BoolLit:
		return c.konst("bool", x.Value)
	case *syntax.NumberLit:
		return c.number(x)
	case *syntax.TimespanLit:
		d, err := parseTimespanLit(x.Text)
		if err != nil {
			panic(errorf(CodeSyntax, x.Pos, "%v", err))
		}
		return c.konst("timespan", d)
	case *syntax.TypedLit:
		return c.typedLit(x)
	case *syntax.Ident:
		return c.ident(x, e)
	case *syntax.Star:
		panic(errorf(CodeSemantic, x.Pos, "'*' is only allowed as the left side of == or a string operator in where (where * contains \"x\"), and in search *"))
	case *syntax.Unary:
		v := c.scalar(x.X, e)
		if !isNumeric(v.typ) && v.typ != "timespan" {
			panic(errorf(CodeSemantic, x.Pos, "unary %s needs a number or timespan, not %s", x.Op, v.typ))
		}
		if x.Op == "+" {
			return v
		}
		if v.konst {
			switch n := v.val.(type) {
			case int64:
				if n != math.MinInt64 {
					return c.konst(v.typ, -n)
				}
			case float64:
				return c.konst(v.typ, -n)
			}
		}
		return &sx{sql: "(-" + v.sql + ")", typ: v.typ, agg: v.agg, null: v.null}
	case *syntax.Binary:
		return c.binary(x, e)
	case *syntax.In:
		return c.in(x, e)
	case *syntax.Between:
		l, lo, hi := c.scalar(x.L, e), c.scalar(x.Lo, e), c.scalar(x.Hi, e)
		c.comparable(x.Pos, "between", l, lo)
		c.comparable(x.Pos, "between", l, hi)
		s := &sx{typ: "bool", sql: "(" + l.sql + " BETWEEN " + lo.sql + " AND " + hi.sql + ")", agg: l.agg || lo.agg || hi.agg, null: true}
		if x.Not {
			s.sql = "(NOT " + s.sql + ")"
		}
		if e.star {
			c.noteTime(l)
		}
		return s
	case *syntax.Call:
		return c.call(x, e)
	case *syntax.Member:
		b := c.scalar(x.X, e)
		c.needDynamic(b, x.Pos, "."+x.Name)
		return c.member(b, x.Pos, c.arg(x.Name), x.Name)
	case *syntax.Index:
		b := c.scalar(x.X, e)
		i := c.scalar(x.I, e)
		if !i.konst {
			panic(errorf(CodeSemantic, x.I.ExprPos(), "an index into a dynamic value must be a constant"))
		}
		switch v := i.val.(type) {
		case string:
			return c.member(b, x.Pos, i.sql, v)
		case int64:
			return c.memberIndex(b, x.Pos, i.sql, v)
		}
		panic(errorf(CodeSemantic, x.I.ExprPos(), "an index must be a string or an integer, not %s", i.typ))
	}
	panic(errorf(CodeSemantic, x.ExprPos(), "unsupported expression"))
}

func (c *compiler) number(x *syntax.NumberLit) *sx {
	if strings.HasPrefix(x.Text, "0x") || strings.HasPrefix(x.Text, "0X") {
		n, err := strconv.ParseInt(x.Text[2:], 16, 64)
		if err != nil {
			panic(errorf(CodeSyntax, x.Pos, "number %s is out of range", x.Text))
		}
		return c.konst("long", n)
	}
	if !strings.ContainsAny(x.Text, ".eE") {
		n, err := strconv.ParseInt(x.Text, 10, 64)
		if err != nil {
			panic(errorf(CodeSyntax, x.Pos, "number %s is out of range for long", x.Text))
		}
		return c.konst("long", n)
	}
	f, err := strconv.ParseFloat(x.Text, 64)
	if err != nil || math.IsInf(f, 0) {
		panic(errorf(CodeSyntax, x.Pos, "number %s is out of range for real", x.Text))
	}
	return c.konst("real", f)
}

func (c *compiler) ident(x *syntax.Ident, e *env) *sx {
	if e.r != nil {
		if col := e.r.lookup(x.Name); col != nil {
			s := &sx{sql: quote(col.sql), typ: col.typ, null: col.typ != "string", dev: col.dev, col: col}
			if col.inline != "" {
				s.sql = col.inline
			}
			if col.typ == "dynamic" {
				s.dyn = &dynPath{root: s.sql, baseProp: col.prop}
			}
			return s
		}
	}
	if v, ok := c.lets[x.Name]; ok {
		return v
	}
	if e.r == nil {
		panic(errorf(CodeSemantic, x.Pos, "'%s' is not defined", x.Name))
	}
	msg := fmt.Sprintf("'%s' is not a column of %s", x.Name, c.relName(e.r))
	if s := syntax.Suggest(x.Name, e.r.names()); s != "" {
		msg += fmt.Sprintf("; did you mean '%s'?", s)
	}
	panic(errorf(CodeSemantic, x.Pos, "%s", msg))
}

// relName names the relation in error messages: the table while the
// query still reads one table as it is.
func (c *compiler) relName(r *rel) string {
	if r.search != nil && len(r.search.tables) == 1 && r.search.source == "" {
		return r.search.tables[0].Name
	}
	if r.search != nil && r.search.source != "" {
		return "the search results"
	}
	if r.table != "" {
		return r.table
	}
	return "the input"
}

func (c *compiler) needDynamic(b *sx, pos syntax.Pos, what string) {
	if b.typ != "dynamic" || b.dyn == nil {
		panic(errorf(CodeSemantic, pos, "'%s' needs a dynamic value (use parse_json(...)), not %s", what, b.typ))
	}
}

// member is b.name or b["name"]; key is the bound placeholder.
func (c *compiler) member(b *sx, pos syntax.Pos, key, name string) *sx {
	c.needDynamic(b, pos, "."+name)
	s := c.step(b, key, name)
	s.dev = s.dyn.baseProp && len(s.dyn.path) == 1 && name == "deviceId"
	return s
}

// memberIndex is b[i].
func (c *compiler) memberIndex(b *sx, pos syntax.Pos, key string, i int64) *sx {
	c.needDynamic(b, pos, "[...]")
	return c.step(b, key, i)
}

func (c *compiler) step(b *sx, key string, k any) *sx {
	d := &dynPath{root: b.dyn.root, baseProp: b.dyn.baseProp,
		path: append(append([]string(nil), b.dyn.path...), key),
		keys: append(append([]any(nil), b.dyn.keys...), k)}
	return &sx{typ: "dynamic", dyn: d, null: true, agg: b.agg, sql: d.get()}
}

// get is the SQL of the value. A dynamic value is held as text that
// parse_json reads: the source text itself when there is no path (so
// parse_json(properties_s) costs nothing), else the member's JSON text
// (NULL for null or missing).
func (d *dynPath) get() string {
	if len(d.path) == 0 {
		return d.root
	}
	return "kql_json_get(" + d.root + ", " + strings.Join(d.path, ", ") + ")"
}

// sqlitePath is the SQLite JSON path of keys ($."a"[0]), or false when a
// key cannot be written in one (it holds a double quote).
func sqlitePath(keys []any) (string, bool) {
	p := "$"
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			if strings.ContainsAny(k, "\"\\") {
				return "", false
			}
			p += `."` + k + `"`
		case int64:
			if k < 0 {
				p += "[#" + strconv.FormatInt(k, 10) + "]"
			} else {
				p += "[" + strconv.FormatInt(k, 10) + "]"
			}
		}
	}
	return p, true
}

var plainColumn = regexp.MustCompile(`^"[^"]+"$`)

// jsonStr is tostring of a dynamic member. When the root is a column and
// the path can be written for SQLite, it uses SQLite's own JSON functions
// (several times faster than a Go call per row); otherwise kql_json_str.
// Both give "" for null, missing or malformed, and true/false for
// booleans.
func (c *compiler) jsonStr(d *dynPath) string {
	p, ok := sqlitePath(d.keys)
	if !ok || len(d.keys) == 0 || !plainColumn.MatchString(d.root) {
		return d.str()
	}
	r, ph := d.root, c.arg(p)
	return "(CASE WHEN json_valid(" + r + ") THEN CASE json_type(" + r + ", " + ph + ") WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN '' ELSE CAST(COALESCE(" + r + " ->> " + ph + ", '') AS TEXT) END ELSE '' END)"
}

// str is tostring of the value.
func (d *dynPath) str() string {
	return "kql_json_str(" + strings.Join(append([]string{d.root}, d.path...), ", ") + ")"
}

// val is the value as an SQL scalar (string, number, 1/0, JSON text for
// arrays and objects; NULL for null or missing), for comparisons.
func (d *dynPath) val() string {
	return "kql_json_val(" + strings.Join(append([]string{d.root}, d.path...), ", ") + ")"
}

func isNumeric(t string) bool { return t == "long" || t == "int" || t == "real" }

// noteTime records that the query filters a base time column.
func (c *compiler) noteTime(s *sx) {
	if s.col != nil && s.col.baseTime {
		c.timeUsed = true
	}
}

// comparable checks that two values may be compared.
func (c *compiler) comparable(pos syntax.Pos, op string, l, r *sx) {
	if l.typ == r.typ || l.typ == "dynamic" || r.typ == "dynamic" || isNumeric(l.typ) && isNumeric(r.typ) {
		return
	}
	if l.konst && l.val == nil || r.konst && r.val == nil {
		return
	}
	panic(errorf(CodeSemantic, pos, "cannot compare %s with %s using '%s'; convert one side (tostring(), tolong(), todatetime()...)", l.typ, r.typ, op))
}

// scalarOf converts a dynamic to an SQL scalar for comparison.
func scalarOf(s *sx) string {
	if s.typ == "dynamic" && s.dyn != nil {
		return s.dyn.val()
	}
	return s.sql
}

// str converts a value to string (KQL tostring).
func (c *compiler) str(s *sx) string {
	switch s.typ {
	case "string":
		return s.sql
	case "dynamic":
		if s.dyn != nil {
			return c.jsonStr(s.dyn)
		}
		return "kql_json_str(" + s.sql + ")"
	case "datetime":
		return "kql_fmt_datetime(" + s.sql + ")"
	case "timespan":
		return "kql_fmt_timespan(" + s.sql + ")"
	case "bool":
		return "(CASE " + s.sql + " WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END)"
	case "real":
		return "kql_fmt_real(" + s.sql + ")"
	}
	return "COALESCE(CAST(" + s.sql + " AS TEXT), '')"
}
