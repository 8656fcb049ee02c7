package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// Logs reads Connections rows of the diagnostic log, oldest first, for
// one device or ("" ) all; truncated says the limit left older rows out.
type Logs interface {
	ConnectionLogs(ctx context.Context, deviceID string, since, until time.Time, limit int) (rows []tether.LogRecord, truncated bool, err error)
}

// Registry lists the registered devices.
type Registry interface {
	Devices(ctx context.Context) ([]tether.Device, error)
}

// Sample is one grain of a metric (an AzureMetrics row).
type Sample struct {
	Time         time.Time
	Total, Min   float64
	Max, Average float64
}

// Metrics reads a metric's samples in [since, until), oldest first.
type Metrics interface {
	MetricSamples(ctx context.Context, name string, since, until time.Time) ([]Sample, error)
}

// Options configures a Doctor.
type Options struct {
	Logs     Logs     // required
	Registry Registry // required
	Metrics  Metrics  // nil: findings go without metric evidence
	// MaxRows caps the rows one diagnosis reads (the newest); 0 means
	// 200000.
	MaxRows    int
	Thresholds Thresholds // zero fields take the defaults of DefaultThresholds
}

// Query says what to diagnose.
type Query struct {
	DeviceID string        // "" for the whole hub
	Since    time.Duration // how far back from Now; 0 means 24h
	Now      time.Time     // the end of the window; required (time is a parameter)
	// SilentAfter overrides Thresholds.SilentAfter when positive.
	SilentAfter time.Duration
}

// MaxSince is the longest window a diagnosis reads.
const MaxSince = 31 * 24 * time.Hour

// Doctor runs the detectors.
type Doctor struct {
	o Options
}

// New returns a Doctor.
func New(o Options) (*Doctor, error) {
	if o.Logs == nil || o.Registry == nil {
		return nil, errors.New("doctor: Logs and Registry are required")
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 200000
	}
	o.Thresholds = o.Thresholds.withDefaults()
	return &Doctor{o: o}, nil
}

// Diagnose reads the history q selects and runs every detector on it.
func (d *Doctor) Diagnose(ctx context.Context, q Query) (wire.Diagnosis, error) {
	if q.Now.IsZero() {
		return wire.Diagnosis{}, errors.New("doctor: Query.Now is not set")
	}
	if q.Since == 0 {
		q.Since = 24 * time.Hour
	}
	if q.Since < 0 || q.Since > MaxSince {
		return wire.Diagnosis{}, tether.Errorf(tether.ArgumentInvalid, "since %v is out of range: give a positive duration up to %v (31 days)", q.Since, MaxSince)
	}
	if q.DeviceID != "" {
		if err := tether.ValidateDeviceID(q.DeviceID); err != nil {
			return wire.Diagnosis{}, err
		}
	}
	since := q.Now.Add(-q.Since)
	recs, truncated, err := d.o.Logs.ConnectionLogs(ctx, q.DeviceID, since, q.Now.Add(time.Nanosecond), d.o.MaxRows)
	if err != nil {
		return wire.Diagnosis{}, fmt.Errorf("diagnose: %w", err)
	}
	devs, err := d.o.Registry.Devices(ctx)
	if err != nil {
		return wire.Diagnosis{}, fmt.Errorf("diagnose: %w", err)
	}
	in := &input{now: q.Now, since: since, th: d.o.Thresholds, device: q.DeviceID, registry: map[string]tether.Device{}}
	if q.SilentAfter > 0 {
		in.th.SilentAfter = q.SilentAfter
	}
	for _, dev := range devs {
		if q.DeviceID == "" || dev.ID == q.DeviceID {
			in.registry[dev.ID] = dev
		}
	}
	in.rows = parseRows(recs)
	in.byDevice = groupByDevice(in.rows)
	if d.o.Metrics != nil {
		in.metric = func(name string) []Sample {
			s, err := d.o.Metrics.MetricSamples(ctx, name, since, q.Now.Add(time.Nanosecond))
			if err != nil {
				return nil // metrics are corroboration only
			}
			return s
		}
	}
	out := wire.Diagnosis{DeviceID: q.DeviceID, Since: since, Until: q.Now, Rows: len(recs), Truncated: truncated, Findings: []wire.Finding{}}
	seen := map[string]bool{}
	for id := range in.registry {
		seen[id] = true
	}
	for id := range in.byDevice {
		if id != "" {
			seen[id] = true
		}
	}
	out.Devices = len(seen)
	for _, det := range detectors {
		out.Findings = append(out.Findings, det(in)...)
	}
	sort.SliceStable(out.Findings, func(i, j int) bool {
		return wire.SeverityRank(out.Findings[i].Severity) > wire.SeverityRank(out.Findings[j].Severity)
	})
	for _, f := range out.Findings {
		if out.Highest == "" || wire.SeverityRank(f.Severity) > wire.SeverityRank(out.Highest) {
			out.Highest = f.Severity
		}
	}
	return out, nil
}

// detectors run in this order; each returns its findings.
var detectors = []func(*input) []wire.Finding{
	detectTokenExpiry, detectTokenRenewal, detectKeepAliveCluster, detectTakeover, detectReconnectLoop,
	detectNoJitter, detectAuthFailure, detectRetiredDevice, detectFleetDrop, detectConnectStorm,
	detectThrottling, detectNeverConnected, detectSilent,
}

// input is what the detectors read.
type input struct {
	now, since time.Time
	th         Thresholds
	device     string // "" for the whole hub
	rows       []*row
	byDevice   map[string][]*row // "" holds rows without a device
	registry   map[string]tether.Device
	metric     func(name string) []Sample // nil without metrics
}

// devices returns the device IDs that have rows, sorted.
func (in *input) devices() []string {
	ids := make([]string, 0, len(in.byDevice))
	for id := range in.byDevice {
		if id != "" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
