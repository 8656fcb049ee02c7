// Package e2e holds end-to-end tests of the hub's connection diagnostics.
// Each test provokes a cause of a connection's end or refusal for real —
// a silent TLS client, plain MQTT on the TLS port, a SIGKILLed device
// process, a missed keep-alive, a duplicate identity, an expired token, a
// disabled, deleted or unknown device, an oversized or throttled message,
// a forbidden publish or subscribe, a hub shutdown — against a complete
// hub (internal/hubtest, or the tether binary), and asserts the exact
// AzureDiagnostics row or rows it leaves in logs.db, the Prometheus
// counters and the device's lastDisconnect in the registry.
//
// The crash test builds the tether binary, runs tether serve on free
// loopback ports, kill -9s it in the middle of a connect storm and checks
// that what was flushed before the kill survived the restart.
//
// The package has no non-test code; its tests use only 127.0.0.0/8.
package e2e
