// Package store is Tether's embedded SQLite store: the device registry,
// device twins, shared access policies and a small table of hub settings,
// in one file under the data folder. Later migrations add the connection
// log, metric samples and alert state beside them.
//
// It imports only the root package tether, the standard library and the
// pure-Go SQLite driver modernc.org/sqlite; components that need it declare
// a small interface, and internal/server hands them a [*Store].
//
// # Opening
//
// [Open] creates the file if it is missing, applies the embedded
// migrations (migrations/NNNN_name.sql, in order, in one transaction,
// tracked with PRAGMA user_version) and returns a ready store. It refuses a
// file written by a newer Tether ([ErrNewerSchema]) and a file that is not
// a readable Tether database ([ErrCorrupt]); both messages name the path
// and say what to do.
//
// # Concurrency and durability
//
// A [*Store] is safe for concurrent use by any number of goroutines.
// Writes go through one connection in WAL mode with BEGIN IMMEDIATE, so
// writers queue in Go rather than failing with SQLITE_BUSY; reads use a
// separate read-only pool and never wait for writers. With
// synchronous=FULL a write is on disk before its method returns.
//
// [Store.UpdateDevice], [Store.DeleteDevice] and [Store.UpdateTwin] run
// their callback inside the write transaction: the read, the callback's
// decision and the write are one atomic step. The callback must be quick
// and must not call the Store's write methods, which would wait forever for
// the connection it holds.
//
// # Encoding
//
// Times are stored as RFC 3339 text in UTC with nanoseconds; the zero time
// reads back as the zero time, and other times read back in UTC. Twin tags
// and properties are stored as JSON text and decoded with encoding/json
// into map[string]any, so every number reads back as float64 (including
// $metadata's $lastUpdatedVersion) and integers beyond 2^53 lose
// precision; this keeps the twin code simple. A nil map reads back as an
// empty, non-nil map. The twin's ModuleID is not stored: these are device
// twins.
package store
