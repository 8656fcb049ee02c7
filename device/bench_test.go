package device_test

import (
	"context"
	"testing"

	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubtest"
)

// BenchmarkSendEvent measures one QoS 1 telemetry message, PUBACK
// included, over TLS to a hub on this machine.
func BenchmarkSendEvent(b *testing.B) {
	h := hubtest.Start(b)
	c := mustOpen(b, mustDevice(b, h, "bench"))
	m := device.Message{Payload: []byte(`{"temperature":21.5}`), ContentType: "application/json"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.SendEvent(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnect measures a whole connection: TCP, TLS, CONNECT with a
// freshly signed token, CONNACK, and a clean DISCONNECT.
func BenchmarkConnect(b *testing.B) {
	h := hubtest.Start(b)
	o := mustDevice(b, h, "bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := device.New(o)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Open(ctx); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
