// Package syntax reads the text of a KQL (Kusto Query Language) query into
// an abstract syntax tree and prints a tree back as canonical KQL.
//
// It knows the grammar only: whether a name is a column, a table or a
// function is decided later by package kql, which binds the tree against
// table schemas and compiles it to SQL. The lexer follows Kusto's lexical
// rules (case-sensitive names, // comments, double-, single- and
// triple-backtick-quoted and verbatim @"..." strings,
// timespan literals such as 5m or 24hr, datetime(...) literals); the parser
// is a recursive descent over the operator precedence of Kusto's grammar.
//
// [Parse] returns a *[Error] with a 1-based line and column for any input
// it cannot read; it never panics, and it stops at [MaxDepth] levels of
// nesting. The package imports only the standard library.
package syntax
