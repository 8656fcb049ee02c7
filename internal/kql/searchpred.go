package kql

import (
	"regexp"
	"strings"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// searchPred compiles a search predicate: a bare string is a term looked
// for in every column, Column:"term" in one column, and anything else an
// ordinary predicate.
func (c *compiler) searchPred(x syntax.Expr, r *rel, cs bool) string {
	s := c.searchExpr(x, &env{r: r, star: true}, cs)
	c.predicate(x, s, "search")
	return s.sql
}

func (c *compiler) searchExpr(x syntax.Expr, e *env, cs bool) *sx {
	switch x := x.(type) {
	case *syntax.Paren:
		s := *c.searchExpr(x.X, e, cs)
		s.sql = "(" + s.sql + ")"
		return &s
	case *syntax.Binary:
		switch x.Op {
		case "and", "or":
			l, r := c.searchExpr(x.L, e, cs), c.searchExpr(x.R, e, cs)
			if l.typ != "bool" || r.typ != "bool" {
				break
			}
			return &sx{sql: l.sql + " " + strings.ToUpper(x.Op) + " " + r.sql, typ: "bool"}
		case ":":
			id, ok := x.L.(*syntax.Ident)
			if !ok {
				panic(errorf(CodeSemantic, x.Pos, "the left side of ':' must be a column name"))
			}
			col := c.scalar(id, e)
			term := c.stringConst(x.R)
			if term == nil {
				panic(errorf(CodeSemantic, x.R.ExprPos(), "the right side of ':' must be a string"))
			}
			return &sx{sql: c.termTest(c.str(col), *term, cs), typ: "bool"}
		}
	case *syntax.StringLit:
		var parts []string
		for _, col := range e.r.cols {
			parts = append(parts, c.termTest(c.str(&sx{sql: quote(col.sql), typ: col.typ}), x.Value, cs))
		}
		if len(parts) == 0 {
			return c.konst("bool", false)
		}
		return &sx{sql: "(" + strings.Join(parts, " OR ") + ")", typ: "bool"}
	}
	return c.scalar(x, e)
}

// termTest is the SQL of one column matching a search term: has, or with
// wildcards hasprefix ("err*"), hassuffix ("*err"), contains ("*err*") or
// a regular expression ("Lab*PC").
func (c *compiler) termTest(col, term string, cs bool) string {
	flag := "0"
	if cs {
		flag = "1"
	}
	core := strings.Trim(term, "*")
	pre, suf := strings.HasPrefix(term, "*"), strings.HasSuffix(term, "*")
	switch {
	case strings.Contains(core, "*"):
		var parts []string
		for _, p := range strings.Split(core, "*") {
			parts = append(parts, regexp.QuoteMeta(p))
		}
		re := strings.Join(parts, ".*")
		if !pre {
			re = `(^|[^\pL\pN])` + re
		}
		if !suf {
			re += `($|[^\pL\pN])`
		}
		if !cs {
			re = "(?i)" + re
		}
		return "kql_regex(" + col + ", " + c.argOnce(re) + ")"
	case pre && suf:
		return "kql_contains(" + col + ", " + c.argOnce(core) + ", " + flag + ")"
	case suf:
		return "kql_hasprefix(" + col + ", " + c.argOnce(core) + ", " + flag + ")"
	case pre:
		return "kql_hassuffix(" + col + ", " + c.argOnce(core) + ", " + flag + ")"
	}
	return "kql_has(" + col + ", " + c.argOnce(core) + ", " + flag + ")"
}

// argOnce binds a string once per query and reuses its placeholder (a
// search term is tested against every column).
func (c *compiler) argOnce(s string) string {
	if p, ok := c.once[s]; ok {
		return p
	}
	if c.once == nil {
		c.once = map[string]string{}
	}
	c.once[s] = c.arg(s)
	return c.once[s]
}
