package syntax

import (
	"fmt"
	"strings"
)

// MaxDepth is how deeply expressions may nest (parentheses, calls, unary
// operators) before Parse refuses the query.
const MaxDepth = 64

// unsupportedOps are KQL tabular operators that the compiler does not
// support. The parser accepts them as [Unsupported] so that the error can
// name them.
var unsupportedOps = map[string]bool{
	"join": true, "lookup": true, "make-series": true, "mv-expand": true, "mv-apply": true,
	"parse": true, "parse-where": true, "parse-kv": true, "serialize": true, "evaluate": true,
	"as": true, "facet": true, "fork": true, "getschema": true, "invoke": true, "partition": true,
	"sample": true, "sample-distinct": true, "scan": true, "top-nested": true, "top-hitters": true,
	"project-keep": true, "project-reorder": true, "project-smart": true, "reduce": true,
	"consume": true, "print": true, "range": true, "find": true, "externaldata": true,
	"datatable": true, "materialize": true, "make_list": false, "extend-smart": true,
	"graph-match": true, "make-graph": true, "execute": true, "assert-schema": true,
}

// operators are the tabular operators the parser knows by name, for
// suggestions in errors.
var operators = []string{"where", "filter", "extend", "project", "project-away", "project-rename",
	"summarize", "distinct", "sort", "order", "take", "limit", "top", "count", "render", "search", "union"}

type parser struct {
	toks  []Token
	i     int
	depth int
}

// Parse reads a query.
func Parse(src string) (q *Query, err error) {
	toks, err := Lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			q, err = nil, e
		}
	}()
	return p.query(), nil
}

// ParseExpr reads a single scalar expression.
func ParseExpr(src string) (x Expr, err error) {
	toks, err := Lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			x, err = nil, e
		}
	}()
	x = p.expr()
	if p.tok().Kind != EOF {
		p.failf(p.tok().Pos, "unexpected %s after the expression", p.tok().describe())
	}
	return x, nil
}

func (p *parser) tok() Token  { return p.toks[p.i] }
func (p *parser) peek() Token { return p.toks[min(p.i+1, len(p.toks)-1)] }
func (p *parser) adv() Token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) failf(pos Pos, format string, args ...any) {
	panic(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) isOp(s string) bool { t := p.tok(); return t.Kind == OpTok && t.Text == s }
func (p *parser) isWord(s string) bool {
	t := p.tok()
	return t.Kind == NameTok && !t.Quoted && t.Text == s
}

func (p *parser) expectOp(s, what string) Token {
	if !p.isOp(s) {
		p.failf(p.tok().Pos, "expected '%s' %s, found %s", s, what, p.tok().describe())
	}
	return p.adv()
}

func (p *parser) expectWord(s, what string) Token {
	if !p.isWord(s) {
		p.failf(p.tok().Pos, "expected '%s' %s, found %s", s, what, p.tok().describe())
	}
	return p.adv()
}

func (p *parser) name(what string) Token {
	t := p.tok()
	if t.Kind != NameTok {
		p.failf(t.Pos, "expected %s, found %s", what, t.describe())
	}
	return p.adv()
}

func (p *parser) query() *Query {
	q := &Query{}
	for {
		for p.isOp(";") {
			p.adv()
		}
		if p.tok().Kind == EOF {
			if q.Body == nil {
				p.failf(p.tok().Pos, "the query is empty: expected a table name such as AzureDiagnostics")
			}
			return q
		}
		if q.Body != nil {
			p.failf(p.tok().Pos, "unexpected %s: only one tabular statement is supported, and it must be the last", p.tok().describe())
		}
		if p.isWord("let") {
			q.Lets = append(q.Lets, p.let())
			if !p.isOp(";") {
				p.failf(p.tok().Pos, "expected ';' after the let statement, found %s", p.tok().describe())
			}
			continue
		}
		q.Body = p.pipeline()
		if !p.isOp(";") && p.tok().Kind != EOF {
			p.failf(p.tok().Pos, "unexpected %s; operators are separated by '|'", p.tok().describe())
		}
	}
}

func (p *parser) let() *Let {
	at := p.adv().Pos
	n := p.name("a name after let")
	p.expectOp("=", "after the let name")
	if p.isWord("view") || (p.isOp("(") && p.peek().Kind == NameTok && p.toks[min(p.i+2, len(p.toks)-1)].Text == ":") || p.isOp("(") && p.peek().Text == ")" {
		p.failf(p.tok().Pos, "user-defined functions in let are not supported by Tether; see docs/kql.md")
	}
	v := p.expr()
	if p.isOp("|") {
		p.failf(p.tok().Pos, "tabular let statements are not supported by Tether (only scalar values); see docs/kql.md")
	}
	return &Let{Pos: at, Name: n.Text, Value: v}
}

func (p *parser) pipeline() *Pipeline {
	pl := &Pipeline{}
	t := p.tok()
	switch {
	case p.isWord("search"):
		pl.Source = p.search()
	case p.isWord("union"):
		pl.Source = p.union()
	case t.Kind == NameTok && !t.Quoted && unsupportedOps[t.Text]:
		p.failf(t.Pos, "'%s' is not supported by Tether; see docs/kql.md", t.Text)
	case t.Kind == NameTok:
		p.adv()
		pl.Source = &TableRef{Pos: t.Pos, Name: t.Text}
	case t.Kind == OpTok && t.Text == "(":
		p.failf(t.Pos, "a parenthesised sub-query is not supported by Tether; see docs/kql.md")
	default:
		p.failf(t.Pos, "expected a table name such as AzureDiagnostics, found %s", t.describe())
	}
	for p.isOp("|") {
		p.adv()
		pl.Ops = append(pl.Ops, p.operator())
	}
	return pl
}

func (p *parser) operator() Operator {
	t := p.tok()
	if t.Kind != NameTok || t.Quoted {
		p.failf(t.Pos, "expected a tabular operator after '|' (such as where, extend, project, summarize), found %s", t.describe())
	}
	switch t.Text {
	case "where", "filter":
		p.adv()
		return &Where{Pos: t.Pos, Pred: p.expr()}
	case "extend":
		p.adv()
		return &Extend{Pos: t.Pos, Items: p.assigns(false)}
	case "project":
		p.adv()
		return &Project{Pos: t.Pos, Items: p.assigns(false)}
	case "project-away":
		p.adv()
		o := &ProjectAway{Pos: t.Pos}
		for {
			n := p.name("a column name")
			o.Names = append(o.Names, &Ident{Pos: n.Pos, Name: n.Text, Quoted: n.Quoted})
			if !p.isOp(",") {
				return o
			}
			p.adv()
		}
	case "project-rename":
		p.adv()
		o := &ProjectRename{Pos: t.Pos}
		for {
			n := p.name("a new column name")
			p.expectOp("=", "after the new name in project-rename")
			old := p.name("the column to rename")
			o.Items = append(o.Items, &Rename{Pos: n.Pos, New: n.Text, Old: old.Text, OldPos: old.Pos})
			if !p.isOp(",") {
				return o
			}
			p.adv()
		}
	case "summarize":
		p.adv()
		o := &Summarize{Pos: t.Pos}
		for p.isWord("hint.strategy") || (p.tok().Kind == NameTok && strings.HasPrefix(p.tok().Text, "hint") && p.peek().Text == ".") {
			p.failf(p.tok().Pos, "summarize hints are not supported by Tether")
		}
		if !p.isWord("by") {
			o.Aggs = p.assigns(true)
		}
		if p.isWord("by") {
			p.adv()
			o.By = p.assigns(false)
		}
		if len(o.Aggs) == 0 && len(o.By) == 0 {
			p.failf(p.tok().Pos, "summarize needs an aggregate or a 'by' clause")
		}
		return o
	case "distinct":
		p.adv()
		return &Distinct{Pos: t.Pos, Items: p.assigns(false)}
	case "sort", "order":
		p.adv()
		p.expectWord("by", "after "+t.Text)
		o := &Sort{Pos: t.Pos, Word: t.Text}
		for {
			o.Keys = append(o.Keys, p.sortKey())
			if !p.isOp(",") {
				return o
			}
			p.adv()
		}
	case "take", "limit":
		p.adv()
		return &Take{Pos: t.Pos, Word: t.Text, N: p.expr()}
	case "top":
		p.adv()
		o := &Top{Pos: t.Pos, N: p.expr()}
		p.expectWord("by", "after top N")
		o.Key = p.sortKey()
		if p.isOp(",") {
			p.failf(p.tok().Pos, "top takes one ordering key; use sort by ... | take N for several")
		}
		return o
	case "count":
		p.adv()
		return &Count{Pos: t.Pos}
	case "render":
		return p.render()
	case "search":
		return p.search()
	case "union":
		return p.union()
	}
	if unsupportedOps[t.Text] {
		p.adv()
		// Skip to the next top-level '|' so that the error names the
		// operator even when its arguments are unusual.
		depth := 0
		for p.tok().Kind != EOF && !(depth == 0 && (p.isOp("|") || p.isOp(";"))) {
			if p.isOp("(") || p.isOp("[") || p.isOp("{") {
				depth++
			} else if p.isOp(")") || p.isOp("]") || p.isOp("}") {
				depth--
			}
			p.adv()
		}
		return &Unsupported{Pos: t.Pos, Name: t.Text}
	}
	msg := fmt.Sprintf("unknown tabular operator '%s'", t.Text)
	if s := Suggest(t.Text, operators); s != "" {
		msg += fmt.Sprintf("; did you mean '%s'?", s)
	}
	p.failf(t.Pos, "%s", msg)
	return nil
}

func (p *parser) render() Operator {
	t := p.adv()
	kind := p.name("a visualization after render (such as timechart, barchart, table)")
	o := &Render{Pos: t.Pos, Kind: kind.Text}
	if p.isWord("with") {
		p.adv()
		p.expectOp("(", "after render ... with")
		for !p.isOp(")") {
			n := p.name("a render property name")
			p.expectOp("=", "after the render property name")
			o.Props = append(o.Props, RenderProp{Name: n.Text, Value: p.expr()})
			if !p.isOp(",") {
				break
			}
			p.adv()
		}
		p.expectOp(")", "to close render's with (...)")
	}
	return o
}

func (p *parser) search() *Search {
	t := p.adv()
	o := &Search{Pos: t.Pos}
	if p.isWord("kind") && p.peek().Text == "=" {
		p.adv()
		p.adv()
		k := p.name("a search kind (case_sensitive or case_insensitive)")
		switch k.Text {
		case "case_sensitive", "case_insensitive", "default":
			o.Kind = k.Text
		default:
			p.failf(k.Pos, "unknown search kind '%s'; expected case_sensitive or case_insensitive", k.Text)
		}
	}
	if t := p.tok(); t.Kind == WordOp && t.Text == "in" {
		p.adv()
		p.expectOp("(", "after search in")
		for {
			n := p.name("a table name")
			o.Tables = append(o.Tables, &TableRef{Pos: n.Pos, Name: n.Text})
			if !p.isOp(",") {
				break
			}
			p.adv()
		}
		p.expectOp(")", "to close the table list")
	}
	o.Pred = p.expr()
	return o
}

func (p *parser) union() *Union {
	t := p.adv()
	o := &Union{Pos: t.Pos}
	for p.tok().Kind == NameTok && p.peek().Text == "=" && p.peek().Kind == OpTok {
		k := p.adv()
		p.adv()
		v := p.name("a value for " + k.Text)
		switch k.Text {
		case "withsource":
			o.WithSource = v.Text
		case "kind":
			if v.Text != "outer" {
				p.failf(v.Pos, "union kind=%s is not supported by Tether (only outer); see docs/kql.md", v.Text)
			}
		case "isfuzzy":
		default:
			p.failf(k.Pos, "unknown union parameter '%s'", k.Text)
		}
	}
	for {
		n := p.name("a table name")
		o.Tables = append(o.Tables, &TableRef{Pos: n.Pos, Name: n.Text})
		if !p.isOp(",") {
			return o
		}
		p.adv()
	}
}

func (p *parser) sortKey() *SortKey {
	k := &SortKey{X: p.expr()}
	if p.isWord("asc") || p.isWord("desc") {
		k.Dir = p.adv().Text
	}
	if p.isWord("nulls") {
		p.adv()
		if !p.isWord("first") && !p.isWord("last") {
			p.failf(p.tok().Pos, "expected 'first' or 'last' after nulls, found %s", p.tok().describe())
		}
		k.Nulls = p.adv().Text
	}
	return k
}

// assigns reads [Name =] Expr, ... up to 'by', '|', ';' or the end.
func (p *parser) assigns(aggs bool) []*Assign {
	var out []*Assign
	for {
		t := p.tok()
		a := &Assign{Pos: t.Pos}
		if t.Kind == NameTok && p.peek().Kind == OpTok && p.peek().Text == "=" {
			p.adv()
			p.adv()
			a.Name = t.Text
		} else if t.Kind == OpTok && t.Text == "(" && aggs {
			// (A, B) = arg_max(...)
			j := p.i + 1
			for j < len(p.toks) && (p.toks[j].Kind == NameTok || p.toks[j].Text == ",") {
				j++
			}
			if j < len(p.toks)-1 && p.toks[j].Text == ")" && p.toks[j+1].Text == "=" {
				p.failf(t.Pos, "naming several columns with (A, B) = ... is not supported by Tether")
			}
		}
		a.Value = p.expr()
		out = append(out, a)
		if !p.isOp(",") {
			return out
		}
		p.adv()
	}
}
