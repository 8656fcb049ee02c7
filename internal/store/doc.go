// Package store is Tether's embedded SQLite store: the device registry,
// device twins, shared access policies, a small table of hub settings and
// the cloud-to-device queue in one file under the data folder, and the
// telemetry stream in a second file beside it. Later migrations add the
// connection log, metric samples and alert state.
//
// It imports only the root package tether, the standard library and the
// pure-Go SQLite driver modernc.org/sqlite; components that need it declare
// a small interface, and internal/server hands them a [*Store].
//
// # Opening
//
// [Open] creates the files if they are missing, applies the embedded
// migrations (migrations/NNNN_name.sql for the registry file and
// migrations-telemetry/NNNN_name.sql for the telemetry file, each in
// order, in one transaction, tracked with the file's PRAGMA user_version)
// and returns a ready store. It refuses a file written by a newer Tether
// ([ErrNewerSchema]) and a file that is not a readable Tether database
// ([ErrCorrupt]); both messages name the path and say what to do.
//
// # Two files
//
// The registry lives in Options.Path (DIR/tether.db); the telemetry
// stream and its consumer groups' offsets live in Options.TelemetryPath,
// by default telemetry.db in the same folder. SQLite lets one writer at a
// time into a file, so a second file gives telemetry its own writer, WAL
// and checkpoints: a burst of device messages, or the trimming of a
// million old ones, never makes a device update or a cloud-to-device send
// wait, and each file gets the durability it needs. Nothing needs a
// transaction across the two. Deleting telemetry.db loses the stream and
// the offsets together, which keeps them consistent.
//
// # Concurrency and durability
//
// A [*Store] is safe for concurrent use by any number of goroutines.
// Each file's writes go through one connection in WAL mode with BEGIN
// IMMEDIATE, so writers queue in Go rather than failing with SQLITE_BUSY;
// reads use a separate read-only pool per file and never wait for writers.
//
// The registry file uses synchronous=FULL: a write is on disk before its
// method returns and survives a power cut. The telemetry file uses
// synchronous=NORMAL: a committed [Store.AppendTelemetry] is in the WAL
// file, in the operating system's cache, before the call returns, so it
// survives the hub being killed (kill -9, a crash, an OOM kill), though
// the last commits before a power cut or kernel crash may be lost; the WAL
// is synced at each checkpoint. That trade is what lets one writer append
// tens of thousands of messages a second.
//
// [Store.UpdateDevice], [Store.DeleteDevice] and [Store.UpdateTwin] run
// their callback inside the write transaction: the read, the callback's
// decision and the write are one atomic step. The callback must be quick
// and must not call the Store's write methods, which would wait forever for
// the connection it holds.
//
// # Telemetry
//
// [Store.AppendTelemetry] stores a batch in one transaction with one
// prepared statement, numbering the messages from a counter in the file
// (telemetry_state), so Seq values are never reused, even after every
// message has been trimmed or the hub restarted. The table therefore holds
// a contiguous range of Seq: [Store.TrimTelemetry] deletes only from the
// oldest end, by age (stopping at the first message that is new enough)
// and by row count. Reads are by Seq, for all devices or one (indexed).
//
// # Cloud-to-device queue
//
// [Store.EnqueueC2D] checks the device exists and has fewer than
// [tether.MaxC2DPending] unexpired messages; seq is AUTOINCREMENT, so a
// completed message's number is never handed out again. The device's
// CloudToDeviceMessageCount is, as in Azure, the number of messages queued
// for it: triggers add one on every insert into the queue and take one
// away on every delete (complete, purge, expiry), in the same transaction,
// without changing the device's Version or ETag. Deleting a device deletes
// its queue (ON DELETE CASCADE).
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
//
// Message properties (map[string]string) are JSON text too, written
// without reflection; an empty map is stored as NULL and reads back as nil,
// as does an empty body. Telemetry times are Unix nanoseconds (0 for the
// zero time), cheap to write and to compare. Cloud-to-device times are RFC
// 3339 with exactly nine fraction digits, so that expiry compares as text.
package store
