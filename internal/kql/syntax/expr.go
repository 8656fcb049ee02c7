package syntax

import "strings"

// The precedence levels of binary operators, low to high, after Kusto's
// grammar: or; and; equality and membership; relational; additive;
// multiplicative; string operators.

func (p *parser) enter() {
	p.depth++
	if p.depth > MaxDepth {
		p.failf(p.tok().Pos, "the query nests too deeply (more than %d levels)", MaxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) expr() Expr {
	p.enter()
	defer p.leave()
	return p.or()
}

func (p *parser) or() Expr {
	x := p.and()
	for p.isWord("or") {
		t := p.adv()
		x = &Binary{Pos: t.Pos, Op: "or", L: x, R: p.and()}
	}
	return x
}

func (p *parser) and() Expr {
	x := p.equality()
	for p.isWord("and") {
		t := p.adv()
		x = &Binary{Pos: t.Pos, Op: "and", L: x, R: p.equality()}
	}
	return x
}

func (p *parser) equality() Expr {
	x := p.relational()
	for {
		t := p.tok()
		switch {
		case t.Kind == OpTok && (t.Text == "==" || t.Text == "!=" || t.Text == "<>"):
			p.adv()
			x = &Binary{Pos: t.Pos, Op: t.Text, L: x, R: p.relational()}
		case t.Kind == WordOp && (t.Text == "in" || t.Text == "!in" || t.Text == "in~" || t.Text == "!in~"),
			t.Kind == NameTok && (t.Text == "has_any" || t.Text == "has_all") && p.peek().Text == "(":
			p.adv()
			x = &In{Pos: t.Pos, Op: t.Text, L: x, List: p.list(t.Text)}
		case t.Kind == WordOp && (t.Text == "!has_any" || t.Text == "!has_all"):
			p.failf(t.Pos, "'%s' is not a KQL operator", t.Text)
		case (t.Kind == NameTok && t.Text == "between" || t.Kind == WordOp && t.Text == "!between") && p.peek().Text == "(":
			p.adv()
			p.expectOp("(", "after between")
			lo := p.expr()
			p.expectOp("..", "between the bounds of between (lo .. hi)")
			hi := p.expr()
			p.expectOp(")", "to close between (...)")
			x = &Between{Pos: t.Pos, Not: t.Text == "!between", L: x, Lo: lo, Hi: hi}
		default:
			return x
		}
	}
}

func (p *parser) list(op string) []Expr {
	p.expectOp("(", "after "+op)
	var out []Expr
	for !p.isOp(")") {
		out = append(out, p.expr())
		if !p.isOp(",") {
			break
		}
		p.adv()
	}
	p.expectOp(")", "to close the list of "+op)
	if len(out) == 0 {
		p.failf(p.tok().Pos, "the list of %s is empty", op)
	}
	return out
}

func (p *parser) relational() Expr {
	x := p.additive()
	for {
		t := p.tok()
		if t.Kind == OpTok && (t.Text == "<" || t.Text == "<=" || t.Text == ">" || t.Text == ">=") {
			p.adv()
			x = &Binary{Pos: t.Pos, Op: t.Text, L: x, R: p.additive()}
			continue
		}
		return x
	}
}

func (p *parser) additive() Expr {
	x := p.multiplicative()
	for {
		t := p.tok()
		if t.Kind == OpTok && (t.Text == "+" || t.Text == "-") {
			p.adv()
			x = &Binary{Pos: t.Pos, Op: t.Text, L: x, R: p.multiplicative()}
			continue
		}
		return x
	}
}

func (p *parser) multiplicative() Expr {
	x := p.stringOp()
	for {
		t := p.tok()
		if t.Kind == OpTok && (t.Text == "*" || t.Text == "/" || t.Text == "%") {
			p.adv()
			x = &Binary{Pos: t.Pos, Op: t.Text, L: x, R: p.stringOp()}
			continue
		}
		return x
	}
}

func (p *parser) stringOp() Expr {
	x := p.unary()
	for {
		t := p.tok()
		switch {
		case t.Kind == OpTok && (t.Text == "=~" || t.Text == "!~" || t.Text == ":"):
		case t.Kind == WordOp && !isMembership(t.Text) && !strings.HasSuffix(t.Text, "between"):
		case t.Kind == NameTok && t.Text == "matches" && p.peek().Kind == NameTok && p.peek().Text == "regex":
			p.adv()
			p.adv()
			x = &Binary{Pos: t.Pos, Op: "matches regex", L: x, R: p.unary()}
			continue
		default:
			return x
		}
		p.adv()
		x = &Binary{Pos: t.Pos, Op: t.Text, L: x, R: p.unary()}
	}
}

func (p *parser) unary() Expr {
	t := p.tok()
	if t.Kind == OpTok && (t.Text == "-" || t.Text == "+") {
		p.enter()
		defer p.leave()
		p.adv()
		return &Unary{Pos: t.Pos, Op: t.Text, X: p.unary()}
	}
	return p.postfix()
}

func (p *parser) postfix() Expr {
	x := p.primary()
	for {
		if _, star := x.(*Star); star && (p.isOp(".") || p.isOp("[")) {
			p.failf(p.tok().Pos, "'*' stands for all columns and has no properties or elements")
		}
		switch {
		case p.isOp("."):
			p.adv()
			t := p.tok()
			switch t.Kind {
			case NameTok, WordOp, TypedTok:
				p.adv()
				x = &Member{Pos: t.Pos, X: x, Name: t.Text}
			case OpTok:
				if t.Text == "[" {
					continue // d.["key"]
				}
				p.failf(t.Pos, "expected a property name after '.', found %s", t.describe())
			default:
				p.failf(t.Pos, "expected a property name after '.', found %s", t.describe())
			}
		case p.isOp("["):
			t := p.adv()
			i := p.expr()
			p.expectOp("]", "to close the index")
			x = &Index{Pos: t.Pos, X: x, I: i}
		default:
			return x
		}
	}
}

func (p *parser) primary() Expr {
	t := p.tok()
	switch t.Kind {
	case StrTok:
		p.adv()
		v := t.Value
		for p.tok().Kind == StrTok { // adjacent literals join
			v += p.adv().Value
		}
		return &StringLit{Pos: t.Pos, Value: v}
	case NumTok:
		p.adv()
		return &NumberLit{Pos: t.Pos, Text: t.Text}
	case SpanTok:
		p.adv()
		return &TimespanLit{Pos: t.Pos, Text: t.Text}
	case TypedTok:
		p.adv()
		return &TypedLit{Pos: t.Pos, Type: t.Text, Raw: t.Value}
	case NameTok:
		p.adv()
		if !t.Quoted && (t.Text == "true" || t.Text == "false") {
			return &BoolLit{Pos: t.Pos, Value: t.Text == "true"}
		}
		if !t.Quoted && p.isOp("(") {
			p.enter()
			defer p.leave()
			p.adv()
			c := &Call{Pos: t.Pos, Name: t.Text}
			for !p.isOp(")") {
				if p.isOp("*") && (p.peek().Text == ")" || p.peek().Text == ",") {
					c.Args = append(c.Args, &Star{Pos: p.adv().Pos})
				} else {
					c.Args = append(c.Args, p.expr())
				}
				if !p.isOp(",") {
					break
				}
				p.adv()
			}
			p.expectOp(")", "to close the arguments of "+t.Text+"(")
			return c
		}
		return &Ident{Pos: t.Pos, Name: t.Text, Quoted: t.Quoted}
	case OpTok:
		switch t.Text {
		case "(":
			p.enter()
			defer p.leave()
			p.adv()
			x := p.expr()
			if p.isOp(",") {
				p.failf(p.tok().Pos, "unexpected ',' in parentheses")
			}
			p.expectOp(")", "to close '('")
			return &Paren{Pos: t.Pos, X: x}
		case "*":
			p.adv()
			return &Star{Pos: t.Pos}
		}
	case WordOp:
		p.failf(t.Pos, "expected an expression before '%s'", t.Text)
	}
	p.failf(t.Pos, "expected an expression, found %s", t.describe())
	return nil
}

// Suggest returns the candidate closest to name (case-insensitively equal,
// or within a small edit distance), or "".
func Suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if c == name {
			continue
		}
		if strings.EqualFold(c, name) {
			return c
		}
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(1, min(3, len(name)/3)) {
		return best
	}
	return ""
}

// distance is the Levenshtein distance.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func isMembership(op string) bool {
	switch op {
	case "in", "!in", "in~", "!in~":
		return true
	}
	return false
}
