// Package store is Tether's embedded SQLite store: the device registry,
// device twins, shared access policies, a small table of hub settings and
// the cloud-to-device queue in one file under the data folder, the
// telemetry stream in a second file beside it, and the diagnostic logs and
// metric samples (the AzureDiagnostics and AzureMetrics tables) in a
// third. Later migrations add alert state.
//
// It imports only the root package tether, the standard library and the
// pure-Go SQLite driver modernc.org/sqlite; components that need it declare
// a small interface, and internal/server hands them a [*Store].
//
// # Opening
//
// [Open] creates the files if they are missing, applies the embedded
// migrations (migrations/NNNN_name.sql for the registry file,
// migrations-telemetry/NNNN_name.sql for the telemetry file and
// migrations-logs/NNNN_name.sql for the logs file, each in order, in one
// transaction, tracked with the file's PRAGMA user_version)
// and returns a ready store. It refuses a file written by a newer Tether
// ([ErrNewerSchema]) and a file that is not a readable Tether database
// ([ErrCorrupt]); both messages name the path and say what to do.
//
// # Three files
//
// The registry lives in Options.Path (DIR/tether.db); the telemetry
// stream and its consumer groups' offsets live in Options.TelemetryPath,
// by default telemetry.db in the same folder; the diagnostic logs and
// metrics live in Options.LogsPath, by default logs.db there too. SQLite
// lets one writer at a time into a file, so separate files give telemetry
// and logs their own writers, WALs and checkpoints: a burst of device
// messages or log records, or the trimming of a million old ones, never
// makes a device update or a cloud-to-device send wait, and each file gets
// the durability it needs. Nothing needs a transaction across them.
// Deleting telemetry.db loses the stream and the offsets together, which
// keeps them consistent; deleting logs.db loses only logs and metrics.
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
// tens of thousands of messages a second. The logs file makes the same
// trade, with the same guarantee for [Store.WriteLogs] and
// [Store.WriteMetrics]: a batch whose call returned survives kill -9,
// whole (each call is one transaction), and only the last ones before a
// power cut may be lost.
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
// # Diagnostic logs and metrics
//
// The logs file holds two tables named, column for column, as Log
// Analytics names them, so that KQL written for Azure IoT Hub compiles to
// SQL over them with no renaming: AzureDiagnostics (one row per resource
// log record, [Store.WriteLogs]) and AzureMetrics (one row per metric and
// time grain, [Store.WriteMetrics]). Column types follow KQL's: string
// columns are TEXT NOT NULL, empty by default (a KQL string has no
// null), long columns INTEGER (DurationMs is NULL when a record has
// none), real columns REAL, and datetime columns (TimeGenerated) INTEGER Unix
// nanoseconds in UTC, rounded down to a multiple of 100 (Kusto's tick), so
// that datetime comparisons are integer comparisons and bin(t, size) is
// t / size * size for times after 1970 (Go's time.Time.UnixNano covers
// the years 1678 to 2262). A record with the zero Time is stored with the
// time of the write. The tables are STRICT.
//
// The hub-wide columns (Type, TenantId (empty), SourceSystem 'Azure',
// ResourceId, _ResourceId, SubscriptionId, ResourceGroup, Resource,
// ResourceProvider 'MICROSOFT.DEVICES', ResourceType 'IOTHUBS' and
// location) are stored in every row, from Options.ResourceID (parsed by
// [ParseResourceID]; upper case, as Azure writes it, and lower case in
// _ResourceId) and Options.Location. Storing them cost about 5% of write
// speed, measured against a narrower table, and keeps the table plain
// for SQL and each row under the resource it was logged under when the
// hub is restarted with another --resource-id. The insert carries them as
// literals, so only the record's own ten columns are bound per row.
//
// Two columns are Tether's, not Azure's: _DeviceId (the record's device,
// so that per-device queries need not parse properties_s) and _Reason (the
// precise cause of a disconnect or refusal, not indexed). The indexes
// are (TimeGenerated), (_DeviceId, TimeGenerated) and (Category,
// TimeGenerated). SQLite folds the case of column names, so no two
// columns may differ only in case.
//
// [Store.LogsDB] is the file's read-only pool, for the KQL executor; it
// never waits for writers. [Store.TrimLogs] deletes rows of both tables
// older than a time, oldest first, through the time index, in chunks of
// ten thousand rows per transaction so that writes get in between.
//
// Writing: each [Store.WriteLogs] is one transaction; its rows go in by 64
// per INSERT statement (prepared once), as INSERT OR FAIL, which spares
// SQLite the statement journal a multi-row INSERT otherwise writes. The
// writer checkpoints every 64 MiB of WAL rather than SQLite's 4 MiB. In
// batches of 4096 Connections records it writes 50,000 to 70,000 records a
// second on a two-core machine, sustained into millions of rows; the
// (_DeviceId, TimeGenerated) index is the largest cost, as its inserts
// land all over the index.
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
