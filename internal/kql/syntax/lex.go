package syntax

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// wordOps are the string and membership operators written as words. Each
// also has a negated form with a leading '!'.
var wordOps = map[string]bool{
	"has": true, "has_cs": true, "contains": true, "contains_cs": true,
	"startswith": true, "startswith_cs": true, "endswith": true, "endswith_cs": true,
	"hasprefix": true, "hasprefix_cs": true, "hassuffix": true, "hassuffix_cs": true,
	"in": true, "in~": true, "has_any": true, "has_all": true, "between": true, "matches": true,
}

// hyphenated are the operator names written with a hyphen (project-away);
// the lexer reads them as one identifier.
var hyphenated = map[string]bool{
	"project-away": true, "project-rename": true, "project-keep": true, "project-reorder": true,
	"project-smart": true, "make-series": true, "mv-expand": true, "mv-apply": true,
	"top-nested": true, "top-hitters": true, "parse-where": true, "parse-kv": true,
}

// typedLits are the names followed by a parenthesised literal whose text
// is not made of ordinary tokens (datetime(2026-01-01 10:00)).
var typedLits = map[string]bool{
	"datetime": true, "date": true, "timespan": true, "time": true, "dynamic": true,
	"int": true, "long": true, "real": true, "double": true, "bool": true, "boolean": true,
	"guid": true, "decimal": true,
}

// timespanUnits are the suffixes of timespan literals (Kusto's lexer).
var timespanUnits = map[string]bool{
	"d": true, "day": true, "days": true,
	"h": true, "hr": true, "hrs": true, "hour": true, "hours": true,
	"m": true, "min": true, "minute": true, "minutes": true,
	"s": true, "sec": true, "second": true, "seconds": true,
	"ms": true, "milli": true, "millis": true, "millisec": true, "millisecond": true, "milliseconds": true,
	"micro": true, "micros": true, "microsec": true, "microsecond": true, "microseconds": true,
	"nano": true, "nanos": true, "nanosec": true, "nanosecond": true, "nanoseconds": true,
	"tick": true, "ticks": true,
}

type lexer struct {
	src    string
	off    int
	line   int
	col    int
	toks   []Token
	space  bool
	err    *Error
	lineAt int // offset where the current line starts
}

// Lex splits src into tokens, ending with an EOF token.
func Lex(src string) ([]Token, error) {
	l := &lexer{src: src, line: 1}
	if !utf8.ValidString(src) {
		bad := 0
		for bad < len(src) {
			r, n := utf8.DecodeRuneInString(src[bad:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			bad += n
		}
		l.off = 0
		for l.off < bad {
			l.advance(1)
		}
		return nil, &Error{Pos: l.pos(), Msg: "the query text is not valid UTF-8"}
	}
	for l.err == nil {
		l.skipSpace()
		if l.err != nil {
			break
		}
		if l.off >= len(l.src) {
			l.toks = append(l.toks, Token{Kind: EOF, Pos: l.pos(), Space: l.space})
			return l.toks, nil
		}
		l.next()
	}
	return nil, l.err
}

func isIdentStart(r rune) bool { return r == '_' || r == '$' || unicode.IsLetter(r) }
func isIdentChar(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (l *lexer) pos() Pos {
	return Pos{Line: l.line, Col: utf8.RuneCountInString(l.src[l.lineAt:l.off]) + 1}
}

func (l *lexer) peek(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

func (l *lexer) rune() (rune, int) { return utf8.DecodeRuneInString(l.src[l.off:]) }

// advance moves past n bytes, tracking lines.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.lineAt = l.off + 1
		}
		l.off++
	}
}

func (l *lexer) fail(p Pos, msg string) { l.err = &Error{Pos: p, Msg: msg} }

func (l *lexer) skipSpace() {
	l.space = false
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			l.advance(1)
		case c == '/' && l.peek(1) == '/':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		default:
			if r, n := l.rune(); r == 0xA0 || r == 0xFEFF || (r > 127 && unicode.IsSpace(r)) {
				l.advance(n)
			} else {
				return
			}
			continue
		}
		l.space = true
	}
}

func (l *lexer) emit(t Token) {
	t.Space = l.space
	l.toks = append(l.toks, t)
}

func (l *lexer) next() {
	p := l.pos()
	start := l.off
	c := l.src[l.off]
	switch {
	case c == '"' || c == '\'':
		l.str(p, false)
		return
	case (c == '@' || c == 'h' || c == 'H') && (l.peek(1) == '"' || l.peek(1) == '\''):
		l.advance(1)
		l.str(p, c == '@')
		return
	case (c == 'h' || c == 'H') && l.peek(1) == '@' && (l.peek(2) == '"' || l.peek(2) == '\''):
		l.advance(2)
		l.str(p, true)
		return
	case c == '`' && strings.HasPrefix(l.src[l.off:], "```"):
		end := strings.Index(l.src[l.off+3:], "```")
		if end < 0 {
			l.fail(p, "unterminated ``` string literal")
			return
		}
		v := l.src[l.off+3 : l.off+3+end]
		l.advance(end + 6)
		l.emit(Token{Kind: StrTok, Text: l.src[start:l.off], Value: v, Pos: p})
		return
	case c >= '0' && c <= '9' || (c == '.' && l.peek(1) >= '0' && l.peek(1) <= '9'):
		l.number(p)
		return
	case c == '[' && (l.peek(1) == '\'' || l.peek(1) == '"') && !l.indexes():
		l.bracketName(p)
		return
	case c == '!':
		// !has, !contains, !in, !in~, !between ...
		if w := l.wordAt(l.off + 1); wordOps[w] {
			l.advance(1 + len(w))
			l.emit(Token{Kind: WordOp, Text: "!" + w, Pos: p})
			return
		}
	}
	if r, n := l.rune(); isIdentStart(r) {
		l.ident(p, n)
		return
	} else if r == utf8.RuneError && n == 1 {
		l.fail(p, "invalid UTF-8 in the query text")
		return
	}
	for _, op := range []string{"==", "!=", "<>", "<=", ">=", "=~", "!~", "=>", "..", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", ",", ".", "|", ";", ":", "!"} {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance(len(op))
			l.emit(Token{Kind: OpTok, Text: op, Pos: p})
			return
		}
	}
	r, _ := l.rune()
	l.fail(p, "unexpected character "+quoteRune(r))
}

func quoteRune(r rune) string {
	if unicode.IsPrint(r) {
		return "'" + string(r) + "'"
	}
	return fmt.Sprintf("U+%04X", r)
}

// wordAt returns the word operator (letters, _, and a trailing ~ for in~)
// starting at off, or "".
func (l *lexer) wordAt(off int) string {
	end := off
	for end < len(l.src) {
		c := l.src[end]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			end++
			continue
		}
		break
	}
	w := l.src[off:end]
	if w == "in" && end < len(l.src) && l.src[end] == '~' {
		return "in~"
	}
	if end < len(l.src) {
		if r, _ := utf8.DecodeRuneInString(l.src[end:]); isIdentChar(r) {
			return ""
		}
	}
	return w
}

func (l *lexer) ident(p Pos, n int) {
	start := l.off
	l.advance(n)
	for l.off < len(l.src) {
		r, n := l.rune()
		if !isIdentChar(r) {
			break
		}
		l.advance(n)
	}
	word := l.src[start:l.off]
	// Hyphenated operator names.
	if l.peek(0) == '-' {
		end := l.off + 1
		for end < len(l.src) && (l.src[end] >= 'a' && l.src[end] <= 'z') {
			end++
		}
		if hyphenated[l.src[start:end]] {
			l.advance(end - l.off)
			word = l.src[start:l.off]
		}
	}
	if word == "in" && l.peek(0) == '~' {
		l.advance(1)
		l.emit(Token{Kind: WordOp, Text: "in~", Pos: p})
		return
	}
	if wordOps[word] && word != "matches" && word != "between" && word != "has_any" && word != "has_all" {
		l.emit(Token{Kind: WordOp, Text: word, Pos: p})
		return
	}
	if typedLits[word] {
		// The literal's raw text runs to the matching ')'.
		save, saveLine, saveAt := l.off, l.line, l.lineAt
		l.skipSpace()
		if l.peek(0) == '(' {
			open := l.pos()
			l.advance(1)
			depth, begin := 1, l.off
			for l.off < len(l.src) && depth > 0 {
				switch l.src[l.off] {
				case '(', '[', '{':
					depth++
				case ')', ']', '}':
					depth--
				case '"', '\'':
					q := l.src[l.off]
					l.advance(1)
					for l.off < len(l.src) && l.src[l.off] != q {
						if l.src[l.off] == '\\' {
							l.advance(1)
						}
						l.advance(1)
					}
				}
				l.advance(1)
			}
			if depth > 0 {
				l.fail(open, "missing ')' after "+word+"(")
				return
			}
			l.space = false
			l.toks = append(l.toks, Token{Kind: TypedTok, Text: word, Value: strings.TrimSpace(l.src[begin : l.off-1]), Pos: p, Space: len(l.toks) > 0 && l.toks[len(l.toks)-1].Pos != p})
			return
		}
		l.off, l.line, l.lineAt = save, saveLine, saveAt
	}
	l.emit(Token{Kind: NameTok, Text: word, Pos: p})
}

func (l *lexer) bracketName(p Pos) {
	l.advance(1) // [
	q := l.src[l.off]
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.fail(p, "unterminated [' name")
			return
		}
		c := l.src[l.off]
		if c == q {
			l.advance(1)
			break
		}
		if c == '\\' && l.off+1 < len(l.src) {
			l.advance(1)
			c = l.src[l.off]
		}
		b.WriteByte(c)
		l.advance(1)
	}
	l.skipSpace()
	if l.peek(0) != ']' {
		l.fail(l.pos(), "expected ']' to close the bracketed name")
		return
	}
	l.advance(1)
	if b.Len() == 0 {
		l.fail(p, "empty bracketed name")
		return
	}
	l.emit(Token{Kind: NameTok, Text: b.String(), Pos: p, Quoted: true})
}

func (l *lexer) str(p Pos, verbatim bool) {
	start := l.off
	q := l.src[l.off]
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' {
			l.fail(p, "unterminated string literal")
			return
		}
		c := l.src[l.off]
		if c == q {
			if verbatim && l.peek(1) == q {
				b.WriteByte(q)
				l.advance(2)
				continue
			}
			l.advance(1)
			break
		}
		if c == '\\' && !verbatim {
			e := l.peek(1)
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '"', '\'':
				b.WriteByte(e)
			case '0':
				b.WriteByte(0)
			case 'u':
				if l.off+6 <= len(l.src) {
					var v rune
					ok := true
					for _, h := range l.src[l.off+2 : l.off+6] {
						d := strings.IndexRune("0123456789abcdef", unicode.ToLower(h))
						if d < 0 {
							ok = false
							break
						}
						v = v*16 + rune(d)
					}
					if ok {
						b.WriteRune(v)
						l.advance(6)
						continue
					}
				}
				l.fail(l.pos(), `invalid \u escape in string literal`)
				return
			default:
				l.fail(l.pos(), "invalid escape sequence \\"+string(rune(e))+" in string literal")
				return
			}
			l.advance(2)
			continue
		}
		b.WriteByte(c)
		l.advance(1)
	}
	text := l.src[start:l.off]
	if start > 0 && (l.src[start-1] == '@' || l.src[start-1] == 'h' || l.src[start-1] == 'H') {
		text = l.src[start-1 : l.off]
		if start > 1 && l.src[start-1] == '@' && (l.src[start-2] == 'h' || l.src[start-2] == 'H') {
			text = l.src[start-2 : l.off]
		}
	}
	l.emit(Token{Kind: StrTok, Text: text, Value: b.String(), Pos: p})
}

func (l *lexer) number(p Pos) {
	start := l.off
	digits := func() {
		for l.off < len(l.src) && l.src[l.off] >= '0' && l.src[l.off] <= '9' {
			l.advance(1)
		}
	}
	if l.peek(0) == '0' && (l.peek(1) == 'x' || l.peek(1) == 'X') {
		l.advance(2)
		for l.off < len(l.src) && strings.IndexByte("0123456789abcdefABCDEF", l.src[l.off]) >= 0 {
			l.advance(1)
		}
		l.emit(Token{Kind: NumTok, Text: l.src[start:l.off], Pos: p})
		return
	}
	digits()
	if l.peek(0) == '.' && l.peek(1) >= '0' && l.peek(1) <= '9' {
		l.advance(1)
		digits()
	} else if l.peek(0) == '.' && l.peek(1) != '.' && !isIdentStartByte(l.peek(1)) {
		l.advance(1) // "1." is a real
	}
	// Timespan suffix?
	end := l.off
	for end < len(l.src) && (l.src[end] >= 'a' && l.src[end] <= 'z' || l.src[end] >= 'A' && l.src[end] <= 'Z') {
		end++
	}
	if end > l.off {
		unit := l.src[l.off:end]
		nextIdent := false
		if end < len(l.src) {
			r, _ := utf8.DecodeRuneInString(l.src[end:])
			nextIdent = isIdentChar(r)
		}
		if timespanUnits[unit] && !nextIdent {
			l.advance(end - l.off)
			l.emit(Token{Kind: SpanTok, Text: l.src[start:l.off], Pos: p})
			return
		}
		if !isExponent(l.src[l.off:]) {
			l.fail(p, "invalid number or timespan literal '"+l.src[start:end]+"' (timespan units are d, h, m, s, ms, microsecond, tick...; there is no week unit)")
			return
		}
	}
	if c := l.peek(0); c == 'e' || c == 'E' {
		save := l.off
		l.advance(1)
		if c := l.peek(0); c == '+' || c == '-' {
			l.advance(1)
		}
		if c := l.peek(0); c < '0' || c > '9' {
			l.fail(p, "invalid number literal '"+l.src[start:save+1]+"'")
			return
		}
		digits()
	}
	if r, _ := utf8.DecodeRuneInString(l.src[l.off:]); l.off < len(l.src) && isIdentChar(r) {
		l.fail(p, "invalid number literal: a name cannot start with a digit")
		return
	}
	l.emit(Token{Kind: NumTok, Text: l.src[start:l.off], Pos: p})
}

func isIdentStartByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isExponent reports whether s starts with an exponent: e, an optional
// sign, and a digit.
func isExponent(s string) bool {
	if len(s) < 2 || (s[0] != 'e' && s[0] != 'E') {
		return false
	}
	s = s[1:]
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	return len(s) > 0 && s[0] >= '0' && s[0] <= '9'
}

// indexes reports whether a '[' here indexes the previous expression
// (d["key"]) rather than starting a bracketed name (['$table']): it does
// when it follows an operand (a name, a literal, ')' or ']') with no
// space between: an operand followed by a name is never valid, and the
// printer writes a property that is not a plain name as X["name"].
func (l *lexer) indexes() bool {
	if len(l.toks) == 0 || l.space {
		return false
	}
	p := l.toks[len(l.toks)-1]
	switch p.Kind {
	case NameTok, StrTok, NumTok, SpanTok, TypedTok:
		return true
	}
	return p.Kind == OpTok && (p.Text == ")" || p.Text == "]")
}
