package kql

import (
	"strings"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// searchRel is a read of one or more tables that is not yet written as
// SQL, so that following where filters can still prune tables (search * |
// where Type == "AzureDiagnostics" reads one table) and reach the base
// table scan.
type searchRel struct {
	tables  []Table
	source  string   // the name of the column naming the source table ($table, withsource=), or ""
	filters []string // SQL predicates over the relation's columns
}

// pending starts a lazy read of tables with the outer-union column set.
func (c *compiler) pending(tables []Table, source string) *rel {
	r := &rel{search: &searchRel{tables: tables, source: source}}
	if source != "" {
		r.cols = append(r.cols, c.newCol(source, "string"))
	}
	// The outer union of the tables' columns; a name with two types
	// becomes Name_type for each.
	colsOf := make([][]*col, len(tables))
	typesOf := map[string]map[string]bool{}
	var names []string
	for i, t := range tables {
		colsOf[i] = tableCols(t)
		for _, tc := range colsOf[i] {
			if typesOf[tc.name] == nil {
				typesOf[tc.name] = map[string]bool{}
				names = append(names, tc.name)
			}
			typesOf[tc.name][tc.typ] = true
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		for i := range tables {
			for _, tc := range colsOf[i] {
				if tc.name != n {
					continue
				}
				name := n
				if len(typesOf[n]) > 1 {
					name = n + "_" + tc.typ
				}
				if seen[name] {
					continue
				}
				seen[name] = true
				nc := &col{name: name, sql: n, typ: tc.typ}
				if len(tables) > 1 || source != "" || name != n {
					nc = c.newCol(name, tc.typ)
				}
				nc.baseTime = tc.typ == "datetime" && allTime(tables, n)
				nc.prop = len(tables) == 1 && tables[0].Name == azureDiagnostics.Name && n == "properties_s"
				r.cols = append(r.cols, nc)
			}
		}
	}
	if len(tables) == 1 && source == "" {
		for _, h := range hiddenColumns[tables[0].Name] {
			if h.Name == deviceIDColumn {
				r.hidden = append(r.hidden, &col{name: h.Name, sql: h.Name, typ: h.Type})
			}
		}
	}
	return r
}

func allTime(tables []Table, name string) bool {
	for _, t := range tables {
		if t.TimeColumn != name {
			return false
		}
	}
	return true
}

// settle writes a pending read as SQL; other relations are returned as
// they are.
func (c *compiler) settle(r *rel) *rel {
	s := r.search
	if s == nil {
		return r
	}
	var branches []string
	for _, t := range s.tables {
		// Map each union column back to the table's own column.
		want := make([]*col, 0, len(r.cols))
		extra := map[string]string{}
		for _, uc := range r.cols {
			w := &col{name: uc.name, sql: uc.sql, typ: uc.typ}
			if uc.name == s.source && s.source != "" {
				extra[uc.name] = c.arg(t.Name)
			} else if base, typ, ok := strings.Cut(uc.name, "_"); ok && isType(typ) && !hasColumn(t, uc.name) && hasColumnTyped(t, base, typ) {
				extra[uc.name] = quote(base)
			}
			want = append(want, w)
		}
		br := c.read(t, want, extra, len(s.tables) == 1)
		if len(s.tables) == 1 {
			r.hidden = br.hidden
			// One table: its missing columns hold one value in every row.
			for i, uc := range r.cols {
				uc.fixed, uc.fixedVal = br.cols[i].fixed, br.cols[i].fixedVal
				if uc.name == s.source && s.source != "" {
					uc.fixed, uc.fixedVal = true, t.Name
				}
			}
		}
		branches = append(branches, "SELECT * FROM "+br.cte)
	}
	var cte string
	if len(branches) == 1 {
		cte = strings.TrimPrefix(branches[0], "SELECT * FROM ")
	} else {
		cte = c.emit(strings.Join(branches, " UNION ALL "))
	}
	if len(s.filters) > 0 {
		cte = c.emit("SELECT * FROM " + cte + " WHERE " + strings.Join(s.filters, " AND "))
	}
	return &rel{cte: cte, cols: r.cols, hidden: r.hidden, table: c.relName(r)}
}

func isType(s string) bool { return types[s] }

func hasColumn(t Table, name string) bool {
	for _, tc := range tableCols(t) {
		if tc.name == name {
			return true
		}
	}
	return false
}

func hasColumnTyped(t Table, name, typ string) bool {
	for _, tc := range tableCols(t) {
		if tc.name == name && tc.typ == typ {
			return true
		}
	}
	return false
}

func (c *compiler) tableList(refs []*syntax.TableRef) []Table {
	var out []Table
	seen := map[string]bool{}
	for _, ref := range refs {
		t := c.table(ref)
		if !seen[t.Name] {
			out = append(out, t)
			seen[t.Name] = true
		}
	}
	return out
}

// search compiles search [in (...)] Predicate; in is nil for the source
// form.
func (c *compiler) search(in *rel, s *syntax.Search) *rel {
	var r *rel
	if in == nil {
		tables := c.tableList(s.Tables)
		if len(tables) == 0 {
			for _, n := range c.order {
				tables = append(tables, c.tables[n])
			}
		}
		r = c.pending(tables, "$table")
	} else {
		if len(s.Tables) > 0 {
			panic(errorf(CodeSemantic, s.Pos, "search in (...) cannot follow another operator"))
		}
		r = in
	}
	if _, all := s.Pred.(*syntax.Star); all {
		return r
	}
	cs := s.Kind == "case_sensitive"
	return c.filter(r, c.searchPred(s.Pred, r, cs))
}

// union compiles union [withsource=Name] T, ...; in is the input for the
// operator form (T | union U).
func (c *compiler) union(in *rel, u *syntax.Union) *rel {
	tables := c.tableList(u.Tables)
	if in != nil {
		if in.search == nil || len(in.search.filters) > 0 || in.search.source != "" {
			panic(errorf(CodeSemantic, u.Pos, "union is supported as the first operator after a table name, or as a source (union T1, T2); see docs/kql.md"))
		}
		tables = append(append([]Table(nil), in.search.tables...), tables...)
	}
	return c.pending(tables, u.WithSource)
}

// prune drops the pending read's tables that a conjunct Type == "X" (or
// $table == "X") of the where predicate excludes.
func (c *compiler) prune(r *rel, pred syntax.Expr) {
	s := r.search
	if s == nil || len(s.tables) < 2 {
		return
	}
	for _, conj := range conjuncts(pred) {
		b, ok := conj.(*syntax.Binary)
		if !ok || b.Op != "==" {
			continue
		}
		id, lit := identOf(b.L), c.stringConst(b.R)
		if id == "" {
			id, lit = identOf(b.R), c.stringConst(b.L)
		}
		if lit == nil || (id != "Type" && (id == "" || id != s.source)) {
			continue
		}
		var keep []Table
		for _, t := range s.tables {
			if t.Name == *lit {
				keep = append(keep, t)
			}
		}
		if len(keep) > 0 {
			s.tables = keep
		}
	}
}

func conjuncts(x syntax.Expr) []syntax.Expr {
	switch x := x.(type) {
	case *syntax.Paren:
		return conjuncts(x.X)
	case *syntax.Binary:
		if x.Op == "and" {
			return append(conjuncts(x.L), conjuncts(x.R)...)
		}
	}
	return []syntax.Expr{x}
}

func identOf(x syntax.Expr) string {
	for {
		p, ok := x.(*syntax.Paren)
		if !ok {
			break
		}
		x = p.X
	}
	if id, ok := x.(*syntax.Ident); ok {
		return id.Name
	}
	return ""
}

// stringConst returns the value of a string literal or a let-bound
// string, or nil.
func (c *compiler) stringConst(x syntax.Expr) *string {
	switch x := x.(type) {
	case *syntax.Paren:
		return c.stringConst(x.X)
	case *syntax.StringLit:
		return &x.Value
	case *syntax.Ident:
		if v, ok := c.lets[x.Name]; ok && v.typ == "string" {
			if s, ok := v.val.(string); ok {
				return &s
			}
		}
	}
	return nil
}

// filter adds a SQL predicate to r: to the pending read when there is one
// (so it reaches the base table scan), else as a new CTE.
func (c *compiler) filter(r *rel, pred string) *rel {
	if r.search != nil {
		r.search.filters = append(r.search.filters, pred)
		return r
	}
	out := *r
	out.cte = c.emit("SELECT * FROM " + r.cte + " WHERE " + pred)
	return &out
}
