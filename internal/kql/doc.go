// Package kql compiles the hub's subset of KQL (Kusto Query Language) to
// one parameterised SQLite statement and runs it on the log store, so that
// the IoT Hub queries documented for Log Analytics run unchanged on
// Tether's AzureDiagnostics and AzureMetrics tables.
//
// [Compile] parses a query (package syntax), binds every name against the
// table schemas (the built-in ones in schema.go plus [Options.Tables]),
// checks types, names the result columns as Log Analytics does, and emits
// a chain of CTEs, one per operator: identifiers come only from the
// schema and are quoted, every literal is a bound argument, so no query
// text reaches SQL. [Execute] runs a [Plan] on a read-only connection pool
// with the caller's context (a cancelled or expired context interrupts
// SQLite) and converts the values to Log Analytics JSON. [Query] does
// both. Errors are *[Error] with a Log Analytics style code and a line
// and column.
//
// # Semantics
//
// The rules follow the shared specification (kql-semantics.md): names are
// case-sensitive; strings are never null; != and the negated string
// operators keep rows where one side is null; has matches whole terms;
// sort defaults to descending with nulls last, and the order reaches the
// outermost SELECT; bin floors from the Unix epoch; summarize names its
// columns count_, max_X, and keeps a bin key's column name; extend of an
// existing name moves the column last. Without a filter on TimeGenerated
// or a request timespan, a query sees the last 24 hours. docs/kql.md is the
// user's reference.
//
// # SQLite functions
//
// The SQL calls Go functions (kql_has, kql_json_str, ...). They are
// registered with modernc.org/sqlite from init, because the driver's
// function registry is process-wide and copied into each connection when
// it opens: registering later would miss connections already open. The
// functions are pure; two small caches (the last parsed JSON document,
// compiled regular expressions) sit behind mutexes.
//
// The package must not import other components (internal/store
// included); the store's schema is checked against the KQL view by a test
// that reads the migration files.
package kql
