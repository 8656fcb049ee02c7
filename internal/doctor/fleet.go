package doctor

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// Metric names the fleet detectors read (Azure's names, as AzureMetrics
// stores them).
const (
	metricConnected = "connectedDeviceCount"
	metricThrottled = "d2c.telemetry.ingress.sendThrottle"
)

func abnormalDrop(r *row) bool {
	if !r.disconnect() || r.device == "" {
		return false
	}
	switch r.reason {
	case tether.ReasonConnectionLost, tether.ReasonKeepAliveTimeout, tether.ReasonServerShutdown, tether.ReasonServerError:
		return true
	}
	return false
}

func throttled(r *row) bool { return r.code/1000 == 429 }

func hubFault(r *row) bool { return r.code == tether.ServerError || r.code == tether.GenericTimeout }

// detectFleetDrop finds many devices losing their connections at once,
// and correlates each drop with hub restarts, hub faults (500001,
// 500008) and the throttling of the reconnect wave. Hub-wide only.
func detectFleetDrop(in *input) []wire.Finding {
	if in.device != "" {
		return nil
	}
	var drops []*row
	connected := map[string]bool{}
	for _, r := range in.rows {
		if abnormalDrop(r) {
			drops = append(drops, r)
		}
		if r.connected() || r.disconnect() {
			connected[r.device] = true
		}
	}
	need := max(in.th.FleetDevices, int(math.Ceil(in.th.FleetFraction*float64(len(connected)))))
	var out []wire.Finding
	for j := 0; j < len(drops); {
		end := j
		devs := map[string]bool{}
		for end < len(drops) && drops[end].t.Sub(drops[j].t) < in.th.FleetWindow {
			devs[drops[end].device] = true
			end++
		}
		if len(devs) < need {
			j++
			continue
		}
		out = append(out, fleetFinding(in, drops[j:end], devs, len(connected)))
		j = end
	}
	return out
}

func fleetFinding(in *input, cluster []*row, devs map[string]bool, fleet int) wire.Finding {
	start, end := cluster[0].t, cluster[len(cluster)-1].t
	shutdown := 0
	reasons := map[tether.Reason]int{}
	var ev []wire.Evidence
	for _, r := range cluster {
		reasons[r.reason]++
		if r.reason == tether.ReasonServerShutdown {
			shutdown++
		}
	}
	var faults, throttles []*row
	for _, r := range in.rows {
		if hubFault(r) && !r.t.Before(start.Add(-5*time.Minute)) && !r.t.After(end.Add(5*time.Minute)) {
			faults = append(faults, r)
		}
		if throttled(r) && !r.t.Before(start) && !r.t.After(end.Add(10*time.Minute)) {
			throttles = append(throttles, r)
		}
	}
	ids := make([]string, 0, len(devs))
	for id := range devs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	f := wire.Finding{Detector: "fleet-drop", Severity: wire.SeverityCritical, Devices: ids,
		Title: fmt.Sprintf("fleet-wide drop at %s: %d of %d devices lost their connection within %s (%s)",
			start.UTC().Format(time.RFC3339), len(devs), fleet, round(max(end.Sub(start), time.Second)), reasonList(reasons))}
	var causes []string
	switch {
	case shutdown*2 >= len(cluster):
		f.Severity = wire.SeverityWarning
		causes = append(causes, "The hub was stopped or restarted (server_shutdown): every connected device was disconnected at once, as expected.")
		f = catalogRef(f, tether.ConnectionForcefullyClosedOnFaultInjection)
	default:
		causes = append(causes, "Many devices lost their connections within one window without the hub stopping: a network outage between the devices and the hub (an ISP, VPN, firewall or load balancer), a hub that stalled, or a power cut at a site.")
		f = catalogRef(f, tether.DeviceConnectionClosedRemotely)
	}
	if len(faults) > 0 {
		causes = append(causes, fmt.Sprintf("The hub logged %s (500001/500008) within 5 minutes of the drop: it was in trouble itself.", plural(len(faults), "fault", "faults")))
	}
	if len(throttles) > 0 {
		causes = append(causes, fmt.Sprintf("The reconnect wave was throttled: %s (429xxx) in the 10 minutes after.", plural(len(throttles), "throttled row", "throttled rows")))
	}
	if note := connectedDip(in, start, end); note != "" {
		causes = append(causes, note)
	}
	f.Cause = strings.Join(causes, " ")
	f.Fix = []string{"Check the hub's own log (level=ERROR) and the host's resources around that time.",
		"Check the network path the affected devices share (site, ISP, VPN, load balancer).",
		"Make sure devices reconnect with exponential back-off and jitter, so that the wave does not get throttled."}
	for _, r := range cluster {
		ev = append(ev, r.evidence(""))
	}
	for _, r := range append(faults, throttles...) {
		ev = append(ev, r.evidence("correlated"))
	}
	return withEvidence(f, ev)
}

// connectedDip describes the connectedDeviceCount metric around a drop.
func connectedDip(in *input, start, end time.Time) string {
	if in.metric == nil {
		return ""
	}
	before, during := -1.0, math.Inf(1)
	for _, s := range in.metric(metricConnected) {
		switch {
		case s.Time.Before(start.Truncate(time.Minute)) && !s.Time.Before(start.Add(-10*time.Minute)):
			before = max(before, s.Max)
		case !s.Time.Before(start.Truncate(time.Minute)) && !s.Time.After(end.Add(2*time.Minute)):
			during = min(during, s.Min)
		}
	}
	if before < 0 || math.IsInf(during, 1) {
		return ""
	}
	return fmt.Sprintf("connectedDeviceCount fell from %g to %g.", before, during)
}

func reasonList(m map[tether.Reason]int) string {
	ks := make([]string, 0, len(m))
	for r, n := range m {
		ks = append(ks, fmt.Sprintf("%s ×%d", r, n))
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// detectConnectStorm finds the minute with the most connection attempts,
// when it is far above the window's average. Hub-wide only.
func detectConnectStorm(in *input) []wire.Finding {
	if in.device != "" {
		return nil
	}
	perMinute := map[time.Time][]*row{}
	total := 0
	for _, r := range in.rows {
		if r.op == opConnect {
			m := r.t.Truncate(time.Minute)
			perMinute[m] = append(perMinute[m], r)
			total++
		}
	}
	var peak time.Time
	for m, rs := range perMinute {
		if len(rs) > len(perMinute[peak]) || len(rs) == len(perMinute[peak]) && m.Before(peak) {
			peak = m
		}
	}
	n := len(perMinute[peak])
	minutes := max(1, in.now.Sub(in.since).Minutes())
	if n < in.th.StormAttempts || float64(n) < in.th.StormFactor*float64(total)/minutes {
		return nil
	}
	// A storm is many devices; one device's loop is a reconnect loop.
	peakDevs := map[string]bool{}
	for _, r := range perMinute[peak] {
		peakDevs[r.device] = true
	}
	if len(peakDevs) < in.th.StormDevices {
		return nil
	}
	failed, thr := 0, 0
	devs := map[string]bool{}
	var ev []wire.Evidence
	for _, r := range perMinute[peak] {
		devs[r.device] = true
		if r.failed() {
			failed++
			ev = append(ev, r.evidence(""))
		}
		if throttled(r) {
			thr++
		}
	}
	f := wire.Finding{Detector: "connect-storm", Severity: wire.SeverityWarning,
		Title: fmt.Sprintf("connect storm at %s: %d connection attempts in one minute by %d devices (%.1f a minute on average; %d refused, %d throttled)",
			peak.UTC().Format(time.RFC3339), n, len(devs), float64(total)/minutes, failed, thr),
		Cause: "Far more devices tried to connect in this minute than usual: a wave of reconnects after an outage or a hub restart, or a fleet whose devices all start (or retry) at the same moment.",
		Fix: []string{"Give devices exponential back-off with full jitter, and a random delay before their first connect after boot.",
			"Look for a fleet-wide drop just before (tether diagnose shows it) and fix its cause."}}
	if len(ev) == 0 {
		for _, r := range perMinute[peak] {
			ev = append(ev, r.evidence(""))
		}
	}
	f = catalogRef(f, tether.ThrottlingException)
	return []wire.Finding{withEvidence(f, ev)}
}

// detectThrottling reports throttled operations (429xxx) in the
// connection log and the telemetry throttle metric.
func detectThrottling(in *input) []wire.Finding {
	var rows []*row
	codes := map[tether.ResultCode]int{}
	devs := map[string]int{}
	for _, r := range in.rows {
		if throttled(r) {
			rows = append(rows, r)
			codes[r.code]++
			devs[r.device]++
		}
	}
	metricTotal := 0.0
	if in.metric != nil && in.device == "" {
		for _, s := range in.metric(metricThrottled) {
			metricTotal += s.Total
		}
	}
	if len(rows) == 0 && metricTotal == 0 {
		return nil
	}
	var parts []string
	top := tether.ThrottlingException
	for c, n := range codes {
		parts = append(parts, fmt.Sprintf("%d ×%d", int(c), n))
		if n > codes[top] {
			top = c
		}
	}
	sort.Strings(parts)
	if metricTotal > 0 {
		parts = append(parts, fmt.Sprintf("%g telemetry messages throttled (d2c.telemetry.ingress.sendThrottle)", metricTotal))
	}
	f := wire.Finding{Detector: "throttling", DeviceID: in.device, Severity: wire.SeverityWarning,
		Title: fmt.Sprintf("throttling: %s", strings.Join(parts, ", ")),
		Cause: "Devices went over a rate limit of the hub: one device sending faster than --device-rate (429005), or many devices at once (a connect storm or a burst of telemetry).",
		Fix: []string{"Send less often, or batch readings into fewer messages.",
			"Back off with jitter after a 429 rather than retrying at once.",
			"Raise the limit (tether serve --device-rate) if the load is intended."}}
	if in.device == "" && len(devs) > 0 {
		ids := make([]string, 0, len(devs))
		for id := range devs {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool {
			return devs[ids[i]] > devs[ids[j]] || devs[ids[i]] == devs[ids[j]] && ids[i] < ids[j]
		})
		f.Devices = ids
	}
	f = catalogRef(f, top)
	return []wire.Finding{withEvidence(f, evidenceOf(rows, ""))}
}
