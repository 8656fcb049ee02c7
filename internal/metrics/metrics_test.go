package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

type memSink struct {
	mu sync.Mutex
	ss []Sample
}

func (s *memSink) WriteSamples(_ context.Context, ss []Sample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ss = append(s.ss, ss...)
	return nil
}

func newTestMetrics(t *testing.T, connected *int) (*Metrics, *memSink) {
	t.Helper()
	sink := &memSink{}
	m, err := New(Options{Connected: func() int { return *connected }, TotalDevices: func(context.Context) (int, error) { return 7, nil },
		LogQueue: func() int { return 3 }, LogDropped: func() int64 { return 0 }, Sink: sink,
		Exports: func() []ExportStats { return []ExportStats{{"file", 10, 0, 0}, {"http", 4, 2, 6}} }})
	if err != nil {
		t.Fatal(err)
	}
	return m, sink
}

func TestPrometheusExposition(t *testing.T) {
	n := 2
	m, _ := newTestMetrics(t, &n)
	now := time.Now()
	m.Connection(tether.ConnectionEvent{Kind: tether.EventConnect, Accepted: now, ConnectedAt: now.Add(20 * time.Millisecond)})
	m.Connection(tether.ConnectionEvent{Kind: tether.EventConnectFailed, Code: tether.IoTHubUnauthorized})
	m.Connection(tether.ConnectionEvent{Kind: tether.EventDisconnect, Reason: tether.ReasonKeepAliveTimeout})
	m.Telemetry(true, false, 100)
	m.Telemetry(false, true, 100)
	m.DeviceTwin("update", true, 10)
	m.Method(false)
	m.C2DCompleted()
	m.C2DExpired(2)
	m.ServiceTwin("read", true)
	m.ServiceTwin("update", false)
	m.observe(context.Background())
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"tether_connected_devices 2", "tether_registered_devices 7",
		`tether_connection_attempts_total{result="0"} 1`, `tether_connection_attempts_total{result="401003"} 1`,
		`tether_disconnects_total{reason="keepalive_timeout",result="404104"} 1`,
		"tether_d2c_telemetry_ingress_attempts_total 2", "tether_d2c_telemetry_ingress_success_total 1",
		"tether_d2c_telemetry_ingress_throttled_total 1", "tether_device_data_bytes_total 100",
		"tether_d2c_twin_update_success_total 1", "tether_c2d_methods_failure_total 1", "tether_c2d_commands_completed_total 1",
		"tether_c2d_messages_expired_total 2", "tether_c2d_twin_read_success_total 1", "tether_c2d_twin_update_failure_total 1",
		`tether_diag_export_records_total{destination="file"} 10`, `tether_diag_export_failures_total{destination="http"} 2`,
		`tether_diag_export_dropped_total{destination="http"} 6`,
		"tether_connect_seconds_bucket", "tether_diag_log_queue 3", "tether_diag_log_dropped_total 0", "go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestSamplesPerGrain(t *testing.T) {
	n := 4
	m, sink := newTestMetrics(t, &n)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	m.grainBeg = t0
	m.observe(context.Background())
	n = 2
	m.observe(context.Background())
	m.Telemetry(true, false, 50)
	m.Telemetry(true, false, 50)
	m.close(context.Background(), t0.Add(time.Minute))
	got := map[string]Sample{}
	for _, s := range sink.ss {
		got[s.Name] = s
	}
	if c := got["connectedDeviceCount"]; c.Min != 2 || c.Max != 4 || c.Mean != 3 || c.Count != 2 || !c.Time.Equal(t0) || c.Grain != time.Minute {
		t.Errorf("connectedDeviceCount sample = %+v", c)
	}
	if s := got["d2c.telemetry.ingress.success"]; s.Total != 2 {
		t.Errorf("ingress.success total = %v, want 2", s.Total)
	}
	if s := got["deviceDataUsage"]; s.Total != 100 || s.Unit != "Bytes" {
		t.Errorf("deviceDataUsage = %+v", s)
	}
	// The next grain counts only what came after.
	m.Telemetry(true, false, 1)
	for _, s := range m.Samples() {
		if s.Name == "d2c.telemetry.ingress.success" && s.Total != 1 {
			t.Errorf("next grain ingress.success = %v, want 1", s.Total)
		}
	}
}

func TestGrainLimit(t *testing.T) {
	n := 0
	if _, err := New(Options{Connected: func() int { return n }, TotalDevices: func(context.Context) (int, error) { return 0, nil }, Grain: time.Second}); err == nil {
		t.Error("a 1s grain was accepted")
	}
}

func TestAdmissionMetrics(t *testing.T) {
	m, err := New(Options{Connected: func() int { return 0 }, TotalDevices: func(context.Context) (int, error) { return 0, nil }})
	if err != nil {
		t.Fatal(err)
	}
	m.AddAdmission(func() AdmissionStats {
		return AdmissionStats{RefusedRate: 7, RefusedHandshakes: 2, RefusedBanned: 1, BansImposed: 3, BansActive: 1, Handshakes: 4}
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`tether_connects_refused_total{cause="rate"} 7`, `tether_connects_refused_total{cause="handshakes"} 2`,
		`tether_connects_refused_total{cause="banned"} 1`, "tether_auth_bans_total 3", "tether_auth_bans_active 1",
		"tether_tls_handshakes_in_progress 4"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
