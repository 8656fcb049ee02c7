package kql

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// Limits checked before a query runs.
const (
	MaxQueryLength = 64 << 10 // bytes of query text
	MaxOperators   = 64       // tabular operators in the pipeline
	MaxLets        = 64       // let statements
	MaxInList      = 10000    // values in one in (...) list
	maxArgs        = 32766    // SQLite's limit on bound parameters
	defaultRange   = 24 * time.Hour
	defaultMaxRows = 30000
)

// col is a column of the relation at some step.
type col struct {
	name string // KQL name
	sql  string // SQL column name in the current CTE
	typ  string
	// baseTime marks the unmodified time column of a table read: filters
	// on it count as the query's own time filter.
	baseTime bool
	// dev marks a column holding tostring(parse_json(properties_s).deviceId)
	// of an AzureDiagnostics row whose _DeviceId is still available.
	dev bool
	// prop marks AzureDiagnostics' own properties_s column.
	prop bool
	// inline, while an extend or project is bound, is the SQL of a column
	// defined earlier in the same operator.
	inline string
	// fixed: the column holds fixedVal in every row, because the query
	// reads one table and that table has no such column (a search or
	// union column of another table) or the value is the table's name
	// ($table, Type). The outermost SELECT leaves it out and Execute
	// fills it in: search * carries some twenty such columns, and each
	// cell read back from SQLite costs more than the row it came with.
	fixed    bool
	fixedVal any
}

// orderKey is an ORDER BY term over a column of the current relation.
type orderKey struct {
	sql   string
	desc  bool
	nulls string // "FIRST" or "LAST"
}

// rel is the relation after some operator.
type rel struct {
	cte    string
	cols   []*col
	hidden []*col // carried but not visible: order keys, _DeviceId
	order  []orderKey
	// search is set while the relation is a search/union whose branches
	// may still be pruned by a following Type == "X" filter.
	search *searchRel
	// table names the table the rows come from while the columns are still
	// the table's (for error messages).
	table string
}

func (r *rel) lookup(name string) *col {
	for _, c := range r.cols {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (r *rel) hiddenSQL(sql string) *col {
	for _, c := range r.hidden {
		if c.sql == sql {
			return c
		}
	}
	return nil
}

func (r *rel) names() []string {
	var n []string
	for _, c := range r.cols {
		n = append(n, c.name)
	}
	return n
}

// compiler holds one compilation's state.
type compiler struct {
	opts     Options
	now      time.Time
	tables   map[string]Table
	order    []string // table names in declaration order
	args     []any
	ctes     []string
	reads    []*tableRead // table reads, whose time filter is decided at the end
	lets     map[string]*sx
	nextCol  int
	nextCTE  int
	timeUsed bool // the query filters a base time column
	render   *Render
	once     map[string]string // argOnce's placeholders
}

// tableRead is one read of a base table; its WHERE clause is written when
// the whole query has been bound.
type tableRead struct {
	cte   int // index into ctes
	table Table
	sel   string
	where []string // filters pushed down
	// hourRange: a summarize groups this read's rows by the hour index's
	// expression, so the time range is given on that expression too.
	hourRange bool
}

func errorf(code string, pos syntax.Pos, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Line: pos.Line, Col: pos.Col}
}

// Compile parses, binds and compiles a query to one parameterised SQLite
// statement. Errors are *Error.
func Compile(query string, opts Options) (p *Plan, err error) {
	if len(query) > MaxQueryLength {
		return nil, &Error{Code: CodeLimitExceeded, Message: fmt.Sprintf("the query is %d bytes long; the limit is %d", len(query), MaxQueryLength)}
	}
	q, err := syntax.Parse(query)
	if err != nil {
		se := err.(*syntax.Error)
		code := CodeSyntax
		if strings.Contains(se.Msg, "not supported by Tether") {
			code = CodeSemantic
		}
		if strings.Contains(se.Msg, "nests too deeply") {
			code = CodeLimitExceeded
		}
		return nil, &Error{Code: code, Message: se.Msg, Line: se.Pos.Line, Col: se.Pos.Col}
	}
	if len(q.Body.Ops) > MaxOperators {
		return nil, errorf(CodeLimitExceeded, q.Body.Ops[MaxOperators].OpPos(), "the query has %d operators; the limit is %d", len(q.Body.Ops), MaxOperators)
	}
	if len(q.Lets) > MaxLets {
		return nil, errorf(CodeLimitExceeded, q.Lets[MaxLets].Pos, "the query has %d let statements; the limit is %d", len(q.Lets), MaxLets)
	}
	c, err := newCompiler(opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			p, err = nil, e
		}
	}()
	return c.compile(q), nil
}

func newCompiler(opts Options) (*compiler, error) {
	c := &compiler{opts: opts, now: opts.Now, tables: map[string]Table{}, lets: map[string]*sx{}}
	if c.now.IsZero() {
		c.now = time.Now()
	}
	c.now = c.now.UTC().Truncate(100 * time.Nanosecond)
	if c.opts.MaxRows <= 0 {
		c.opts.MaxRows = defaultMaxRows
	}
	if c.opts.DefaultRange <= 0 {
		c.opts.DefaultRange = defaultRange
	}
	builtin := map[string]bool{}
	for _, t := range BuiltinTables() {
		c.tables[t.Name] = t
		c.order = append(c.order, t.Name)
		builtin[t.Name] = true
	}
	for _, t := range opts.Tables {
		if err := checkTable(t); err != nil {
			return nil, err
		}
		if _, dup := c.tables[t.Name]; dup && !builtin[t.Name] {
			return nil, &Error{Code: CodeSemantic, Message: fmt.Sprintf("table %q is declared twice", t.Name)}
		}
		if !builtin[t.Name] {
			c.order = append(c.order, t.Name)
		}
		builtin[t.Name] = false // an extra table replaces a built-in one of the same name
		c.tables[t.Name] = t
	}
	return c, nil
}

func checkTable(t Table) error {
	seen := map[string]bool{}
	for _, col := range t.Columns {
		if !types[col.Type] {
			return &Error{Code: CodeSemantic, Message: fmt.Sprintf("table %s: column %s has unknown type %q", t.Name, col.Name, col.Type)}
		}
		k := strings.ToLower(col.Name)
		if seen[k] {
			return &Error{Code: CodeSemantic, Message: fmt.Sprintf("table %s: two columns named %q (SQLite column names ignore case)", t.Name, col.Name)}
		}
		seen[k] = true
	}
	return nil
}

// arg binds a value and returns its placeholder.
func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return "?" + strconv.Itoa(len(c.args))
}

func (c *compiler) newCol(name, typ string) *col {
	c.nextCol++
	return &col{name: name, sql: "c" + strconv.Itoa(c.nextCol), typ: typ}
}

// emit adds a CTE and returns its name.
func (c *compiler) emit(body string) string {
	name := "s" + strconv.Itoa(c.nextCTE)
	c.nextCTE++
	c.ctes = append(c.ctes, name+" AS ("+body+")")
	return name
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (c *compiler) compile(q *syntax.Query) *Plan {
	for _, l := range q.Lets {
		if _, dup := c.lets[l.Name]; dup {
			panic(errorf(CodeSemantic, l.Pos, "'%s' is already defined by an earlier let", l.Name))
		}
		v := c.scalar(l.Value, nil)
		if v.agg {
			panic(errorf(CodeSemantic, l.Value.ExprPos(), "an aggregate cannot be used in let"))
		}
		if !v.konst {
			panic(errorf(CodeSemantic, l.Value.ExprPos(), "let '%s' must be a constant (a literal, now(), ago(...) or an expression of those)", l.Name))
		}
		c.lets[l.Name] = v
	}
	r := c.source(q.Body.Source)
	for i, op := range q.Body.Ops {
		if c.render != nil {
			panic(errorf(CodeSemantic, op.OpPos(), "render must be the last operator"))
		}
		r = c.operator(r, op, i)
	}
	r = c.settle(r)
	c.finishReads()
	// The outermost SELECT: visible columns, the carried order, the cap.
	// Columns are selected by their SQL names only: the KQL names travel
	// in Plan.Columns, so no name written in the query reaches the SQL.
	var sel []string
	var cols []Column
	var fill []fixedCol
	for i, col := range r.cols {
		cols = append(cols, Column{Name: col.name, Type: col.typ})
		if col.fixed {
			fill = append(fill, fixedCol{i, col.fixedVal})
			continue
		}
		sel = append(sel, quote(col.sql))
	}
	if len(sel) == 0 {
		sel = []string{"NULL"} // every column is fixed; the rows still count
	}
	var b strings.Builder
	b.WriteString("WITH ")
	b.WriteString(strings.Join(c.ctes, ",\n     "))
	b.WriteString("\nSELECT " + strings.Join(sel, ", ") + " FROM " + r.cte)
	if len(r.order) > 0 {
		b.WriteString(" ORDER BY " + orderSQL(r.order))
	}
	b.WriteString(" LIMIT " + c.arg(int64(c.opts.MaxRows)+1))
	if len(c.args) > maxArgs {
		panic(&Error{Code: CodeLimitExceeded, Message: fmt.Sprintf("the query has %d values; the limit is %d", len(c.args), maxArgs)})
	}
	return &Plan{SQL: b.String(), Args: c.args, Columns: cols, Render: c.render, MaxRows: c.opts.MaxRows, fill: fill}
}

func orderSQL(keys []orderKey) string {
	var s []string
	for _, k := range keys {
		dir := "ASC"
		if k.desc {
			dir = "DESC"
		}
		s = append(s, quote(k.sql)+" "+dir+" NULLS "+k.nulls)
	}
	return strings.Join(s, ", ")
}

// finishReads writes the WHERE clause of every table read: the request's
// timespan, or else the default range when the query has no time filter
// of its own.
func (c *compiler) finishReads() {
	for _, rd := range c.reads {
		where := rd.where
		if tc := rd.table.TimeColumn; tc != "" {
			var lo, hi time.Time
			switch {
			case c.opts.Timespan != nil:
				lo, hi = c.opts.Timespan.Start, c.opts.Timespan.End
			case !c.timeUsed:
				lo, hi = c.now.Add(-c.opts.DefaultRange), c.now
			}
			if !lo.IsZero() || !hi.IsZero() {
				where = append([]string{quote(tc) + " >= " + c.arg(lo.UnixNano()) + " AND " + quote(tc) + " <= " + c.arg(hi.UnixNano())}, where...)
				if rd.hourRange && lo.UnixNano() >= 0 {
					// The same range on the hour index's expression, so
					// that SQLite can read that index from lo's hour to
					// hi's instead of all of it.
					h := hourExpr(quote(tc))
					where = append(where, h+" >= "+c.arg(lo.UnixNano()/hourNanos)+" AND "+h+" <= "+c.arg(hi.UnixNano()/hourNanos))
				}
			}
		}
		body := rd.sel
		if len(where) > 0 {
			body += " WHERE " + strings.Join(where, " AND ")
		}
		name := c.ctes[rd.cte][:strings.Index(c.ctes[rd.cte], " AS (")]
		c.ctes[rd.cte] = name + " AS (" + body + ")"
	}
}

// read adds a CTE reading a table, with the given extra leading columns
// (such as $table) and outer-union shape, and returns the relation.
func (c *compiler) read(t Table, want []*col, extra map[string]string, helpers bool) *rel {
	r := &rel{}
	var sel []string
	has := map[string]Column{}
	for _, tc := range t.Columns {
		has[tc.Name] = tc
	}
	for _, w := range want {
		cc := *w
		cc.baseTime = w.name == t.TimeColumn && has[w.name].Type == "datetime"
		cc.fixed, cc.fixedVal = false, nil
		switch {
		case extra[w.name] != "":
			sel = append(sel, extra[w.name]+" AS "+quote(w.sql))
		case has[w.name].Name != "" && has[w.name].Type == w.typ:
			if w.sql == w.name {
				sel = append(sel, quote(w.name))
			} else {
				sel = append(sel, quote(w.name)+" AS "+quote(w.sql))
			}
		case w.name == "Type":
			sel = append(sel, c.arg(t.Name)+" AS "+quote(w.sql))
			cc.fixed, cc.fixedVal = true, t.Name
		default:
			sel = append(sel, nullOf(w.typ)+" AS "+quote(w.sql))
			cc.fixed = true // nil: Execute gives '' for strings, null otherwise
		}
		r.cols = append(r.cols, &cc)
	}
	for _, h := range hiddenColumns[t.Name] {
		if h.Name == deviceIDColumn && helpers {
			sel = append(sel, quote(h.Name))
			r.hidden = append(r.hidden, &col{name: h.Name, sql: h.Name, typ: h.Type})
		}
	}
	idx := len(c.ctes)
	r.cte = c.emit("")
	c.reads = append(c.reads, &tableRead{cte: idx, table: t, sel: "SELECT " + strings.Join(sel, ", ") + " FROM " + quote(t.Name)})
	return r
}

// nullOf is the value of a missing column in an outer union: ” for
// strings (which have no null in KQL), NULL otherwise.
func nullOf(typ string) string {
	if typ == "string" {
		return "''"
	}
	return "NULL"
}

// tableCols returns the columns a plain read of t yields: its columns, and
// Type when the table has none.
func tableCols(t Table) []*col {
	var out []*col
	hasType := false
	for _, tc := range t.Columns {
		out = append(out, &col{name: tc.Name, sql: tc.Name, typ: tc.Type})
		hasType = hasType || tc.Name == "Type"
	}
	if !hasType {
		out = append(out, &col{name: "Type", sql: "Type", typ: "string"})
	}
	return out
}

func (c *compiler) table(ref *syntax.TableRef) Table {
	t, ok := c.tables[ref.Name]
	if !ok {
		msg := fmt.Sprintf("unknown table '%s'", ref.Name)
		if s := syntax.Suggest(ref.Name, c.order); s != "" {
			msg += fmt.Sprintf("; did you mean '%s'?", s)
		} else {
			msg += "; the tables are " + strings.Join(c.order, ", ")
		}
		panic(errorf(CodeSemantic, ref.Pos, "%s", msg))
	}
	return t
}

func (c *compiler) source(s syntax.Source) *rel {
	switch s := s.(type) {
	case *syntax.TableRef:
		return c.pending([]Table{c.table(s)}, "")
	case *syntax.Search:
		return c.search(nil, s)
	case *syntax.Union:
		return c.union(nil, s)
	}
	panic(&Error{Code: CodeSemantic, Message: "unknown source"})
}
