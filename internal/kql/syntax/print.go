package syntax

import (
	"fmt"
	"strings"
	"unicode"
)

// Print formats a query as canonical KQL: one let statement per line, the
// source on its own line, and each operator on a new line starting with
// '|'. Parsing the output gives the same tree.
func Print(q *Query) string {
	var b strings.Builder
	for _, l := range q.Lets {
		b.WriteString("let " + name(l.Name) + " = " + PrintExpr(l.Value) + ";\n")
	}
	if q.Body != nil {
		printSource(&b, q.Body.Source)
		for _, op := range q.Body.Ops {
			b.WriteString("\n| ")
			printOp(&b, op)
		}
	}
	return b.String()
}

func printSource(b *strings.Builder, s Source) {
	switch s := s.(type) {
	case *TableRef:
		b.WriteString(name(s.Name))
	case *Search:
		printOp(b, s)
	case *Union:
		printOp(b, s)
	}
}

func printOp(b *strings.Builder, op Operator) {
	switch o := op.(type) {
	case *Where:
		b.WriteString("where " + PrintExpr(o.Pred))
	case *Extend:
		b.WriteString("extend " + assigns(o.Items))
	case *Project:
		b.WriteString("project " + assigns(o.Items))
	case *ProjectAway:
		var n []string
		for _, i := range o.Names {
			n = append(n, name(i.Name))
		}
		b.WriteString("project-away " + strings.Join(n, ", "))
	case *ProjectRename:
		var n []string
		for _, r := range o.Items {
			n = append(n, name(r.New)+" = "+name(r.Old))
		}
		b.WriteString("project-rename " + strings.Join(n, ", "))
	case *Summarize:
		b.WriteString("summarize")
		if len(o.Aggs) > 0 {
			b.WriteString(" " + assigns(o.Aggs))
		}
		if len(o.By) > 0 {
			b.WriteString(" by " + assigns(o.By))
		}
	case *Distinct:
		b.WriteString("distinct " + assigns(o.Items))
	case *Sort:
		var k []string
		for _, s := range o.Keys {
			k = append(k, sortKey(s))
		}
		b.WriteString(o.Word + " by " + strings.Join(k, ", "))
	case *Take:
		b.WriteString(o.Word + " " + PrintExpr(o.N))
	case *Top:
		b.WriteString("top " + PrintExpr(o.N) + " by " + sortKey(o.Key))
	case *Count:
		b.WriteString("count")
	case *Render:
		b.WriteString("render " + name(o.Kind))
		if len(o.Props) > 0 {
			var p []string
			for _, r := range o.Props {
				p = append(p, name(r.Name)+" = "+PrintExpr(r.Value))
			}
			b.WriteString(" with (" + strings.Join(p, ", ") + ")")
		}
	case *Search:
		b.WriteString("search ")
		if o.Kind != "" {
			b.WriteString("kind=" + o.Kind + " ")
		}
		if len(o.Tables) > 0 {
			var n []string
			for _, t := range o.Tables {
				n = append(n, name(t.Name))
			}
			b.WriteString("in (" + strings.Join(n, ", ") + ") ")
		}
		b.WriteString(PrintExpr(o.Pred))
	case *Union:
		b.WriteString("union ")
		if o.WithSource != "" {
			b.WriteString("withsource=" + name(o.WithSource) + " ")
		}
		var n []string
		for _, t := range o.Tables {
			n = append(n, name(t.Name))
		}
		b.WriteString(strings.Join(n, ", "))
	case *Unsupported:
		b.WriteString(o.Name + " ...")
	}
}

func sortKey(k *SortKey) string {
	s := PrintExpr(k.X)
	if k.Dir != "" {
		s += " " + k.Dir
	}
	if k.Nulls != "" {
		s += " nulls " + k.Nulls
	}
	return s
}

func assigns(items []*Assign) string {
	var s []string
	for _, a := range items {
		if a.Name != "" {
			s = append(s, name(a.Name)+" = "+PrintExpr(a.Value))
		} else {
			s = append(s, PrintExpr(a.Value))
		}
	}
	return strings.Join(s, ", ")
}

// keywords may not be printed as bare names.
var keywords = map[string]bool{"and": true, "or": true, "by": true, "asc": true, "desc": true, "nulls": true,
	"with": true, "true": true, "false": true, "let": true, "in": true, "has": true, "contains": true,
	"between": true, "matches": true, "kind": true, "withsource": true}

// name prints an identifier, bracketed when it is not a plain name.
func name(s string) string {
	plain := s != "" && !keywords[s] && !typedLits[s] && !wordOps[s]
	for i, r := range s {
		if !(isIdentChar(r) && r != '$') || i == 0 && unicode.IsDigit(r) {
			plain = false
		}
	}
	if plain {
		return s
	}
	return "['" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "']"
}

// Quote prints s as a KQL string literal.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// PrintExpr formats a scalar expression.
func PrintExpr(x Expr) string {
	switch x := x.(type) {
	case *Ident:
		return name(x.Name)
	case *Star:
		return "*"
	case *StringLit:
		return Quote(x.Value)
	case *NumberLit:
		return x.Text
	case *TimespanLit:
		return x.Text
	case *BoolLit:
		if x.Value {
			return "true"
		}
		return "false"
	case *TypedLit:
		return x.Type + "(" + x.Raw + ")"
	case *Binary:
		return PrintExpr(x.L) + " " + x.Op + " " + PrintExpr(x.R)
	case *Unary:
		return x.Op + PrintExpr(x.X)
	case *In:
		var s []string
		for _, e := range x.List {
			s = append(s, PrintExpr(e))
		}
		return PrintExpr(x.L) + " " + x.Op + " (" + strings.Join(s, ", ") + ")"
	case *Between:
		op := "between"
		if x.Not {
			op = "!between"
		}
		return PrintExpr(x.L) + " " + op + " (" + PrintExpr(x.Lo) + " .. " + PrintExpr(x.Hi) + ")"
	case *Call:
		var s []string
		for _, a := range x.Args {
			s = append(s, PrintExpr(a))
		}
		return x.Name + "(" + strings.Join(s, ", ") + ")"
	case *Member:
		n := x.Name
		if name(n) != n {
			return PrintExpr(x.X) + "[" + Quote(n) + "]"
		}
		return PrintExpr(x.X) + "." + n
	case *Index:
		return PrintExpr(x.X) + "[" + PrintExpr(x.I) + "]"
	case *Paren:
		return "(" + PrintExpr(x.X) + ")"
	}
	return "?"
}
