package metrics

import (
	"context"
	"time"
)

// snapshotEvery is how often snapshot metrics are sampled within a grain.
const snapshotEvery = 5 * time.Second

// Run samples snapshot metrics every few seconds and writes one Sample
// per metric per grain to the Sink, until ctx ends.
func (m *Metrics) Run(ctx context.Context) error {
	m.grainBeg = m.o.Now().Truncate(m.o.Grain)
	m.observe(ctx)
	t := time.NewTicker(min(snapshotEvery, m.o.Grain))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := m.o.Now()
		if now.Sub(m.grainBeg) >= m.o.Grain {
			m.close(ctx, now)
		}
		m.observe(ctx)
	}
}

// observe takes one reading of the snapshot metrics.
func (m *Metrics) observe(ctx context.Context) {
	if n, err := m.o.TotalDevices(ctx); err == nil {
		m.total.Store(int64(n))
	} else {
		m.o.Logger.Error("count devices for metrics", "err", err)
	}
	m.mu.Lock()
	m.snaps["connectedDeviceCount"] = append(m.snaps["connectedDeviceCount"], float64(m.o.Connected()))
	m.snaps["totalDeviceCount"] = append(m.snaps["totalDeviceCount"], float64(m.total.Load()))
	m.mu.Unlock()
}

// close ends the current grain: it turns the readings and counter deltas
// into samples, starts the next grain and writes the samples.
func (m *Metrics) close(ctx context.Context, now time.Time) {
	ss := m.samples(true)
	m.mu.Lock()
	m.grainBeg = now.Truncate(m.o.Grain)
	m.mu.Unlock()
	if m.o.Sink == nil || len(ss) == 0 {
		return
	}
	if err := m.o.Sink.WriteSamples(ctx, ss); err != nil {
		m.o.Logger.Error("write metric samples", "samples", len(ss), "err", err)
	}
}

// Samples returns the current grain's values so far: snapshot metrics
// with their minimum, maximum and mean, counters with their total since
// the grain began.
func (m *Metrics) Samples() []Sample { return m.samples(false) }

func (m *Metrics) samples(reset bool) []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ss []Sample
	for _, n := range Names {
		s := Sample{Time: m.grainBeg, Name: n.Azure, Grain: m.o.Grain, Unit: n.Unit}
		switch {
		case n.Snapshot:
			vals := m.snaps[n.Azure]
			if len(vals) == 0 {
				continue
			}
			s.Min, s.Max = vals[0], vals[0]
			for _, v := range vals {
				s.Total += v
				s.Min, s.Max = min(s.Min, v), max(s.Max, v)
			}
			s.Count = float64(len(vals))
			s.Mean = s.Total / s.Count
		default:
			c, ok := m.counters[n.Azure]
			if !ok {
				continue
			}
			now := c.Load()
			d := float64(now - m.last[n.Azure])
			if reset {
				m.last[n.Azure] = now
			}
			s.Total, s.Count, s.Min, s.Max, s.Mean = d, d, d, d, d
		}
		ss = append(ss, s)
	}
	if reset {
		m.snaps = map[string][]float64{}
	}
	return ss
}
