package stream

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/tether-iot/tether"
)

// benchMessage is a telemetry message of 100 bytes with three
// application properties.
func benchMessage(i int) tether.Message {
	body := make([]byte, 100)
	for j := range body {
		body[j] = byte('a' + j%26)
	}
	return tether.Message{
		DeviceID:   fmt.Sprintf("device-%03d", i%100),
		Properties: map[string]string{"temperatureAlert": "false", "unit": "celsius", "n": fmt.Sprint(i)},
		Body:       body,
	}
}

// BenchmarkStreamAppend has 64 goroutines append at once, each waiting
// for its message to be durable before sending the next, as 64 devices
// publishing QoS 1 one message at a time would.
func BenchmarkStreamAppend(b *testing.B) {
	const appenders = 64
	ctx := context.Background()
	st := mustStore(b)
	s := mustNew(b, st, Options{})
	mustRun(b, s)
	var n sync.Mutex
	next := 0
	b.SetParallelism((appenders + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n.Lock()
		m := benchMessage(next)
		next++
		n.Unlock()
		for pb.Next() {
			if _, err := s.Append(ctx, m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(st.messages.Load())/float64(max(st.appends.Load(), 1)), "msgs/batch")
}

// BenchmarkStreamSubmit has 64 goroutines submit with up to 16 messages
// each in flight, as 64 devices pipelining QoS 1 publishes through the
// gateway would.
func BenchmarkStreamSubmit(b *testing.B) {
	const submitters, inflight = 64, 16
	st := mustStore(b)
	s := mustNew(b, st, Options{})
	mustRun(b, s)
	var n sync.Mutex
	next := 0
	b.SetParallelism((submitters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n.Lock()
		m := benchMessage(next)
		next++
		n.Unlock()
		window := make(chan struct{}, inflight)
		done := func(_ int64, err error) {
			if err != nil {
				b.Error(err)
			}
			<-window
		}
		for pb.Next() {
			window <- struct{}{}
			s.Submit(m, done)
		}
		for range inflight {
			window <- struct{}{}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(st.messages.Load())/float64(max(st.appends.Load(), 1)), "msgs/batch")
}
