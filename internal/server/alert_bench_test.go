package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

// BenchmarkAlertLatency measures the time from 10 of 20 devices dropping
// (their TLS connections closed) to the rule "min connectedDeviceCount <
// 15, every 10 s" reaching a local webhook, with the default presence
// grace (10 s) and a short one (2 s). Each iteration waits a random
// part of the evaluation cycle, drops the devices, waits for the firing
// notification, reconnects them and waits for the resolution. It reports
// the mean and the worst time to the webhook. Run it with
//
//	flock /tmp/tether-bench.lock go test -run '^$' -bench AlertLatency -benchtime 5x ./internal/server
func BenchmarkAlertLatency(b *testing.B) {
	for _, grace := range []time.Duration{10 * time.Second, 2 * time.Second} {
		b.Run(fmt.Sprintf("grace=%v", grace), func(b *testing.B) {
			h := hubtest.Start(b, func(c *server.Config) { c.PresenceGrace = grace })
			c := h.Client(b, h.Owner)
			hook := startWebhook(b)
			mustActionGroup(b, c, hook)
			f := connectFleet(b, h, c, 20)
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			go f.ping(ctx)
			if _, _, err := c.PutAlertRule(context.Background(), wire.AlertRule{Name: "devices-low", Metric: "connectedDeviceCount",
				Aggregation: "min", Operator: "lt", Threshold: ptrf(15), Window: "10s", Frequency: "10s", ActionGroups: []string{"ops"}}); err != nil {
				b.Fatal(err)
			}
			waitEvaluated(b, c, "devices-low", 15*time.Second)
			var total, worst time.Duration
			b.ResetTimer()
			for range b.N {
				// Drop at a random phase of the 10 s evaluation cycle.
				time.Sleep(time.Duration(rand.Int64N(int64(10 * time.Second))))
				dropped := time.Now()
				f.mu.Lock()
				for _, d := range f.devs[:10] {
					d.nc.Close()
				}
				f.mu.Unlock()
				a := hook.next(b, grace+25*time.Second)
				if a.Data.Essentials.MonitorCondition != "Fired" {
					b.Fatalf("first notification after the drop: %s", a.Data.Essentials.MonitorCondition)
				}
				lat := a.received.Sub(dropped)
				total += lat
				worst = max(worst, lat)
				for i := range 10 {
					f.redial(b, h, i)
				}
				a, ok := hook.wait(40 * time.Second)
				if !ok {
					r, _ := c.AlertRule(context.Background(), "devices-low")
					hist, _ := c.AlertHistory(context.Background(), "devices-low", 5)
					att, _ := c.NotificationHistory(context.Background(), "ops", 5)
					b.Fatalf("no resolution within 40s of the reconnect: rule %s (value %v, error %q), %d connected; history %+v; deliveries %+v",
						r.State, deref(r.LastValue), r.LastError, h.Connected(), hist, att)
				}
				if a.Data.Essentials.MonitorCondition != "Resolved" {
					b.Fatalf("notification after the reconnect: %s", a.Data.Essentials.MonitorCondition)
				}
			}
			b.StopTimer()
			b.ReportMetric((total / time.Duration(b.N)).Seconds(), "s-to-webhook")
			b.ReportMetric(worst.Seconds(), "s-to-webhook-max")
			b.ReportMetric(0, "ns/op")
		})
	}
}
