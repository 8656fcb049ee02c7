package doctor

import (
	"fmt"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// detectKeepAliveCluster finds keep-alive timeouts (and silent drops)
// that end connections after the same time again and again: something
// on the path, a NAT or a load balancer, forgets idle flows sooner than
// the device pings.
func detectKeepAliveCluster(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		var drops []*row
		var ds []time.Duration
		for _, r := range in.byDevice[id] {
			if r.disconnect() && (r.reason == tether.ReasonKeepAliveTimeout || r.reason == tether.ReasonConnectionLost) && r.duration() >= 0 {
				drops = append(drops, r)
				ds = append(ds, r.duration())
			}
		}
		if len(drops) < in.th.MinRepeats {
			continue
		}
		n, at := clustered(ds, in.th.Periodic)
		if n < in.th.MinRepeats || n*10 < len(ds)*6 {
			continue
		}
		var ev []wire.Evidence
		keepAlive, timeouts := time.Duration(0), 0
		for _, r := range drops {
			if r.reason == tether.ReasonKeepAliveTimeout {
				timeouts++
			}
			if k := r.keepAlive(); k > 0 {
				keepAlive = k
			}
			ev = append(ev, r.evidence(fmt.Sprintf("connected for %s", round(r.duration()))))
		}
		what := "keep-alive timeouts"
		if timeouts*2 < len(drops) {
			what = "dropped connections"
		}
		f := wire.Finding{Detector: "keepalive-cluster", DeviceID: id, Severity: wire.SeverityWarning,
			Title: fmt.Sprintf("%s: %d %s, each after ~%s connected", id, n, what, round(at))}
		ka := "its keep-alive"
		if keepAlive > 0 {
			ka = fmt.Sprintf("its keep-alive (%s)", round(keepAlive))
		}
		f.Cause = fmt.Sprintf("The connection dies after the same time again and again. That is the mark of an idle timer on the path: a NAT, firewall or load balancer drops a flow that has been quiet for less time than %s, so the device's pings stop reaching the hub, and the hub closes the connection after 1.5 × the keep-alive of silence (404104).", ka)
		f.Fix = []string{
			"Make the keep-alive shorter than the shortest idle timeout on the path (many NATs and cloud load balancers drop idle flows after 4 to 5 minutes; 60 s is safe).",
			"Or raise the idle timeout of the NAT or load balancer above the keep-alive.",
			"If the time is about 1.5 × the keep-alive even on a short path, the device stops pinging after it connects: check its MQTT loop.",
		}
		f = catalogRef(f, tether.DeviceConnectionClosedRemotely)
		out = append(out, withEvidence(f, ev))
	}
	return out
}
