package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

// benchMessages returns n telemetry messages of 100 bytes with three
// application properties, from 100 devices.
func benchMessages(n int) []tether.Message {
	body := make([]byte, 100)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	now := time.Now()
	msgs := make([]tether.Message, n)
	for i := range msgs {
		msgs[i] = tether.Message{
			DeviceID:     fmt.Sprintf("device-%03d", i%100),
			EnqueuedTime: now,
			Properties:   map[string]string{"temperatureAlert": "false", "unit": "celsius", "seq": fmt.Sprint(i)},
			Body:         body,
		}
	}
	return msgs
}

func BenchmarkAppendTelemetry(b *testing.B) {
	const batch = 256
	ctx := context.Background()
	s := mustOpen(b)
	msgs := benchMessages(batch)
	b.SetBytes(batch * 100)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.AppendTelemetry(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
}
