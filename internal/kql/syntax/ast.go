package syntax

// Query is a whole query: let statements, then one tabular expression.
type Query struct {
	Lets []*Let
	Body *Pipeline
}

// Let binds a name to a scalar expression: let Name = Value;
type Let struct {
	Pos   Pos
	Name  string
	Value Expr
}

// Pipeline is a source followed by tabular operators: T | op | op.
type Pipeline struct {
	Source Source
	Ops    []Operator
}

// Source starts a pipeline: a table name, search, or union.
type Source interface{ sourceNode() }

// Operator is one tabular operator after a '|'.
type Operator interface {
	OpPos() Pos
	OpName() string
}

// TableRef names a table.
type TableRef struct {
	Pos  Pos
	Name string
}

// Search is search [kind=K] [in (T1, ...)] Predicate, as a source or an
// operator.
type Search struct {
	Pos    Pos
	Kind   string // "", "case_sensitive", "case_insensitive", "default"
	Tables []*TableRef
	Pred   Expr
}

// Union is union [withsource=Name] T1, T2, ... as a source or operator.
type Union struct {
	Pos        Pos
	WithSource string
	Tables     []*TableRef
}

// Where is where (or filter) Predicate.
type Where struct {
	Pos  Pos
	Pred Expr
}

// Extend is extend [Name =] Expr, ...
type Extend struct {
	Pos   Pos
	Items []*Assign
}

// Project is project [Name =] Expr, ...
type Project struct {
	Pos   Pos
	Items []*Assign
}

// ProjectAway is project-away Col, ...
type ProjectAway struct {
	Pos   Pos
	Names []*Ident
}

// ProjectRename is project-rename New = Old, ...
type ProjectRename struct {
	Pos   Pos
	Items []*Rename
}

// Rename is New = Old in project-rename.
type Rename struct {
	Pos      Pos
	New, Old string
	OldPos   Pos
}

// Summarize is summarize [Name =] Agg, ... [by [Name =] Expr, ...].
type Summarize struct {
	Pos  Pos
	Aggs []*Assign
	By   []*Assign
}

// Distinct is distinct Col, ... or distinct *.
type Distinct struct {
	Pos   Pos
	Items []*Assign // a single item holding *Star means all columns
}

// Sort is sort by / order by Key, ...
type Sort struct {
	Pos  Pos
	Word string // "sort" or "order"
	Keys []*SortKey
}

// SortKey is one ordering key.
type SortKey struct {
	X     Expr
	Dir   string // "", "asc", "desc"
	Nulls string // "", "first", "last"
}

// Take is take N / limit N.
type Take struct {
	Pos  Pos
	Word string // "take" or "limit"
	N    Expr
}

// Top is top N by Key.
type Top struct {
	Pos Pos
	N   Expr
	Key *SortKey
}

// Count is the count operator.
type Count struct{ Pos Pos }

// Render is render Visualization [with (k = v, ...)].
type Render struct {
	Pos   Pos
	Kind  string
	Props []RenderProp
}

// RenderProp is one property of render's with clause.
type RenderProp struct {
	Name  string
	Value Expr
}

// Unsupported is a known KQL operator that the compiler does not support;
// the parser skips to the next '|'.
type Unsupported struct {
	Pos  Pos
	Name string
}

// Assign is [Name =] Expr.
type Assign struct {
	Pos   Pos
	Name  string // "" when unnamed
	Value Expr
}

func (*TableRef) sourceNode() {}
func (*Search) sourceNode()   {}
func (*Union) sourceNode()    {}

func (o *Search) OpPos() Pos        { return o.Pos }
func (o *Union) OpPos() Pos         { return o.Pos }
func (o *Where) OpPos() Pos         { return o.Pos }
func (o *Extend) OpPos() Pos        { return o.Pos }
func (o *Project) OpPos() Pos       { return o.Pos }
func (o *ProjectAway) OpPos() Pos   { return o.Pos }
func (o *ProjectRename) OpPos() Pos { return o.Pos }
func (o *Summarize) OpPos() Pos     { return o.Pos }
func (o *Distinct) OpPos() Pos      { return o.Pos }
func (o *Sort) OpPos() Pos          { return o.Pos }
func (o *Take) OpPos() Pos          { return o.Pos }
func (o *Top) OpPos() Pos           { return o.Pos }
func (o *Count) OpPos() Pos         { return o.Pos }
func (o *Render) OpPos() Pos        { return o.Pos }
func (o *Unsupported) OpPos() Pos   { return o.Pos }

func (*Search) OpName() string        { return "search" }
func (*Union) OpName() string         { return "union" }
func (*Where) OpName() string         { return "where" }
func (*Extend) OpName() string        { return "extend" }
func (*Project) OpName() string       { return "project" }
func (*ProjectAway) OpName() string   { return "project-away" }
func (*ProjectRename) OpName() string { return "project-rename" }
func (*Summarize) OpName() string     { return "summarize" }
func (*Distinct) OpName() string      { return "distinct" }
func (o *Sort) OpName() string        { return o.Word + " by" }
func (o *Take) OpName() string        { return o.Word }
func (*Top) OpName() string           { return "top" }
func (*Count) OpName() string         { return "count" }
func (*Render) OpName() string        { return "render" }
func (o *Unsupported) OpName() string { return o.Name }

// Expr is a scalar expression.
type Expr interface{ ExprPos() Pos }

// Ident is a name: a column, a let-bound name, or a table in search/union.
type Ident struct {
	Pos    Pos
	Name   string
	Quoted bool // written ['...']
}

// Star is * (all columns) in where * has x, distinct *, search *.
type Star struct{ Pos Pos }

// StringLit is a string literal (adjacent literals already joined).
type StringLit struct {
	Pos   Pos
	Value string
}

// NumberLit is an integer or real literal as written.
type NumberLit struct {
	Pos  Pos
	Text string
}

// TimespanLit is a timespan literal such as 5m.
type TimespanLit struct {
	Pos  Pos
	Text string
}

// BoolLit is true or false.
type BoolLit struct {
	Pos   Pos
	Value bool
}

// TypedLit is Type(raw): datetime(2026-01-01), timespan(1d), int(null),
// dynamic([1, 2])...
type TypedLit struct {
	Pos  Pos
	Type string
	Raw  string
}

// Binary is L Op R. Op is the operator as written (==, and, has,
// !contains, :...).
type Binary struct {
	Pos  Pos // of the operator
	Op   string
	L, R Expr
}

// Unary is -X or +X.
type Unary struct {
	Pos Pos
	Op  string
	X   Expr
}

// In is L in (List) and its variants (!in, in~, !in~, has_any, has_all).
type In struct {
	Pos  Pos
	Op   string
	L    Expr
	List []Expr
}

// Between is L between (Lo .. Hi) or !between.
type Between struct {
	Pos    Pos
	Not    bool
	L      Expr
	Lo, Hi Expr
}

// Call is Name(Args).
type Call struct {
	Pos  Pos
	Name string
	Args []Expr
}

// Member is X.Name.
type Member struct {
	Pos  Pos // of the name
	X    Expr
	Name string
}

// Index is X[I].
type Index struct {
	Pos Pos
	X   Expr
	I   Expr
}

// Paren is (X).
type Paren struct {
	Pos Pos
	X   Expr
}

func (e *Ident) ExprPos() Pos       { return e.Pos }
func (e *Star) ExprPos() Pos        { return e.Pos }
func (e *StringLit) ExprPos() Pos   { return e.Pos }
func (e *NumberLit) ExprPos() Pos   { return e.Pos }
func (e *TimespanLit) ExprPos() Pos { return e.Pos }
func (e *BoolLit) ExprPos() Pos     { return e.Pos }
func (e *TypedLit) ExprPos() Pos    { return e.Pos }
func (e *Binary) ExprPos() Pos      { return e.L.ExprPos() }
func (e *Unary) ExprPos() Pos       { return e.Pos }
func (e *In) ExprPos() Pos          { return e.L.ExprPos() }
func (e *Between) ExprPos() Pos     { return e.L.ExprPos() }
func (e *Call) ExprPos() Pos        { return e.Pos }
func (e *Member) ExprPos() Pos      { return e.X.ExprPos() }
func (e *Index) ExprPos() Pos       { return e.X.ExprPos() }
func (e *Paren) ExprPos() Pos       { return e.Pos }
