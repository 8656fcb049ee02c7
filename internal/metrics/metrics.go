package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tether-iot/tether"
)

// Sample is one metric over one time grain, as a row of AzureMetrics.
type Sample struct {
	Time                         time.Time // the start of the grain
	Name                         string    // Azure's metric name
	Total, Count, Min, Max, Mean float64
	Grain                        time.Duration
	Unit                         string
}

// Sink stores samples.
type Sink interface {
	WriteSamples(ctx context.Context, ss []Sample) error
}

// Options configures Metrics.
type Options struct {
	Connected    func() int                             // required
	TotalDevices func(ctx context.Context) (int, error) // required
	LogQueue     func() int                             // nil: not exported
	LogDropped   func() int64                           // nil: not exported
	Sink         Sink                                   // nil: no AzureMetrics samples
	Grain        time.Duration                          // default 1 min; at least 10 s
	Logger       *slog.Logger
	Now          func() time.Time

	// Exports returns the diagnostic export destinations' counters; nil:
	// not exported.
	Exports func() []ExportStats
}

// ExportStats are one diagnostic export destination's counters.
type ExportStats struct {
	Destination                string // "file" or "http"
	Records, Failures, Dropped int64
}

// Metrics counts the hub's activity.
type Metrics struct {
	o   Options
	reg *prometheus.Registry

	counters map[string]*atomic.Int64 // by Azure name
	attempts *prometheus.CounterVec
	discs    *prometheus.CounterVec
	latency  prometheus.Histogram
	// attemptsN and discsN total the two labelled counters, for Value.
	attemptsN, discsN atomic.Int64

	mu       sync.Mutex
	last     map[string]int64 // counter values at the previous sample
	snaps    map[string][]float64
	total    atomic.Int64 // last known registry size
	grainBeg time.Time
}

// New returns Metrics with its own registry.
func New(o Options) (*Metrics, error) {
	if o.Connected == nil || o.TotalDevices == nil {
		return nil, errors.New("metrics: Connected and TotalDevices are required")
	}
	if o.Grain == 0 {
		o.Grain = time.Minute
	}
	if o.Grain < 10*time.Second {
		return nil, errors.New("metrics: the sample grain must be at least 10s")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{o: o, reg: prometheus.NewRegistry(), counters: map[string]*atomic.Int64{}, last: map[string]int64{}, snaps: map[string][]float64{}}
	for _, n := range Names {
		if n.Snapshot || n.Azure == "connections.attempts" || n.Azure == "connections.disconnects" {
			continue
		}
		v := &atomic.Int64{}
		m.counters[n.Azure] = v
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: n.Prometheus, Help: n.Help + " Azure: " + n.Azure + "."},
			func() float64 { return float64(v.Load()) }))
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tether_connected_devices", Help: "Devices connected now. Azure: connectedDeviceCount."},
			func() float64 { return float64(o.Connected()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tether_registered_devices", Help: "Devices in the registry. Azure: totalDeviceCount."},
			func() float64 { return float64(m.total.Load()) }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_connection_attempts_total",
		Help: "Connection attempts by result code (0: connected)."}, []string{"result"})
	m.discs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_disconnects_total",
		Help: "Disconnects of connected devices by canonical reason and result code."}, []string{"reason", "result"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tether_connect_seconds",
		Help:    "Time from accepting the network connection to CONNACK, for successful connects.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}})
	m.reg.MustRegister(m.attempts, m.discs, m.latency)
	if o.LogQueue != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tether_diag_log_queue",
			Help: "Diagnostic log records waiting to be written."}, func() float64 { return float64(o.LogQueue()) }))
	}
	if o.LogDropped != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_diag_log_dropped_total",
			Help: "Diagnostic log records lost because the writer fell behind (should stay 0)."}, func() float64 { return float64(o.LogDropped()) }))
	}
	if o.Exports != nil {
		m.reg.MustRegister(exportCollector(o.Exports))
	}
	return m, nil
}

var (
	exportRecordsDesc = prometheus.NewDesc("tether_diag_export_records_total",
		"Diagnostic log records written to a best-effort destination (file or http).", []string{"destination"}, nil)
	exportFailuresDesc = prometheus.NewDesc("tether_diag_export_failures_total",
		"Batches of diagnostic log records a destination could not take, after its retries.", []string{"destination"}, nil)
	exportDroppedDesc = prometheus.NewDesc("tether_diag_export_dropped_total",
		"Diagnostic log records lost by a destination: failed batches, or a destination too far behind.", []string{"destination"}, nil)
)

// exportCollector exposes the export destinations' counters.
type exportCollector func() []ExportStats

func (c exportCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- exportRecordsDesc
	ch <- exportFailuresDesc
	ch <- exportDroppedDesc
}

func (c exportCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c() {
		ch <- prometheus.MustNewConstMetric(exportRecordsDesc, prometheus.CounterValue, float64(s.Records), s.Destination)
		ch <- prometheus.MustNewConstMetric(exportFailuresDesc, prometheus.CounterValue, float64(s.Failures), s.Destination)
		ch <- prometheus.MustNewConstMetric(exportDroppedDesc, prometheus.CounterValue, float64(s.Dropped), s.Destination)
	}
}

// Handler serves the Prometheus exposition.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) add(name string, n int64) { m.counters[name].Add(n) }

// Connection counts a connection event.
func (m *Metrics) Connection(ev tether.ConnectionEvent) {
	switch ev.Kind {
	case tether.EventConnect:
		m.attemptsN.Add(1)
		m.attempts.WithLabelValues("0").Inc()
		if !ev.Accepted.IsZero() && !ev.ConnectedAt.IsZero() {
			m.latency.Observe(ev.ConnectedAt.Sub(ev.Accepted).Seconds())
		}
	case tether.EventConnectFailed:
		m.attemptsN.Add(1)
		m.attempts.WithLabelValues(strconv.Itoa(int(ev.Code))).Inc()
	case tether.EventDisconnect:
		code := ev.Code
		if code == 0 {
			code = ev.Reason.Code()
		}
		m.discsN.Add(1)
		m.discs.WithLabelValues(string(ev.Reason), strconv.Itoa(int(code))).Inc()
	}
}

// Telemetry counts a telemetry message.
func (m *Metrics) Telemetry(ok, throttled bool, bytes int) {
	m.add("d2c.telemetry.ingress.allProtocol", 1)
	switch {
	case ok:
		m.add("d2c.telemetry.ingress.success", 1)
		m.add("deviceDataUsage", int64(bytes))
	case throttled:
		m.add("d2c.telemetry.ingress.sendThrottle", 1)
	}
}

// DeviceTwin counts a twin operation by a device (op: read or update).
func (m *Metrics) DeviceTwin(op string, ok bool, _ int) {
	result := "success"
	if !ok {
		result = "failure"
	}
	if c, found := m.counters["d2c.twin."+op+"."+result]; found {
		c.Add(1)
	}
}

// C2DCompleted counts a completed cloud-to-device message.
func (m *Metrics) C2DCompleted() { m.add("c2d.commands.egress.complete.success", 1) }

// C2DExpired counts cloud-to-device messages removed at their expiry.
func (m *Metrics) C2DExpired(n int) { m.add("C2DMessagesExpired", int64(n)) }

// ServiceTwin counts a twin operation by a back-end service (op: read or
// update; a replace is an update).
func (m *Metrics) ServiceTwin(op string, ok bool) {
	result := "success"
	if !ok {
		result = "failure"
	}
	if c, found := m.counters["c2d.twin."+op+"."+result]; found {
		c.Add(1)
	}
}

// Method counts a direct method call.
func (m *Metrics) Method(ok bool) {
	if ok {
		m.add("c2d.methods.success", 1)
	} else {
		m.add("c2d.methods.failure", 1)
	}
}
