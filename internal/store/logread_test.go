package store

import (
	"context"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestConnectionLogs(t *testing.T) {
	s := openLogsStore(t, Options{})
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var recs []tether.LogRecord
	for i := range 6 {
		dev := "a"
		if i%2 == 1 {
			dev = "b"
		}
		recs = append(recs, tether.LogRecord{Time: t0.Add(time.Duration(i) * time.Minute), Category: tether.CategoryConnections,
			OperationName: "deviceConnect", DeviceID: dev, Reason: tether.ReasonNone, Properties: `{"i":` + string(rune('0'+i)) + `}`})
	}
	recs = append(recs, tether.LogRecord{Time: t0.Add(time.Minute), Category: tether.CategoryDirectMethods, DeviceID: "a"})
	mustWriteLogs(t, s, recs)
	ctx := context.Background()
	got, trunc, err := s.ConnectionLogs(ctx, LogFilter{Since: t0})
	if err != nil || trunc || len(got) != 6 {
		t.Fatalf("ConnectionLogs(all) = %d rows, %v, %v; want 6 Connections rows", len(got), trunc, err)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.Before(got[i-1].Time) {
			t.Errorf("rows not oldest first: %v before %v", got[i-1].Time, got[i].Time)
		}
	}
	got, _, _ = s.ConnectionLogs(ctx, LogFilter{DeviceID: "a", Since: t0.Add(time.Minute), Until: t0.Add(4 * time.Minute)})
	if len(got) != 1 || got[0].DeviceID != "a" || !got[0].Time.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("ConnectionLogs(a, [1m, 5m)) = %+v; want only the row at 2m (4m is excluded)", got)
	}
	got, trunc, _ = s.ConnectionLogs(ctx, LogFilter{Since: t0, Limit: 2})
	if !trunc || len(got) != 2 || !got[1].Time.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("ConnectionLogs(limit 2) = %d rows, truncated %v; want the newest two and truncated", len(got), trunc)
	}
	if err := s.WriteMetrics(ctx, []MetricSample{{Time: t0, Name: "connectedDeviceCount", Total: 3, Count: 1, Min: 3, Max: 3, Average: 3, TimeGrain: "PT1M"}}); err != nil {
		t.Fatal(err)
	}
	ms, err := s.MetricSamples(ctx, "connectedDeviceCount", t0, t0.Add(time.Hour))
	if err != nil || len(ms) != 1 || ms[0].Max != 3 || !ms[0].Time.Equal(t0) {
		t.Errorf("MetricSamples = %+v, %v", ms, err)
	}
}
