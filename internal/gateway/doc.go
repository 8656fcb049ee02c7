// Package gateway is the hub's MQTT device gateway: MQTT 3.1.1 over TLS
// and over WebSockets, speaking Azure IoT Hub's fixed per-device dialect
// so that devices built on the official Azure IoT SDKs connect unchanged.
//
// It is not a general broker. There is no routing between devices: every
// $iothub/ topic and every devices/{id}/ topic reaches only the
// connection of its own device, QoS 2 is refused and retain is passed on
// as a property. Packets are encoded and decoded with the packets package
// of mochi-mqtt; the session loop is our own.
//
// # Connections
//
// Each connection has one goroutine, blocked in Read while the device is
// idle; no buffers are allocated up front. A packet's buffer comes from a
// pool while the packet is handled. Outbound packets are queued and
// written by a short-lived writer goroutine that exists only while there
// is something to write, so a slow device never blocks the hub.
//
// Every close has an exact cause ([tether.Reason]): a client DISCONNECT,
// EOF, reset, keep-alive timeout (1.5 × the client's keep-alive, capped
// at 1767 s), token expiry, takeover by a newer connection, a protocol
// error, throttling or shutdown. The gateway reports each attempt,
// connect and disconnect as a [tether.ConnectionEvent]; it never formats
// log rows itself.
//
// # Dependencies
//
// The gateway declares the small interfaces it needs (Registry, Twins,
// Telemetry, C2D, Presence) and imports no other component; the server
// package connects them. All methods are safe for concurrent use.
package gateway
