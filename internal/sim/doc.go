// Package sim is the fleet simulator behind tether simulate: N devices,
// each a [device.Client] of the Go device SDK (so they reconnect, back off
// and renew tokens exactly as the SDK does), sending telemetry at an
// interval, with faults injected into chosen devices: abrupt drops,
// keep-alive silence, flapping, duplicate identities, wrong keys, expired
// tokens, clock skew, disabled devices and back-off without jitter.
//
// [New] checks the [Options]; [Sim.Run] runs the fleet for a bounded time
// and returns a [Report]. Everything is bounded: the device count, the
// run time, and the hub must be on this machine (loopback).
//
// A device costs one goroutine of its own (the client's Run loop) plus
// the MQTT client's; telemetry and fault triggers are timers, not
// goroutines. The registry is reached through the small [Registry]
// interface, which internal/server or the CLI implements.
//
// sim imports the device SDK, the root package and the standard library;
// it must not import other internal components.
package sim
