// Package stream is the hub's telemetry stream: the ordered, durable log
// of device-to-cloud messages that the MQTT gateway appends to and that
// consumers (monitor-events, server-sent events, routes) read from by
// sequence number.
//
// A [Stream] puts a group commit in front of a small [Storage]: many
// goroutines call [Stream.Append] or [Stream.Submit] at once, and the one
// writer loop in [Stream.Run] gathers everything waiting (up to
// Options.MaxBatch messages) into a single Storage.AppendTelemetry call,
// one transaction, then tells each caller its message's Seq. One
// transaction per batch rather than per message is what lets a gateway
// acknowledge tens of thousands of QoS 1 messages a second, each durable
// before its PUBACK. The same loop trims the stream every
// Options.TrimEvery to Options.Retention and Options.MaxRows.
//
// # Concurrency
//
// All methods are safe for concurrent use. Appends are stored, and
// Submit's callbacks called, in the order they were queued, so one
// caller's messages keep their order. Callbacks run on the writer
// goroutine and must not block.
//
// Pending appends wait in a slice behind a mutex, bounded by
// Options.MaxQueued (64 Ki messages by default). When it is full, Append
// and Submit block until the writer has taken a batch: the stream never
// drops a message, and the back-pressure reaches the devices through
// their connections. A "work pending" channel of capacity 1 wakes the
// writer. [Stream.Wait] blocks on a channel that the writer closes, and
// replaces, on each commit: readers are woken by broadcast, not polling.
//
// When Run's context ends, the batch being written finishes, then every
// append still waiting fails with [ErrStopped], as do later calls; Wait
// returns ErrStopped too. A Stream runs once.
//
// # Dependencies
//
// The package imports only the root package tether and the standard
// library. It declares the storage it needs as [Storage], which
// *store.Store satisfies but for ReadTelemetry's query type; the server
// adapts it in three lines:
//
//	type streamStore struct{ *store.Store }
//
//	func (s streamStore) ReadTelemetry(ctx context.Context, q stream.Query) ([]tether.Message, error) {
//		return s.Store.ReadTelemetry(ctx, store.TelemetryQuery(q))
//	}
//
// The Stream must be the only writer of its storage's telemetry: it
// remembers the newest Seq it committed.
package stream
