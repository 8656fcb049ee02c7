// Package diag is the hub's diagnostics recorder. The gateway and the API
// report what happens (a [tether.ConnectionEvent] for every connection
// attempt, connect and disconnect; an operation for registry, twin,
// method and C2D calls) and the recorder turns each into diagnostic log
// records in Azure IoT Hub's resource-log schema (category, operation
// name, level, result type and description, and properties_s), adding
// what Azure lacks: the canonical reason, the connection id and duration,
// keep-alive, TLS details, traffic counters and the token's expiry.
//
// Nothing else formats log rows. Records are queued without blocking the
// caller and written in batches by [Recorder.Run], at least once a second.
//
// The package imports only the root package and the standard library; it
// declares the Sink it writes to.
package diag
