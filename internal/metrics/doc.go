// Package metrics counts what the hub does and exposes it two ways: as
// Prometheus metrics on /metrics, and as samples at a fixed grain (one
// minute by default) in Azure's AzureMetrics shape, which charts and
// metric alerts read.
//
// Metric names follow Azure IoT Hub's (connectedDeviceCount,
// d2c.telemetry.ingress.success, …); on /metrics they are written in
// Prometheus style with a tether_ prefix, dots as underscores and _total
// on counters. [Names] lists both.
//
// Metrics owns its Prometheus registry: no global state. It imports the
// root package, the standard library and the Prometheus client.
package metrics
