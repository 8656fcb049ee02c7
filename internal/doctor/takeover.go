package doctor

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// detectTakeover finds connections replaced by a newer one for the same
// device. One, after a silent drop, is harmless. Repeated takeovers of
// live connections, or alternating between two addresses, mean two
// clients share one identity.
func detectTakeover(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		rows := in.byDevice[id]
		var takes []*row
		live := 0
		for _, r := range rows {
			if !r.disconnect() || r.reason != tether.ReasonSessionTakenOver {
				continue
			}
			takes = append(takes, r)
			if r.p.LastActivityAgoMs != nil && (r.keepAlive() == 0 || time.Duration(*r.p.LastActivityAgoMs)*time.Millisecond < r.keepAlive()) {
				live++ // the replaced connection was still talking
			}
		}
		if len(takes) == 0 {
			continue
		}
		var ev []wire.Evidence
		ips := map[string]int{}
		switches, last := 0, ""
		for _, r := range rows {
			switch {
			case r.connected():
				ev = append(ev, r.evidence("connected from "+orUnknown(r.p.MaskedIP)))
				if r.p.MaskedIP != "" {
					ips[r.p.MaskedIP]++
					if last != "" && r.p.MaskedIP != last {
						switches++
					}
					last = r.p.MaskedIP
				}
			case r.disconnect() && r.reason == tether.ReasonSessionTakenOver:
				ev = append(ev, r.evidence("replaced by a newer connection"))
			}
		}
		f := wire.Finding{Detector: "takeover", DeviceID: id}
		switch {
		case len(takes) >= 2 && len(ips) >= 2 && switches >= 2:
			f.Severity = wire.SeverityError
			f.Title = fmt.Sprintf("%s: %d takeovers alternating between %s: two devices share this identity", id, len(takes), joinKeys(ips))
			f.Cause = "Connections for this device come from different addresses in turn, and each new one throws the other out (400027). Two physical devices, or two processes, use the same identity: typically a cloned disk image or a copied connection string."
		case len(takes) >= 2 && live >= 2:
			f.Severity = wire.SeverityError
			f.Title = fmt.Sprintf("%s: %d takeovers of live connections: two clients share this identity", id, len(takes))
			f.Cause = "Each takeover replaced a connection that was still active, so it was not a reconnect after a drop: two clients (devices or processes, here from the same address or NAT) use the same identity and keep throwing each other out (400027)."
		case len(takes) >= 2:
			f.Severity = wire.SeverityWarning
			f.Title = fmt.Sprintf("%s: %d takeovers", id, len(takes))
			f.Cause = "The device reconnected several times while the hub still held its previous connection. Either its connections die silently (the hub learns of it only from the takeover), or two clients share the identity."
		default:
			f.Severity = wire.SeverityInfo
			f.Title = fmt.Sprintf("%s: one takeover", id)
			f.Cause = "A new connection replaced an old one. Once, after a network drop, this is harmless: the device reconnected before the hub noticed the old connection was dead."
		}
		f.Fix = []string{"Give every physical device and process its own identity and connection string; re-provision cloned images.",
			"Do not reconnect automatically on 400027: the other client would be thrown out in turn.",
			"If only one client exists, lower its keep-alive so that dead connections are noticed sooner."}
		f = catalogRef(f, tether.ConnectionForcefullyClosedOnNewConnection)
		out = append(out, withEvidence(f, ev))
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown address"
	}
	return s
}

func joinKeys(m map[string]int) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " and ")
}
