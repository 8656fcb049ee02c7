package alert

import (
	"math"
	"time"
)

// SampleEvery is how often Run reads the metrics that metric rules watch.
// Rules aggregate these samples: min over a window is the lowest of them.
const SampleEvery = time.Second

// sample is one reading of a metric: a gauge's value, or a counter's
// increase since the reading before.
type sample struct {
	t time.Time
	v float64
}

// series holds one metric's recent samples, oldest first.
type series struct {
	counter bool
	last    float64 // a counter's previous raw value
	primed  bool
	ss      []sample
}

// add records a raw reading at t.
func (s *series) add(t time.Time, raw float64) {
	v := raw
	if s.counter {
		if !s.primed {
			s.last, s.primed = raw, true
			return
		}
		v = raw - s.last
		if v < 0 { // a reset
			v = raw
		}
		s.last = raw
	}
	s.ss = append(s.ss, sample{t, v})
}

// trim drops the samples at or before cut.
func (s *series) trim(cut time.Time) {
	i := 0
	for i < len(s.ss) && !s.ss[i].t.After(cut) {
		i++
	}
	if i > 0 {
		s.ss = append(s.ss[:0], s.ss[i:]...)
	}
}

// aggregate applies agg to the samples in (from, to] and returns the
// value and how many samples there were.
func (s *series) aggregate(agg string, from, to time.Time) (float64, int) {
	var vals []float64
	for _, x := range s.ss {
		if x.t.After(from) && !x.t.After(to) {
			vals = append(vals, x.v)
		}
	}
	return aggregate(agg, vals), len(vals)
}

// aggregate applies agg (avg, min, max, total, count) to vals; NaN for
// avg, min and max of nothing.
func aggregate(agg string, vals []float64) float64 {
	switch agg {
	case "count":
		return float64(len(vals))
	case "total":
		t := 0.0
		for _, v := range vals {
			t += v
		}
		return t
	}
	if len(vals) == 0 {
		return math.NaN()
	}
	out := vals[0]
	t := 0.0
	for _, v := range vals {
		t += v
		switch agg {
		case "min":
			out = min(out, v)
		case "max":
			out = max(out, v)
		}
	}
	if agg == "avg" {
		return t / float64(len(vals))
	}
	return out
}
