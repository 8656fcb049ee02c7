package sim

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Summary is the state of a running simulation.
type Summary struct {
	Elapsed         time.Duration `json:"elapsedNs"`
	Devices         int           `json:"devices"`         // simulated identities
	Clients         int           `json:"clients"`         // MQTT clients: a duplicate identity has two
	Started         int64         `json:"started"`         // clients started so far
	Connected       int64         `json:"connected"`       // clients connected now
	Connects        int64         `json:"connects"`        // successful CONNECTs, renewals included
	Renewals        int64         `json:"renewals"`        // planned token-renewal reconnects
	ConnectFailures int64         `json:"connectFailures"` // refused or failed attempts
	Disconnects     int64         `json:"disconnects"`     // connections that dropped (renewals not counted)
	GaveUp          int64         `json:"gaveUp"`          // clients stopped by a non-retryable error
	TelemetrySent   int64         `json:"telemetrySent"`   // acknowledged (PUBACK)
	TelemetryFailed int64         `json:"telemetryFailed"`
	HeapBytes       uint64        `json:"heapBytes"` // Go heap in use, whole process
	StackBytes      uint64        `json:"stackBytes"`
	Goroutines      int           `json:"goroutines"`
}

// Report is what a finished simulation returns.
type Report struct {
	Summary
	// Failures counts failed connection attempts by catalog code
	// ("401003 IoTHubUnauthorized"); Drops counts lost connections the
	// same way.
	Failures map[string]int64 `json:"failures"`
	Drops    map[string]int64 `json:"drops"`
	// Faults lists each fault, its devices and how often it was injected.
	Faults []FaultReport `json:"faults"`
	// PeakHeapBytes and PeakStackBytes are the largest seen during the
	// run (the heap with garbage not yet collected). LiveBytes is the
	// live heap plus stacks just before the clients closed, after a
	// garbage collection; PerClientBytes is LiveBytes / clients (it
	// includes the process's fixed overhead, which matters only for a
	// few clients).
	LiveBytes      uint64 `json:"liveBytes"`
	PeakHeapBytes  uint64 `json:"peakHeapBytes"`
	PeakStackBytes uint64 `json:"peakStackBytes"`
	PerClientBytes uint64 `json:"perClientBytes"`
	PeakGoroutines int    `json:"peakGoroutines"`
	// AttemptsPerSecond counts connection attempts (successful or not)
	// in each second of the run; PeakAttempts is the largest, and
	// PeakAttempts100ms the largest in any 100 ms (waves of reconnects
	// without jitter show there).
	AttemptsPerSecond []int64 `json:"attemptsPerSecond"`
	PeakAttempts      int64   `json:"peakAttemptsPerSecond"`
	PeakAttempts100ms int64   `json:"peakAttemptsPer100ms"`
}

// FaultReport is one fault of a Report.
type FaultReport struct {
	Fault    Fault    `json:"fault"`
	Devices  []string `json:"devices"`
	Injected int64    `json:"injected"` // drops, silences and flaps done; 0 for the others
}

// counters are the simulation's shared tallies.
type counters struct {
	started, connected, connects, renewals, failures, disconnects, gaveUp, sent, sendFailed atomic.Int64

	// perTenth counts connection attempts (connects and failures) in
	// each 100 ms of the run: a reconnect storm's shape.
	start    time.Time
	perTenth []atomic.Int64

	mu                  sync.Mutex
	byFail              map[string]int64
	byDrop              map[string]int64
	injected            map[Fault]int64
	peakHeap, peakStack uint64
	peakG               int
}

func newCounters(d time.Duration) *counters {
	return &counters{byFail: map[string]int64{}, byDrop: map[string]int64{}, injected: map[Fault]int64{},
		perTenth: make([]atomic.Int64, int(d/tenth)+20)}
}

// attempt counts a connection attempt in its second of the run.
func (c *counters) attempt(now time.Time) {
	if i := int(now.Sub(c.start) / tenth); i >= 0 && i < len(c.perTenth) {
		c.perTenth[i].Add(1)
	}
}

const tenth = 100 * time.Millisecond

func (c *counters) add(m map[string]int64, key string) {
	c.mu.Lock()
	m[key]++
	c.mu.Unlock()
}

func (c *counters) inject(f Fault) {
	c.mu.Lock()
	c.injected[f]++
	c.mu.Unlock()
}

// summary reads the tallies and the process's memory.
func (c *counters) summary(start time.Time, devices, clients int) Summary {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := Summary{
		Elapsed: time.Since(start).Round(time.Millisecond), Devices: devices, Clients: clients,
		Started: c.started.Load(), Connected: c.connected.Load(), Connects: c.connects.Load(), Renewals: c.renewals.Load(),
		ConnectFailures: c.failures.Load(), Disconnects: c.disconnects.Load(), GaveUp: c.gaveUp.Load(),
		TelemetrySent: c.sent.Load(), TelemetryFailed: c.sendFailed.Load(),
		HeapBytes: ms.HeapInuse, StackBytes: ms.StackInuse, Goroutines: runtime.NumGoroutine(),
	}
	c.mu.Lock()
	c.peakHeap = max(c.peakHeap, s.HeapBytes)
	c.peakStack = max(c.peakStack, s.StackBytes)
	c.peakG = max(c.peakG, s.Goroutines)
	c.mu.Unlock()
	return s
}

// String is the one-line live summary.
func (s Summary) String() string {
	return fmt.Sprintf("%6s  connected %d/%d  connects %d (renewals %d)  failed attempts %d  drops %d  gave up %d  telemetry %d ok %d failed  heap %s  goroutines %d",
		s.Elapsed.Round(time.Second), s.Connected, s.Clients, s.Connects, s.Renewals, s.ConnectFailures, s.Disconnects, s.GaveUp,
		s.TelemetrySent, s.TelemetryFailed, mib(s.HeapBytes), s.Goroutines)
}

// Text is the report for people.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "simulated %d devices (%d clients) for %v\n", r.Devices, r.Clients, r.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "connected at the end  %d\n", r.Connected)
	fmt.Fprintf(&b, "connects              %d (of which token renewals %d)\n", r.Connects, r.Renewals)
	fmt.Fprintf(&b, "failed attempts       %d%s\n", r.ConnectFailures, byCode(r.Failures))
	fmt.Fprintf(&b, "dropped connections   %d%s\n", r.Disconnects, byCode(r.Drops))
	fmt.Fprintf(&b, "gave up (final error) %d\n", r.GaveUp)
	fmt.Fprintf(&b, "connection attempts   at most %d in one second, %d in 100 ms\n", r.PeakAttempts, r.PeakAttempts100ms)
	fmt.Fprintf(&b, "telemetry             %d acknowledged, %d failed\n", r.TelemetrySent, r.TelemetryFailed)
	for _, f := range r.Faults {
		ids := f.Devices
		if len(ids) > 5 {
			ids = append(ids[:5:5], fmt.Sprintf("… %d more", len(f.Devices)-5))
		}
		fmt.Fprintf(&b, "fault %-13s on %s", f.Fault, strings.Join(ids, ", "))
		if f.Injected > 0 {
			fmt.Fprintf(&b, " (injected %d times)", f.Injected)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "memory                live %s at the end (%s per client); peak heap %s, peak stacks %s; peak goroutines %d\n",
		mib(r.LiveBytes), kib(r.PerClientBytes), mib(r.PeakHeapBytes), mib(r.PeakStackBytes), r.PeakGoroutines)
	return b.String()
}

func byCode(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return ": " + strings.Join(parts, ", ")
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func kib(b uint64) string { return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10)) }
