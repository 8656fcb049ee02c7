package server

import (
	"context"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/doctor"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// newDoctor builds the doctor over the store: the connection log, the
// metric samples and the registry.
func newDoctor(st *store.Store) (diagnoser, error) {
	d, err := doctor.New(doctor.Options{Logs: doctorLogs{st}, Registry: doctorRegistry{st}, Metrics: doctorMetrics{st}})
	return diagnoser{d}, err
}

// diagnoser serves the API's GET /v1/diagnose with the doctor.
type diagnoser struct{ d *doctor.Doctor }

func (d diagnoser) Diagnose(ctx context.Context, q api.DiagnoseQuery) (wire.Diagnosis, error) {
	return d.d.Diagnose(ctx, doctor.Query{DeviceID: q.DeviceID, Since: q.Since, SilentAfter: q.SilentAfter, Now: q.Now})
}

type doctorLogs struct{ st *store.Store }

func (l doctorLogs) ConnectionLogs(ctx context.Context, deviceID string, since, until time.Time, limit int) ([]tether.LogRecord, bool, error) {
	return l.st.ConnectionLogs(ctx, store.LogFilter{DeviceID: deviceID, Since: since, Until: until, Limit: limit})
}

type doctorRegistry struct{ st *store.Store }

func (r doctorRegistry) Devices(ctx context.Context) ([]tether.Device, error) {
	return r.st.Devices(ctx, 0)
}

type doctorMetrics struct{ st *store.Store }

func (m doctorMetrics) MetricSamples(ctx context.Context, name string, since, until time.Time) ([]doctor.Sample, error) {
	ss, err := m.st.MetricSamples(ctx, name, since, until)
	out := make([]doctor.Sample, len(ss))
	for i, s := range ss {
		out[i] = doctor.Sample{Time: s.Time, Total: s.Total, Min: s.Min, Max: s.Max, Average: s.Average}
	}
	return out, err
}
