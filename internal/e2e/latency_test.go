package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/wire"
)

// BenchmarkDisconnectLatency measures how long after a device's FIN its
// deviceDisconnect record is in the log store and the registry shows it
// Disconnected. It reports p50 and p99 over 100 disconnects.
//
//	go test -run '^$' -bench DisconnectLatency -benchtime 1x ./internal/e2e
func BenchmarkDisconnectLatency(b *testing.B) {
	h := hubtest.Start(b)
	pool := caPool(b, filepath.Join(h.Config.DataDir, "tls", "ca.pem"))
	svc := h.Client(b, h.Owner)
	ctx := context.Background()
	const n = 100
	key := tether.Secret("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	var logLat, regLat []time.Duration
	for range b.N {
		for i := range n {
			id := fmt.Sprintf("lat-%d-%d", len(logLat), i)
			k := key.Reveal()
			if _, err := svc.CreateDevice(ctx, wire.Device{DeviceID: id, Authentication: &wire.Authentication{SymmetricKey: &wire.SymmetricKey{PrimaryKey: &k, SecondaryKey: &k}}}); err != nil {
				b.Fatal(err)
			}
			c := dialTLS(b, h.Server.MQTTAddr().String(), pool)
			c.mustConnect("localhost", id, signToken(b, "localhost", id, key, time.Now().Add(time.Hour)), true, 60)
			start := time.Now()
			c.close() // FIN, no DISCONNECT
			var gotLog, gotReg bool
			for !gotLog || !gotReg {
				if time.Since(start) > 5*time.Second {
					b.Fatalf("%s: record %v, registry %v after 5s", id, gotLog, gotReg)
				}
				if !gotLog {
					var cnt int
					h.Server.LogsDB().QueryRow(`SELECT count(*) FROM AzureDiagnostics WHERE _DeviceId = ? AND OperationName = 'deviceDisconnect'`, id).Scan(&cnt)
					if cnt > 0 {
						gotLog = true
						logLat = append(logLat, time.Since(start))
					}
				}
				if !gotReg {
					if d, err := svc.Device(ctx, id); err == nil && d.ConnectionState == "Disconnected" && d.LastDisconnect != nil {
						gotReg = true
						regLat = append(regLat, time.Since(start))
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
	}
	q := func(ds []time.Duration, p float64) float64 {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(logLat, 0.5), "record-p50-ms")
	b.ReportMetric(q(logLat, 0.99), "record-p99-ms")
	b.ReportMetric(q(regLat, 0.5), "registry-p50-ms")
	b.ReportMetric(q(regLat, 0.99), "registry-p99-ms")
}
