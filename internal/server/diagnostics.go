package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/metrics"
	"github.com/tether-iot/tether/internal/store"
)

// diagnostics fans every connection event out to the log recorder, the
// metrics and the presence tracker, and runs their background loops. It
// also takes the gateway's and the API's reports of operations (see
// diagops.go) and holds the diagnostic settings.
type diagnostics struct {
	rec *diag.Recorder
	// metrics counts; it is also the gateway's Observer, which records the
	// devices' twin, C2D and telemetry-error records (see observer).
	metrics  *observer
	exporter *diag.Exporter // the file and HTTP destinations
	presence *diag.Presence // lifecycle events: every disconnect waits out the grace
	// online is the presence the alert engine counts as
	// connectedDeviceCount: a drop counts at once, a deliberate
	// disconnect (an SDK renewing its token) only after the grace.
	online   *diag.Presence
	st       *store.Store
	extra    func(tether.ConnectionEvent)
	log      *slog.Logger
	retain   time.Duration
	changes  func(diag.PresenceChange)
	c2d      *c2dFacts
	settings sync.Mutex // serializes changes of the diagnostic settings
}

func newDiagnostics(st *store.Store, cfg Config, connected func() int) (*diagnostics, error) {
	d := &diagnostics{st: st, extra: cfg.Events, retain: cfg.LogRetention, log: cfg.Logger.With("component", "diag"), c2d: newC2DFacts()}
	rid, location := st.LogResource()
	d.exporter = diag.NewExporter(diag.ExportOptions{ResourceID: rid, Location: location, Logger: d.log})
	var err error
	if d.rec, err = diag.New(diag.Options{Sink: st, Logger: cfg.Logger.With("component", "diag"), FlushEvery: 50 * time.Millisecond,
		Export: d.exporter.Export}); err != nil {
		return nil, err
	}
	m, err := metrics.New(metrics.Options{
		Connected: connected,
		TotalDevices: func(ctx context.Context) (int, error) {
			total, _, _, err := st.DeviceCounts(ctx)
			return total, err
		},
		LogQueue: d.rec.Queued, LogDropped: d.rec.Dropped,
		Sink: metricSink{st}, Grain: cfg.MetricsGrain, Logger: cfg.Logger.With("component", "metrics"),
		Exports: d.exportStats,
	})
	if err != nil {
		return nil, err
	}
	d.metrics = &observer{Metrics: m, rec: d.rec, c2d: d.c2d}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := loadSettings(ctx, st)
	if err != nil {
		d.log.Error("diagnostic settings unreadable; using the defaults (every category, to the store only)", "err", err)
	}
	d.apply(s)
	d.presence = diag.NewPresence(cfg.PresenceGrace, &diag.Sequencer{}, func(c diag.PresenceChange) {
		if d.changes != nil {
			d.changes(c)
		}
	})
	d.online = diag.NewPresence(cfg.PresenceGrace, nil, nil).DropsAtOnce() // counted only
	return d, nil
}

// event is the gateway's Events callback.
func (d *diagnostics) event(ev tether.ConnectionEvent) {
	d.rec.Connection(ev)
	d.metrics.Connection(ev)
	d.presence.Event(ev)
	d.online.Event(ev)
	if d.extra != nil {
		d.extra(ev)
	}
}

// run runs the recorder, the metrics sampler, the presence clock and log
// retention until ctx ends; the recorder writes what is left on the way
// out.
func (d *diagnostics) run(ctx context.Context) error {
	go d.metrics.Run(ctx)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		trim := time.NewTicker(time.Hour)
		defer trim.Stop()
		sweep := time.NewTicker(time.Minute)
		defer sweep.Stop()
		d.trimLogs(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				d.presence.Tick(now)
				d.online.Tick(now)
			case <-trim.C:
				d.trimLogs(ctx)
			case now := <-sweep.C:
				d.c2d.sweep(now)
			}
		}
	}()
	err := d.rec.Run(ctx)
	d.exporter.Close(5 * time.Second) // the last batches to the file and HTTP destinations
	return err
}

func (d *diagnostics) trimLogs(ctx context.Context) {
	if d.retain <= 0 {
		return
	}
	if _, err := d.st.TrimLogs(ctx, time.Now().Add(-d.retain)); err != nil && ctx.Err() == nil {
		d.log.Error("trim diagnostic logs", "err", err)
	}
}

// metricSink writes metric samples as AzureMetrics rows.
type metricSink struct{ st *store.Store }

func (m metricSink) WriteSamples(ctx context.Context, ss []metrics.Sample) error {
	ms := make([]store.MetricSample, len(ss))
	for i, s := range ss {
		ms[i] = store.MetricSample{Time: s.Time, Name: s.Name, Total: s.Total, Count: int64(s.Count),
			Min: s.Min, Max: s.Max, Average: s.Mean, TimeGrain: isoDuration(s.Grain), Unit: s.Unit}
	}
	return m.st.WriteMetrics(ctx, ms)
}

// isoDuration writes a grain as ISO 8601 (PT1M, PT10S).
func isoDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("PT%dH", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("PT%dM", d/time.Minute)
	}
	return fmt.Sprintf("PT%dS", d/time.Second)
}
