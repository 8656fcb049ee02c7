// Package doctor finds patterns in a hub's connection history and names
// their cause, their evidence and their fix: `tether diagnose` and
// GET /v1/diagnose.
//
// A [Doctor] reads the Connections rows of the diagnostic log (with
// Tether's _DeviceId and _Reason columns and the properties recorded by
// internal/diag), the metric samples and the registry, through the small
// interfaces [Logs], [Registry] and [Metrics] that internal/server
// satisfies from the store. [Doctor.Diagnose] runs every detector and
// returns a [wire.Diagnosis]: findings with a severity (info, warning,
// error, critical), the exact log rows behind them, the probable cause,
// the fix, and the catalog entry to read.
//
// Detectors are pure functions of the rows, the registry and the time
// "now" that the caller passes in; none reads the clock. Each is in its
// own file: token.go (token expiry and renewal), keepalive.go, takeover.go,
// flapping.go (reconnect loops, back-off without jitter), auth.go
// (failures after success, retired devices), fleet.go (fleet-wide drops,
// connect storms, throttling) and registry.go (never connected, silent).
// Their thresholds are in [Thresholds] and documented in docs/diagnose.md.
//
// The package imports the root package, internal/wire (for the report's
// JSON shape) and the standard library only. A Doctor is safe for
// concurrent use: it holds no state between calls.
package doctor
