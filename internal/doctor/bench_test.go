package doctor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/doctor"
)

// BenchmarkDiagnoseHub diagnoses a day of a 1000-device fleet: 100,000
// connection-log rows (50 connections per device, a mix of renewals,
// drops and takeovers) read from a real store.
func BenchmarkDiagnoseHub(b *testing.B) {
	h := newHistory(b)
	reasons := []tether.Reason{tether.ReasonClientDisconnect, tether.ReasonConnectionLost, tether.ReasonKeepAliveTimeout, tether.ReasonSessionTakenOver}
	for i := range 1000 {
		id := fmt.Sprintf("dev-%04d", i)
		h.device(id, tether.StatusEnabled)
		at := t0.Add(time.Duration(i) * time.Second)
		for j := range 50 {
			d := 25*time.Minute + time.Duration((i*7+j*13)%300)*time.Second
			h.session(session{dev: id, at: at, d: d, reason: reasons[(i+j)%len(reasons)]})
			at = at.Add(d + time.Duration(1+(i+j)%20)*time.Second)
		}
	}
	ctx := context.Background()
	if err := h.st.WriteLogs(ctx, h.recs); err != nil {
		b.Fatal(err)
	}
	rows := len(h.recs)
	d, err := doctor.New(doctor.Options{Logs: storeLogs{h.st}, Registry: storeRegistry{h.st}, Metrics: storeMetrics{h.st}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		out, err := d.Diagnose(ctx, doctor.Query{Now: now})
		if err != nil || out.Rows != rows {
			b.Fatalf("Diagnose: %d rows (want %d), %v", out.Rows, rows, err)
		}
	}
	b.ReportMetric(float64(rows), "rows")
}
