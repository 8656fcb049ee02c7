// Package check is the device-side connectivity test behind tether
// check: from the device's point of view it resolves the hub's name,
// opens TCP, verifies TLS (chain, trust, host name, expiry, version),
// sends an MQTT CONNECT and explains the CONNACK through the error
// catalog, compares the clocks, makes a QoS 1 telemetry round trip, reads
// the twin, calls a direct method back to itself and pings.
//
// [Run] returns a [Report] of [Step]s, each with a status, its time, what
// was seen and the fix; the CLI only presents it. Steps that cannot run
// because an earlier one failed are skipped, not failed. Time is injected
// through Options.Now, so the clock-skew logic is tested with a skewed
// clock.
//
// check speaks MQTT itself (with the mochi-mqtt packet codec) rather than
// through the device SDK, so that it can show each packet's outcome and
// time; it shares the SDK's CONNACK mapping ([device.ConnackResult]).
package check
