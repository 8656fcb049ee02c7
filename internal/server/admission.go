package server

import (
	"time"

	"github.com/tether-iot/tether/internal/gateway"
	"github.com/tether-iot/tether/internal/metrics"
)

// admissionStats reports the gateway's admission control to the metrics.
func admissionStats(gw *gateway.Gateway) func() metrics.AdmissionStats {
	return func() metrics.AdmissionStats {
		now := time.Now()
		a := gw.Admission(now)
		out := metrics.AdmissionStats{RefusedRate: a.RefusedRate, RefusedHandshakes: a.RefusedHandshakes, RefusedBanned: a.RefusedBanned,
			BansImposed: a.BansImposed, Handshakes: a.Handshakes}
		for _, b := range gw.Bans(now) {
			out.Bans = append(out.Bans, metrics.Ban{Kind: b.Kind, Subject: b.Subject, Until: b.Until})
		}
		return out
	}
}
