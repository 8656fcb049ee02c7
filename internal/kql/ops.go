package kql

import (
	"fmt"
	"strings"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

func (c *compiler) operator(r *rel, op syntax.Operator, i int) *rel {
	switch o := op.(type) {
	case *syntax.Where:
		c.prune(r, o.Pred)
		p := c.scalar(o.Pred, &env{r: r, star: true})
		c.predicate(o.Pred, p, "where")
		return c.filter(r, p.sql)
	case *syntax.Search:
		return c.search(r, o)
	case *syntax.Union:
		return c.union(r, o)
	case *syntax.Render:
		c.render = c.renderOf(o)
		return r
	case *syntax.Unsupported:
		panic(errorf(CodeSemantic, o.Pos, "'%s' is not supported by Tether; see docs/kql.md", o.Name))
	}
	r = c.settle(r)
	switch o := op.(type) {
	case *syntax.Extend:
		return c.extend(r, o)
	case *syntax.Project:
		return c.project(r, o)
	case *syntax.ProjectAway:
		return c.projectAway(r, o)
	case *syntax.ProjectRename:
		return c.projectRename(r, o)
	case *syntax.Summarize:
		return c.summarize(r, o)
	case *syntax.Distinct:
		return c.distinct(r, o)
	case *syntax.Sort:
		return c.sort(r, o.Keys)
	case *syntax.Take:
		n := c.count(o.N, o.Word)
		return c.limit(r, n)
	case *syntax.Top:
		n := c.count(o.N, "top")
		return c.limit(c.sort(r, []*syntax.SortKey{o.Key}), n)
	case *syntax.Count:
		nc := c.newCol("Count", "long")
		return &rel{cte: c.emit("SELECT COUNT(*) AS " + quote(nc.sql) + " FROM " + r.cte), cols: []*col{nc}}
	}
	panic(errorf(CodeSemantic, op.OpPos(), "'%s' is not supported", op.OpName()))
}

// predicate checks that a filter is a bool.
func (c *compiler) predicate(x syntax.Expr, p *sx, op string) {
	if p.typ != "bool" {
		panic(errorf(CodeSemantic, x.ExprPos(), "the %s predicate must be a bool, not %s", op, p.typ))
	}
	if p.agg {
		panic(errorf(CodeSemantic, x.ExprPos(), "aggregates are not allowed in %s; use summarize first", op))
	}
}

// count reads take/top's N: a non-negative constant integer.
func (c *compiler) count(x syntax.Expr, op string) string {
	v := c.scalar(x, nil)
	n, ok := v.val.(int64)
	if !v.konst || !ok || n < 0 {
		panic(errorf(CodeSemantic, x.ExprPos(), "%s needs a non-negative integer constant", op))
	}
	return v.sql
}

// selectList is the SQL select list of visible and hidden columns.
func selectList(cols ...[]*col) string {
	var s []string
	seen := map[string]bool{}
	for _, cs := range cols {
		for _, c := range cs {
			if !seen[c.sql] {
				seen[c.sql] = true
				s = append(s, quote(c.sql))
			}
		}
	}
	if len(s) == 0 {
		return "NULL"
	}
	return strings.Join(s, ", ")
}

// keepHidden returns the hidden columns still needed: order keys and
// _DeviceId when wanted.
func keepHidden(r *rel, cols []*col, dev bool) []*col {
	var out []*col
	need := map[string]bool{}
	for _, k := range r.order {
		need[k.sql] = true
	}
	if dev {
		need[deviceIDColumn] = true
	}
	vis := map[string]bool{}
	for _, c := range cols {
		vis[c.sql] = true
	}
	for _, c := range append(append([]*col(nil), r.cols...), r.hidden...) {
		if need[c.sql] && !vis[c.sql] {
			out = append(out, c)
			vis[c.sql] = true
		}
	}
	return out
}

func (c *compiler) extend(r *rel, o *syntax.Extend) *rel {
	cols := append([]*col(nil), r.cols...)
	scope := &rel{cols: cols, hidden: r.hidden, table: r.table}
	var sel []string
	var added []*col
	var inlines []*col
	for _, it := range o.Items {
		v := c.scalar(it.Value, &env{r: scope})
		if v.agg {
			panic(errorf(CodeSemantic, it.Value.ExprPos(), "aggregates are not allowed in extend; use summarize"))
		}
		name := it.Name
		if name == "" {
			name = inferName(it.Value)
		}
		if name == "" {
			name = nextColumnName(scope.names())
		}
		nc := c.newCol(name, v.typ)
		nc.dev = v.dev
		nc.prop = isPropDoc(v)
		sel = append(sel, v.sql+" AS "+quote(nc.sql))
		// An existing column of that name is replaced and moves last.
		var keep []*col
		for _, cc := range scope.cols {
			if cc.name != name {
				keep = append(keep, cc)
			}
		}
		nc.inline = "(" + v.sql + ")"
		scope.cols = append(keep, nc)
		added = append(added, nc)
		inlines = append(inlines, nc)
	}
	for _, nc := range inlines {
		nc.inline = ""
	}
	out := &rel{cols: scope.cols, hidden: r.hidden, order: r.order, table: r.table}
	out.hidden = append(out.hidden, keepHidden(r, out.cols, false)...)
	out.cte = c.emit("SELECT *, " + strings.Join(sel, ", ") + " FROM " + r.cte)
	return out
}

func (c *compiler) project(r *rel, o *syntax.Project) *rel {
	scope := &rel{cols: append([]*col(nil), r.cols...), hidden: r.hidden, table: r.table}
	var cols []*col
	var sel []string
	var inlines []*col
	seen := map[string]syntax.Pos{}
	dev := false
	for _, it := range o.Items {
		if _, ok := it.Value.(*syntax.Star); ok {
			panic(errorf(CodeSemantic, it.Pos, "project * is not supported; list the columns"))
		}
		v := c.scalar(it.Value, &env{r: scope})
		if v.agg {
			panic(errorf(CodeSemantic, it.Value.ExprPos(), "aggregates are not allowed in project; use summarize"))
		}
		name := it.Name
		if name == "" {
			name = inferName(it.Value)
		}
		if name == "" {
			name = nextColumnName(append(scope.names(), namesOf(cols)...))
		}
		if p, dup := seen[name]; dup {
			panic(errorf(CodeSemantic, it.Pos, "column '%s' is projected twice (first at line %d, col %d)", name, p.Line, p.Col))
		}
		seen[name] = it.Pos
		var nc *col
		if v.col != nil && v.col.inline == "" && it.Name == "" {
			nc = v.col // a plain column keeps its SQL name and properties
		} else {
			nc = c.newCol(name, v.typ)
			nc.dev = v.dev
			nc.prop = isPropDoc(v)
			sel = append(sel, v.sql+" AS "+quote(nc.sql))
			nc.inline = "(" + v.sql + ")"
			inlines = append(inlines, nc)
		}
		if v.col != nil && v.col.inline == "" && it.Name != "" {
			nc.baseTime = false
		}
		dev = dev || nc.dev
		cols = append(cols, nc)
		scope.cols = append(scope.cols, nc)
	}
	for _, nc := range inlines {
		nc.inline = ""
	}
	for _, cc := range cols {
		if cc.inline == "" && !containsSel(sel, cc.sql) {
			sel = append([]string{quote(cc.sql)}, sel...)
		}
	}
	hidden := keepHidden(r, cols, dev)
	// Select in visible order: plain columns by name, computed by alias.
	var list []string
	for _, cc := range cols {
		list = append(list, selectOf(sel, cc))
	}
	for _, h := range hidden {
		list = append(list, quote(h.sql))
	}
	out := &rel{cols: cols, hidden: hidden, order: r.order}
	out.cte = c.emit("SELECT " + strings.Join(list, ", ") + " FROM " + r.cte)
	return out
}

func containsSel(sel []string, sql string) bool {
	for _, s := range sel {
		if s == quote(sql) || strings.HasSuffix(s, " AS "+quote(sql)) {
			return true
		}
	}
	return false
}

func selectOf(sel []string, cc *col) string {
	for _, s := range sel {
		if strings.HasSuffix(s, " AS "+quote(cc.sql)) {
			return s
		}
	}
	return quote(cc.sql)
}

func namesOf(cols []*col) []string {
	var n []string
	for _, c := range cols {
		n = append(n, c.name)
	}
	return n
}

func (c *compiler) columnRef(r *rel, id *syntax.Ident) *col {
	if col := r.lookup(id.Name); col != nil {
		return col
	}
	msg := fmt.Sprintf("'%s' is not a column of %s", id.Name, c.relName(r))
	if s := syntax.Suggest(id.Name, r.names()); s != "" {
		msg += fmt.Sprintf("; did you mean '%s'?", s)
	}
	panic(errorf(CodeSemantic, id.Pos, "%s", msg))
}

func (c *compiler) projectAway(r *rel, o *syntax.ProjectAway) *rel {
	drop := map[*col]bool{}
	for _, id := range o.Names {
		drop[c.columnRef(r, id)] = true
	}
	var cols []*col
	for _, cc := range r.cols {
		if !drop[cc] {
			cols = append(cols, cc)
		}
	}
	dev := false
	for _, cc := range cols {
		dev = dev || cc.dev
	}
	hidden := keepHidden(r, cols, dev)
	out := &rel{cols: cols, hidden: hidden, order: r.order}
	out.cte = c.emit("SELECT " + selectList(cols, hidden) + " FROM " + r.cte)
	return out
}

func (c *compiler) projectRename(r *rel, o *syntax.ProjectRename) *rel {
	cols := append([]*col(nil), r.cols...)
	for _, it := range o.Items {
		old := c.columnRef(&rel{cols: cols, table: r.table}, &syntax.Ident{Pos: it.OldPos, Name: it.Old})
		for i, cc := range cols {
			if cc == old {
				nc := *cc
				nc.name = it.New
				cols[i] = &nc
			} else if cc.name == it.New {
				panic(errorf(CodeSemantic, it.Pos, "project-rename: a column named '%s' already exists", it.New))
			}
		}
	}
	return &rel{cte: r.cte, cols: cols, hidden: r.hidden, order: r.order}
}

func (c *compiler) sort(r *rel, keys []*syntax.SortKey) *rel {
	var sel []string
	out := &rel{cols: r.cols, hidden: append([]*col(nil), r.hidden...), table: r.table}
	for _, k := range keys {
		v := c.scalar(k.X, &env{r: r})
		if v.agg {
			panic(errorf(CodeSemantic, k.X.ExprPos(), "aggregates are not allowed in sort"))
		}
		if v.typ == "dynamic" {
			panic(errorf(CodeSemantic, k.X.ExprPos(), "cannot sort by a dynamic value; convert it (tostring(), tolong()...)"))
		}
		ok := orderKey{desc: k.Dir != "asc"}
		ok.nulls = "LAST"
		if !ok.desc {
			ok.nulls = "FIRST"
		}
		if k.Nulls != "" {
			ok.nulls = strings.ToUpper(k.Nulls)
		}
		if v.col != nil && v.col.inline == "" {
			ok.sql = v.col.sql
		} else {
			h := c.newCol("", v.typ)
			sel = append(sel, v.sql+" AS "+quote(h.sql))
			out.hidden = append(out.hidden, h)
			ok.sql = h.sql
		}
		out.order = append(out.order, ok)
	}
	if len(sel) == 0 {
		out.cte = r.cte
	} else {
		out.cte = c.emit("SELECT *, " + strings.Join(sel, ", ") + " FROM " + r.cte)
	}
	return out
}

func (c *compiler) limit(r *rel, n string) *rel {
	out := *r
	q := "SELECT * FROM " + r.cte
	if len(r.order) > 0 {
		q += " ORDER BY " + orderSQL(r.order)
	}
	out.cte = c.emit(q + " LIMIT " + n)
	return &out
}

func (c *compiler) distinct(r *rel, o *syntax.Distinct) *rel {
	var cols []*col
	if len(o.Items) == 1 {
		if _, all := o.Items[0].Value.(*syntax.Star); all {
			cols = r.cols
		}
	}
	if cols == nil {
		seen := map[string]bool{}
		for _, it := range o.Items {
			id, ok := it.Value.(*syntax.Ident)
			if !ok || it.Name != "" {
				panic(errorf(CodeSemantic, it.Pos, "distinct takes column names (or *)"))
			}
			cc := c.columnRef(r, id)
			if seen[cc.name] {
				panic(errorf(CodeSemantic, it.Pos, "column '%s' is listed twice", cc.name))
			}
			seen[cc.name] = true
			cols = append(cols, cc)
		}
	}
	for _, cc := range cols {
		if cc.typ == "dynamic" {
			// Distinct on JSON text is exact for our canonical encoding.
			continue
		}
	}
	out := &rel{cols: stripFlags(cols)}
	out.cte = c.emit("SELECT DISTINCT " + selectList(cols) + " FROM " + r.cte)
	return out
}

// stripFlags copies columns without the flags that only hold before a
// grouping operator.
func stripFlags(cols []*col) []*col {
	var out []*col
	for _, cc := range cols {
		n := *cc
		n.baseTime, n.dev, n.prop = false, false, false
		out = append(out, &n)
	}
	return out
}

func (c *compiler) renderOf(o *syntax.Render) *Render {
	r := &Render{Visualization: o.Kind}
	for _, p := range o.Props {
		v := c.scalar(p.Value, nil)
		if !v.konst {
			panic(errorf(CodeSemantic, p.Value.ExprPos(), "render property '%s' must be a constant", p.Name))
		}
		if r.Properties == nil {
			r.Properties = map[string]string{}
		}
		r.Properties[p.Name] = constText(v)
	}
	return r
}

func constText(v *sx) string {
	switch x := v.val.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		switch v.typ {
		case "datetime":
			return formatDatetime(x)
		case "timespan":
			return formatTimespan(x)
		}
	}
	return fmt.Sprint(v.val)
}

// isPropDoc reports whether v is parse_json(properties_s) of
// AzureDiagnostics, so that members of a column holding it still know
// where they come from.
func isPropDoc(v *sx) bool { return v.dyn != nil && v.dyn.baseProp && len(v.dyn.path) == 0 }
