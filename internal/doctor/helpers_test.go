package doctor_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/doctor"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// The detector tests seed a real store (SQLite files in a temporary
// folder) with the rows internal/diag builds from connection events, as
// the running hub does, then diagnose through the store's API. The
// adapters below are the ones internal/server uses, in miniature.

type storeLogs struct{ st *store.Store }

func (l storeLogs) ConnectionLogs(ctx context.Context, dev string, since, until time.Time, limit int) ([]tether.LogRecord, bool, error) {
	return l.st.ConnectionLogs(ctx, store.LogFilter{DeviceID: dev, Since: since, Until: until, Limit: limit})
}

type storeRegistry struct{ st *store.Store }

func (r storeRegistry) Devices(ctx context.Context) ([]tether.Device, error) {
	return r.st.Devices(ctx, 0)
}

type storeMetrics struct{ st *store.Store }

func (m storeMetrics) MetricSamples(ctx context.Context, name string, since, until time.Time) ([]doctor.Sample, error) {
	ss, err := m.st.MetricSamples(ctx, name, since, until)
	out := make([]doctor.Sample, len(ss))
	for i, s := range ss {
		out[i] = doctor.Sample{Time: s.Time, Total: s.Total, Min: s.Min, Max: s.Max, Average: s.Average}
	}
	return out, err
}

// t0 is the start of every seeded history; now is a day later.
var (
	t0  = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	now = t0.Add(24 * time.Hour)
)

// history builds a device fleet's connection history.
type history struct {
	t    testing.TB
	st   *store.Store
	recs []tether.LogRecord
	conn int
}

func newHistory(t testing.TB) *history {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &history{t: t, st: st}
}

// device registers id, enabled unless status says otherwise.
func (h *history) device(id string, status tether.Status) {
	h.t.Helper()
	d := tether.Device{ID: id, Status: status, ConnectionState: tether.Disconnected, Auth: tether.Authentication{Type: tether.AuthSAS,
		PrimaryKey: "cHJpbWFyeS1rZXktMDEyMzQ1Njc4OWFiY2RlZg==", SecondaryKey: "c2Vjb25kYXJ5LWtleS0wMTIzNDU2Nzg5YWJjZGVm"}}
	if _, err := h.st.CreateDevice(context.Background(), d); err != nil {
		h.t.Fatal(err)
	}
}

// presence sets id's connection state and last activity.
func (h *history) presence(id string, state tether.ConnectionState, lastActivity time.Time) {
	h.t.Helper()
	if err := h.st.SetPresence(context.Background(), []store.Presence{{DeviceID: id, State: state, StateChanged: lastActivity, LastActivity: lastActivity}}); err != nil {
		h.t.Fatal(err)
	}
}

// session is one connection: a connect at `at` from ip, and its end
// after d with reason (none for a clean DISCONNECT).
type session struct {
	dev, ip   string
	at        time.Time
	d         time.Duration
	reason    tether.Reason
	keepAlive time.Duration
	idle      time.Duration // how long before the end the last packet came
}

func (h *history) session(s session) {
	h.conn++
	if s.ip == "" {
		s.ip = "10.0.0.5"
	}
	if s.keepAlive == 0 {
		s.keepAlive = 4 * time.Minute
	}
	if s.reason == "" {
		s.reason = tether.ReasonClientDisconnect
	}
	ev := tether.ConnectionEvent{Kind: tether.EventConnect, Time: s.at, ConnectionID: fmt.Sprintf("c%d", h.conn), DeviceID: s.dev,
		Protocol: tether.ProtocolMQTT, RemoteAddr: s.ip + ":40000", AuthScope: "device", KeepAlive: s.keepAlive, ConnectedAt: s.at,
		TokenExpiry: s.at.Add(time.Hour)}
	h.recs = append(h.recs, diag.ConnectionRecords(ev)...)
	if s.d <= 0 {
		return // still connected
	}
	ev.Kind, ev.Time, ev.Reason, ev.Code = tether.EventDisconnect, s.at.Add(s.d), s.reason, s.reason.Code()
	ev.LastActivity = ev.Time.Add(-s.idle)
	ev.Detail = "seeded " + string(s.reason)
	if s.reason == tether.ReasonClientDisconnect {
		ev.Detail = "the device sent DISCONNECT"
	}
	h.recs = append(h.recs, diag.ConnectionRecords(ev)...)
}

// fail records a refused attempt.
func (h *history) fail(dev string, at time.Time, reason tether.Reason, detail string, tokenExpiry time.Time) {
	h.conn++
	ev := tether.ConnectionEvent{Kind: tether.EventConnectFailed, Time: at, ConnectionID: fmt.Sprintf("c%d", h.conn), DeviceID: dev,
		Protocol: tether.ProtocolMQTT, RemoteAddr: "10.0.0.5:40000", Reason: reason, Code: reason.Code(), Detail: detail, TokenExpiry: tokenExpiry}
	h.recs = append(h.recs, diag.ConnectionRecords(ev)...)
}

// diagnose writes the history to the store and diagnoses dev ("" for
// the hub) over the last 24 hours.
func (h *history) diagnose(dev string) wire.Diagnosis {
	h.t.Helper()
	ctx := context.Background()
	if err := h.st.WriteLogs(ctx, h.recs); err != nil {
		h.t.Fatal(err)
	}
	h.recs = nil
	d, err := doctor.New(doctor.Options{Logs: storeLogs{h.st}, Registry: storeRegistry{h.st}, Metrics: storeMetrics{h.st}})
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := d.Diagnose(ctx, doctor.Query{DeviceID: dev, Now: now})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// findings returns the findings of detector.
func findings(d wire.Diagnosis, detector string) []wire.Finding {
	var out []wire.Finding
	for _, f := range d.Findings {
		if f.Detector == detector {
			out = append(out, f)
		}
	}
	return out
}

// mustFind returns the one finding of detector, checking its severity
// and that its title contains each of words.
func mustFind(t *testing.T, d wire.Diagnosis, detector, severity string, words ...string) wire.Finding {
	t.Helper()
	fs := findings(d, detector)
	if len(fs) != 1 {
		t.Fatalf("%d %s findings, want 1; all findings:\n%s", len(fs), detector, dump(d))
	}
	f := fs[0]
	if f.Severity != severity {
		t.Errorf("%s severity %s, want %s: %s", detector, f.Severity, severity, f.Title)
	}
	for _, w := range words {
		if !strings.Contains(f.Title+" "+f.Cause, w) {
			t.Errorf("%s finding lacks %q:\n%s\n%s", detector, w, f.Title, f.Cause)
		}
	}
	if len(f.Evidence) == 0 && detector != "never-connected" {
		t.Errorf("%s finding has no evidence", detector)
	}
	if len(f.Fix) == 0 || f.Cause == "" {
		t.Errorf("%s finding has no cause or fix", detector)
	}
	return f
}

func mustNotFind(t *testing.T, d wire.Diagnosis, detector string) {
	t.Helper()
	if fs := findings(d, detector); len(fs) != 0 {
		t.Errorf("%d %s findings, want none:\n%s", len(fs), detector, dump(d))
	}
}

func dump(d wire.Diagnosis) string {
	var b strings.Builder
	for _, f := range d.Findings {
		fmt.Fprintf(&b, "  [%s] %s: %s\n", f.Severity, f.Detector, f.Title)
	}
	return b.String()
}
