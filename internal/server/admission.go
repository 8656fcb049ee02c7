package server

import (
	"time"

	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/wire"

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
		out.BansActive = a.BansActive
		return out
	}
}

// banList lists the gateway's bans for GET /v1/bans.
func banList(gw *gateway.Gateway) api.BanList {
	return func(now time.Time) []wire.Ban {
		var out []wire.Ban
		for _, b := range gw.Bans(now) {
			out = append(out, wire.Ban(b))
		}
		return out
	}
}
