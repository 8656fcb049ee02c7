package doctor

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// detectReconnectLoop scores flapping: connections that end within
// ShortConnection of starting, counted over the busiest hour. Takeovers
// are left to detectTakeover, so a shared identity is one finding.
func detectReconnectLoop(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		var flaps []*row
		for _, r := range in.byDevice[id] {
			// Takeovers are the takeover detector's; a shutdown is the hub's.
			if r.disconnect() && r.reason != tether.ReasonServerShutdown && r.reason != tether.ReasonSessionTakenOver &&
				r.duration() >= 0 && r.duration() < in.th.ShortConnection {
				flaps = append(flaps, r)
			}
		}
		score, from := busiestHour(flaps)
		if score < in.th.FlapWarning {
			continue
		}
		f := wire.Finding{Detector: "reconnect-loop", DeviceID: id, Severity: wire.SeverityWarning,
			Title: fmt.Sprintf("%s: reconnect loop, flapping score %d (connections shorter than %s in the busiest hour, from %s)",
				id, score, round(in.th.ShortConnection), from.UTC().Format(time.RFC3339))}
		if score >= in.th.FlapError {
			f.Severity = wire.SeverityError
		}
		reasons := map[tether.Reason]int{}
		var ev []wire.Evidence
		for _, r := range flaps {
			reasons[r.reason]++
			ev = append(ev, r.evidence(fmt.Sprintf("connected for %s", round(r.duration()))))
		}
		top, topN := tether.ReasonNone, 0
		for r, n := range reasons {
			if n > topN || n == topN && r < top {
				top, topN = r, n
			}
		}
		f.Cause = fmt.Sprintf("The device connects and loses the connection again within minutes, over and over; the commonest end is %s (%d of %d). A loop like this is usually driven by something that fails right after connecting: a firmware crash loop, a subscription or publish the hub refuses, or a network that drops the flow.",
			orNone(top), topN, len(flaps))
		f.Fix = []string{"Read the detail of the disconnect rows below: it names what ended each connection.",
			"Look at the other findings for this device (takeover, keep-alive, auth): they usually name the driver.",
			"Make the device back off exponentially, with jitter, after each failure."}
		if code := top.Code(); code != 0 {
			f = catalogRef(f, code)
		}
		out = append(out, withEvidence(f, ev))
	}
	return out
}

// busiestHour returns the most rows within any one hour and where that
// hour starts. rows are in time order.
func busiestHour(rows []*row) (int, time.Time) {
	best, from, j := 0, time.Time{}, 0
	for i := range rows {
		for rows[i].t.Sub(rows[j].t) >= time.Hour {
			j++
		}
		if n := i - j + 1; n > best {
			best, from = n, rows[j].t
		}
	}
	return best, from
}

func orNone(r tether.Reason) string {
	if r == tether.ReasonNone {
		return "a clean disconnect"
	}
	return string(r)
}

// detectNoJitter reads the intervals between a failed attempt and the
// next attempt. When they are all the same, or each an exact multiple of
// the one before, the device backs off without jitter: after an outage,
// a fleet of such devices retries in lockstep.
func detectNoJitter(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		var attempts []*row
		for _, r := range in.byDevice[id] {
			if r.op == opConnect {
				attempts = append(attempts, r)
			}
		}
		// streaks of retries: consecutive attempts after failures.
		var streaks [][]time.Duration
		var cur []time.Duration
		var ev []wire.Evidence
		for i := 1; i < len(attempts); i++ {
			if !attempts[i-1].failed() {
				if len(cur) > 0 {
					streaks, cur = append(streaks, cur), nil
				}
				continue
			}
			iv := attempts[i].t.Sub(attempts[i-1].t)
			cur = append(cur, iv)
			ev = append(ev, attempts[i].evidence(fmt.Sprintf("retried %s after the failure before", round(iv))))
		}
		if len(cur) > 0 {
			streaks = append(streaks, cur)
		}
		var all []time.Duration
		for _, s := range streaks {
			all = append(all, s...)
		}
		kind := ""
		if len(all) >= in.th.MinRepeats+2 && median(all) >= 100*time.Millisecond {
			kind = lockstep(streaks, all, in.th.JitterTolerance)
		}
		if kind == "" {
			// The first retry after each dropped connection: with jitter it
			// is random; without, the same delay every time.
			delays, dev := reconnectDelays(in.byDevice[id])
			if len(delays) < 8 || median(delays) < 50*time.Millisecond {
				continue
			}
			// A fixed delay: the spread of the delays, leaving out the
			// highest and lowest tenth, is within 6% of their mean plus 5 ms
			// of connection set-up. Jittered delays spread over the whole
			// back-off range.
			m, sd := trimmedSpread(delays)
			if sd > in.th.JitterTolerance*float64(m)+float64(5*time.Millisecond) {
				continue
			}
			kind, ev, all = fmt.Sprintf("every reconnect after a dropped connection comes ~%s later", round(m)), dev, delays
		}
		f := wire.Finding{Detector: "backoff-no-jitter", DeviceID: id, Severity: wire.SeverityWarning,
			Title: fmt.Sprintf("%s: retries without jitter: %s (%d retries)", id, kind, len(all)),
			Cause: "The device's retry delays carry no randomness. One device retrying like this is harmless, but after a hub restart or a network outage every device with the same firmware retries at the same instants, and the synchronised waves of connects get throttled (429) and prolong the outage.",
			Fix: []string{"Back off exponentially with full jitter: wait a random time between 0 and min(cap, base × 2^attempt) (the Azure SDKs and the Tether Go SDK do).",
				"Do not retry errors the catalog marks not retryable (401003, 403012, 404001): fix the cause instead."}}
		f = catalogRef(f, tether.ThrottlingException)
		out = append(out, withEvidence(f, ev))
	}
	return out
}

// lockstep says how deterministic the retry intervals are: "" when they
// look jittered.
func lockstep(streaks [][]time.Duration, all []time.Duration, tol float64) string {
	if n, m := clustered(all, tol); n == len(all) {
		return "every retry after " + round(m)
	}
	var ratios []float64
	for _, s := range streaks {
		for i := 1; i < len(s); i++ {
			ratios = append(ratios, float64(s[i])/float64(s[i-1]))
		}
	}
	var growth []float64
	for _, r := range ratios {
		if r > 1.2 {
			growth = append(growth, r)
		}
	}
	if len(growth) < 2 {
		return ""
	}
	g := medianF(growth)
	for _, r := range ratios {
		if math.Abs(r-1) > tol && math.Abs(r-g) > tol*g {
			return ""
		}
	}
	return fmt.Sprintf("each retry waits exactly %.3g× the one before (from %s up to %s)", g, round(minD(all)), round(maxD(all)))
}

func medianF(xs []float64) float64 {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = time.Duration(x * 1e6)
	}
	return float64(median(ds)) / 1e6
}

func minD(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = min(m, d)
	}
	return m
}

func maxD(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// reconnectDelays returns, for each connection that dropped (lost, or
// timed out), the time to the device's next connection attempt, with the
// attempts as evidence.
func reconnectDelays(rows []*row) ([]time.Duration, []wire.Evidence) {
	var ds []time.Duration
	var ev []wire.Evidence
	for i, r := range rows {
		if !r.disconnect() || r.reason != tether.ReasonConnectionLost && r.reason != tether.ReasonKeepAliveTimeout {
			continue
		}
		for _, next := range rows[i+1:] {
			if next.op == opConnect {
				d := next.t.Sub(r.t)
				ds = append(ds, d)
				ev = append(ev, next.evidence(fmt.Sprintf("reconnected %s after the drop", round(d))))
				break
			}
		}
	}
	return ds, ev
}

// trimmedSpread returns the mean and standard deviation of ds without
// their highest and lowest tenth.
func trimmedSpread(ds []time.Duration) (time.Duration, float64) {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := len(s) / 10
	s = s[k : len(s)-k]
	var sum float64
	for _, d := range s {
		sum += float64(d)
	}
	mean := sum / float64(len(s))
	var v float64
	for _, d := range s {
		v += (float64(d) - mean) * (float64(d) - mean)
	}
	return time.Duration(mean), math.Sqrt(v / float64(len(s)))
}
