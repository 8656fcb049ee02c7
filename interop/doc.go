// Package interop holds the tests that drive the official Azure IoT
// Node.js SDKs (pinned in package.json) against a real tether serve
// process. The SDKs dial fixed ports (443 for HTTPS and WebSockets, 8883
// for MQTT), so every test that needs those ports lives here and runs
// serially; nothing else in the repository binds them.
//
// The tests need node and the packages installed by "npm ci" in this
// folder (make test does both), mosquitto-clients (mosquitto_pub and
// mosquitto_sub) and coreutils' stdbuf. Where TETHER_REQUIRE_INTEROP is set, as
// in CI, a missing node or node_modules fails the tests; elsewhere they
// are skipped with a message saying how to run them.
package interop
