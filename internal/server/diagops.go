package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/gateway"
	"github.com/tether-iot/tether/internal/metrics"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// This file connects the gateway's and the API's reports of operations to
// the diagnostics log and the metrics, and keeps the diagnostic settings.
// The records themselves are built by package diag.

// observer is the gateway's Observer. It is the metrics (embedded, so that
// it also serves /metrics) and records what devices do: D2CTwinOperations,
// C2DCommands (complete) and DeviceTelemetry (errors only).
type observer struct {
	*metrics.Metrics
	rec *diag.Recorder
	c2d *c2dFacts
}

var _ gateway.Observer = (*observer)(nil)

func deviceCall(op gateway.DeviceOp) diag.Call {
	return diag.Call{Time: op.Time, Duration: op.Duration, DeviceID: op.DeviceID, RemoteAddr: op.RemoteAddr,
		SDKVersion: op.SDKVersion, Code: op.Code}
}

func (o *observer) Telemetry(op gateway.DeviceOp) {
	o.Metrics.Telemetry(op.Code == 0, op.Code == tether.ThrottlingException, op.Bytes)
	if op.Code != 0 {
		o.rec.Record(diag.TelemetryError(diag.Telemetry{Call: deviceCall(op), ModuleID: op.ModuleID, Protocol: op.Protocol, Size: int64(op.Bytes)}))
	}
}

func (o *observer) DeviceTwin(kind string, op gateway.DeviceOp) {
	o.Metrics.DeviceTwin(kind, op.Code == 0, op.Bytes)
	o.rec.Record(diag.DeviceTwinOperation(kind, diag.DeviceTwin{Call: deviceCall(op), ModuleID: op.ModuleID,
		Protocol: op.Protocol, AuthScope: op.AuthScope, MessageSize: int64(op.Bytes)}))
}

func (o *observer) C2DDelivered(op gateway.DeviceOp, m tether.C2DMessage) {
	f := c2dMessage(m)
	f.Protocol = op.Protocol
	o.c2d.put(m.DeviceID, m.Seq, f)
}

func (o *observer) C2DCompleted(op gateway.DeviceOp, seq int64) {
	o.Metrics.C2DCompleted()
	f, ok := o.c2d.take(op.DeviceID, seq)
	if !ok {
		f = diag.C2DMessage{Protocol: op.Protocol}
	}
	c := deviceCall(op)
	c.Duration = -1
	o.rec.Record(diag.C2DOperation(diag.OpComplete, c, f))
}

func c2dMessage(m tether.C2DMessage) diag.C2DMessage {
	return diag.C2DMessage{MessageID: m.MessageID, Size: int64(len(m.Body)), Ack: m.Ack, DeliveryCount: m.DeliveryCount,
		Enqueued: m.EnqueuedTime, Expiry: m.ExpiryTime}
}

// c2dFacts remembers the messages delivered and not yet completed, so
// that a completion (the gateway knows only its seq) is logged with the
// message's ID, size and delivery count. It forgets expired messages and
// holds at most maxC2DFacts.
type c2dFacts struct {
	mu sync.Mutex
	m  map[c2dKey]diag.C2DMessage
}

type c2dKey struct {
	device string
	seq    int64
}

const maxC2DFacts = 100_000

func newC2DFacts() *c2dFacts { return &c2dFacts{m: map[c2dKey]diag.C2DMessage{}} }

func (c *c2dFacts) put(device string, seq int64, f diag.C2DMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[c2dKey{device, seq}]; ok || len(c.m) < maxC2DFacts {
		c.m[c2dKey{device, seq}] = f
	}
}

func (c *c2dFacts) take(device string, seq int64) (diag.C2DMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[c2dKey{device, seq}]
	delete(c.m, c2dKey{device, seq})
	return f, ok
}

// sweep forgets the messages expired at now.
func (c *c2dFacts) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, f := range c.m {
		if !f.Expiry.IsZero() && !f.Expiry.After(now) {
			delete(c.m, k)
		}
	}
}

// operations is the API's Operations: DeviceIdentityOperations,
// C2DTwinOperations, DirectMethods and C2DCommands (send) records, and
// the service-side metrics.
type operations struct {
	rec *diag.Recorder
	m   *metrics.Metrics
}

func serviceCall(c api.Call) diag.Call {
	dc := diag.Call{Time: c.Time, Duration: c.Duration, DeviceID: c.DeviceID, RemoteAddr: c.RemoteAddr,
		SDKVersion: c.UserAgent, Status: c.Status}
	if c.Err != nil {
		dc.Code = tether.ErrorCode(c.Err)
	}
	return dc
}

func (o operations) Registry(op string, c api.Call) {
	o.rec.Record(diag.IdentityOperation(op, serviceCall(c)))
}

func (o operations) Twin(op string, c api.Call) {
	size := c.RequestBytes
	if op == diag.OpRead {
		size = c.ResponseBytes
	}
	o.rec.Record(diag.TwinOperation(op, serviceCall(c), size))
	kind := diag.OpUpdate
	if op == diag.OpRead {
		kind = diag.OpRead
	}
	o.m.ServiceTwin(kind, c.Err == nil)
}

func (o operations) Method(c api.Call, m api.MethodInfo) {
	o.rec.Record(diag.MethodOperation(diag.Method{Call: serviceCall(c), MethodName: m.MethodName,
		RequestSize: int64(m.RequestSize), ResponseSize: int64(m.ResponseSize), DeviceStatus: m.DeviceStatus}))
	if m.MethodName != "" { // a call that got past its validation
		o.m.Method(c.Err == nil)
	}
}

func (o operations) C2DSent(c api.Call, m tether.C2DMessage) {
	o.rec.Record(diag.C2DOperation(diag.OpSend, serviceCall(c), c2dMessage(m)))
}

// apiOptions adds the diagnostics' parts to the API's options: the
// operations it reports, and the diagnostic settings routes.
func (d *diagnostics) apiOptions(o *api.Options) *api.Options {
	o.Operations = operations{rec: d.rec, m: d.metrics.Metrics}
	o.Diagnostics = hubSettings{d}
	return o
}

// expireC2D removes the cloud-to-device messages expired at now, logging
// each (C2DCommands messageExpired) and counting them (C2DMessagesExpired).
func (d *diagnostics) expireC2D(ctx context.Context, now time.Time) (int, error) {
	ms, err := d.st.ExpireC2DMessages(ctx, now)
	if err != nil {
		return 0, err
	}
	for _, m := range ms {
		f, ok := d.c2d.take(m.DeviceID, m.Seq)
		if !ok {
			f = c2dMessage(m)
		}
		d.rec.Record(diag.C2DOperation(diag.OpExpired, diag.Call{Time: now, DeviceID: m.DeviceID, Duration: -1}, f))
	}
	d.metrics.C2DExpired(len(ms))
	return len(ms), nil
}

func (d *diagnostics) exportStats() []metrics.ExportStats {
	var out []metrics.ExportStats
	for _, s := range d.exporter.Stats() {
		out = append(out, metrics.ExportStats{Destination: s.Destination, Records: s.Records, Failures: s.Failures, Dropped: s.Dropped})
	}
	return out
}

// apply puts settings in force: the recorder's categories and store, the
// exporter's destinations.
func (d *diagnostics) apply(s diag.Settings) {
	d.rec.SetSettings(s)
	d.exporter.Apply(s)
}

// hubSettings is the API's DiagnosticSettings on a running hub: a change
// is stored and applied at once.
type hubSettings struct{ d *diagnostics }

func (h hubSettings) DiagnosticSettings(context.Context) (wire.DiagnosticSettings, error) {
	return toWire(h.d.rec.Settings()), nil
}

func (h hubSettings) PutDiagnosticSettings(ctx context.Context, in wire.DiagnosticSettings) (wire.DiagnosticSettings, error) {
	h.d.settings.Lock()
	defer h.d.settings.Unlock()
	s, err := saveSettings(ctx, h.d.st, in)
	if err != nil {
		return wire.DiagnosticSettings{}, err
	}
	h.d.apply(s)
	h.d.log.Info("diagnostic settings applied", "settings", mustJSON(s))
	return toWire(s), nil
}

// loadSettings reads the stored settings; none stored are the defaults.
func loadSettings(ctx context.Context, st *store.Store) (diag.Settings, error) {
	raw, err := st.DiagnosticSettings(ctx)
	if err != nil {
		return diag.Settings{}, err
	}
	s, err := diag.ParseSettings(raw)
	if err != nil {
		return diag.Settings{}, err
	}
	return s.Normalized(), nil
}

// saveSettings validates and stores in, and returns it normalized.
func saveSettings(ctx context.Context, st *store.Store, in wire.DiagnosticSettings) (diag.Settings, error) {
	s := fromWire(in)
	if err := s.Validate(); err != nil {
		return diag.Settings{}, err
	}
	s = s.Normalized()
	if err := st.PutDiagnosticSettings(ctx, mustJSON(s)); err != nil {
		return diag.Settings{}, err
	}
	return s, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func fromWire(in wire.DiagnosticSettings) diag.Settings {
	s := diag.Settings{Store: in.Store}
	for _, l := range in.Logs {
		s.Logs = append(s.Logs, diag.CategorySetting{Category: l.Category, Enabled: l.Enabled})
	}
	if f := in.File; f != nil {
		s.File = &diag.FileSettings{Path: f.Path, MaxSizeMB: f.MaxSizeMB, MaxFiles: f.MaxFiles}
	}
	if h := in.HTTP; h != nil {
		s.HTTP = &diag.HTTPSettings{URL: h.URL, MaxRetries: h.MaxRetries, TimeoutSeconds: h.TimeoutSeconds}
	}
	return s
}

func toWire(s diag.Settings) wire.DiagnosticSettings {
	s = s.Normalized()
	out := wire.DiagnosticSettings{Store: s.Store, Logs: []wire.DiagnosticLogSetting{}}
	for _, l := range s.Logs {
		out.Logs = append(out.Logs, wire.DiagnosticLogSetting{Category: l.Category, Enabled: l.Enabled})
	}
	if f := s.File; f != nil {
		out.File = &wire.DiagnosticFile{Path: f.Path, MaxSizeMB: f.MaxSizeMB, MaxFiles: f.MaxFiles}
	}
	if h := s.HTTP; h != nil {
		out.HTTP = &wire.DiagnosticHTTP{URL: h.URL, MaxRetries: h.MaxRetries, TimeoutSeconds: h.TimeoutSeconds}
	}
	return out
}

// DiagnosticSettings returns the data folder's stored diagnostic
// settings (what the next tether serve applies; a running hub's are
// read through its API).
func (a *Admin) DiagnosticSettings(ctx context.Context) (wire.DiagnosticSettings, error) {
	s, err := loadSettings(ctx, a.st)
	if err != nil {
		return wire.DiagnosticSettings{}, err
	}
	return toWire(s), nil
}

// PutDiagnosticSettings validates and stores diagnostic settings in the
// data folder, for the next tether serve; a running hub must be changed
// through its API, which applies them at once.
func (a *Admin) PutDiagnosticSettings(ctx context.Context, in wire.DiagnosticSettings) (wire.DiagnosticSettings, error) {
	if _, ok := Running(a.dataDir); ok {
		return wire.DiagnosticSettings{}, errors.New("a tether serve is running on this data folder; change its settings through its API")
	}
	s, err := saveSettings(ctx, a.st, in)
	if err != nil {
		return wire.DiagnosticSettings{}, err
	}
	return toWire(s), nil
}
