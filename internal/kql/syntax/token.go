package syntax

import "fmt"

// Kind is the kind of a token.
type Kind int

// The token kinds.
const (
	EOF      Kind = iota
	NameTok       // a name: letters, digits, _ (also ['bracketed'] names and hyphenated operators like project-away)
	StrTok        // a string literal; Value holds the decoded text
	NumTok        // an integer or real literal; Text holds the source text
	SpanTok       // a timespan literal such as 5m; Text holds the source text
	TypedTok      // datetime(...), timespan(...), int(...), dynamic(...)...: Text holds the type, Value the raw text inside
	OpTok         // punctuation and symbolic operators; Text holds it
	WordOp        // a word operator such as has, !contains, in~, !in; Text holds it
)

func (k Kind) String() string {
	switch k {
	case EOF:
		return "end of query"
	case NameTok:
		return "name"
	case StrTok:
		return "string"
	case NumTok:
		return "number"
	case SpanTok:
		return "timespan"
	case TypedTok:
		return "literal"
	case OpTok:
		return "operator"
	case WordOp:
		return "operator"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Pos is a position in the query text: 1-based line and column (in
// characters).
type Pos struct{ Line, Col int }

// Token is one lexical token.
type Token struct {
	Kind  Kind
	Text  string // the source text (for String: the literal as written)
	Value string // String: decoded value; TypedLit: the raw argument text
	Pos   Pos
	// Quoted is true for an identifier written ['...'].
	Quoted bool
	// Space is true when white space or a comment precedes the token.
	Space bool
}

// Error is a syntax error at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, col %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

// describe names a token for error messages.
func (t Token) describe() string {
	switch t.Kind {
	case EOF:
		return "the end of the query"
	case StrTok:
		return "string " + t.Text
	}
	return fmt.Sprintf("'%s'", t.Text)
}
