package doctor

import (
	"fmt"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// expiryEvent is one connection the hub closed at its token's expiry:
// the 401003 and 404104 rows internal/diag writes, and the reconnect.
type expiryEvent struct {
	rows      []*row
	lifetime  time.Duration // how long the connection lasted, or -1
	reconnect *row          // the next successful connect, or nil
}

// expiries groups a device's credential_expired disconnects by
// connection.
func expiries(rows []*row) []expiryEvent {
	var out []expiryEvent
	byConn := map[string]int{}
	for i, r := range rows {
		if !r.disconnect() || r.reason != tether.ReasonCredentialExpired {
			continue
		}
		if k, ok := byConn[r.p.ConnectionID]; ok && r.p.ConnectionID != "" {
			out[k].rows = append(out[k].rows, r)
			continue
		}
		byConn[r.p.ConnectionID] = len(out)
		out = append(out, expiryEvent{rows: []*row{r}, lifetime: r.duration(), reconnect: nextConnect(rows, i)})
	}
	return out
}

// detectTokenExpiry finds connections the hub closed because their SAS
// token expired: once is routine (info); at a steady period it is the
// 401003 → 404104 → reconnect cycle that fills Azure-style alerts
// (warning).
func detectTokenExpiry(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		evs := expiries(in.byDevice[id])
		if len(evs) == 0 {
			continue
		}
		var lifetimes, gaps []time.Duration
		var ev []wire.Evidence
		for _, e := range evs {
			note := "the hub closed the connection at the token's expiry"
			if e.lifetime >= 0 {
				lifetimes = append(lifetimes, e.lifetime)
				note += fmt.Sprintf(", after %s connected", round(e.lifetime))
			}
			for _, r := range e.rows {
				ev = append(ev, r.evidence(note))
			}
			if e.reconnect != nil {
				gap := e.reconnect.t.Sub(e.rows[0].t)
				gaps = append(gaps, gap)
				ev = append(ev, e.reconnect.evidence(fmt.Sprintf("reconnected %s later", round(gap))))
			}
		}
		f := wire.Finding{Detector: "token-expiry", DeviceID: id, Severity: wire.SeverityInfo,
			Title: fmt.Sprintf("%s: the SAS token expired on a live connection once", id),
			Cause: "The device kept its connection until its token expired, so the hub closed it (401003, then 404104 DeviceConnectionClosedRemotely) and the device reconnected with a new token. Azure IoT Hub does the same, and several Azure SDKs renew tokens this way, by reconnecting.",
			Fix: []string{"Nothing, if it reconnected at once: this is a renewal.",
				"To avoid the disconnect, renew the token before it expires: reconnect with a new token at about 80-90% of its lifetime (the Tether Go SDK does; so does the Azure C SDK).",
				"In alerts, leave out 404104 rows whose _Reason is credential_expired when a connect follows within a minute."}}
		n, period := clustered(lifetimes, in.th.Periodic)
		if len(evs) >= 2 {
			f.Title = fmt.Sprintf("%s: the SAS token expired on a live connection %s", id, plural(len(evs), "time", "times"))
			f.Severity = wire.SeverityWarning
			if len(lifetimes) >= 2 && n*10 >= len(lifetimes)*6 {
				f.Title = fmt.Sprintf("%s: disconnected every ~%s at the end of its token's life (401003 → 404104 → reconnect, %s)",
					id, round(period), plural(len(evs), "time", "times"))
				f.Cause = fmt.Sprintf("The device's tokens live about %s and it does not renew them while connected: each time, the hub closes the connection at the token's expiry (401003, then 404104) and the device reconnects with a new token (median gap %s). Several Azure SDKs renew exactly this way, by reconnecting, so Azure shows the same periodic disconnects.",
					round(period), round(median(gaps)))
			}
		}
		if len(gaps) < len(evs) {
			f.Severity = wire.SeverityWarning
			f.Fix = append(f.Fix, "After the last expiry no reconnect is logged: check that the device makes a new token when the old one is refused.")
		}
		f = catalogRef(f, tether.IoTHubUnauthorized)
		out = append(out, withEvidence(f, ev))
	}
	return out
}

// detectTokenRenewal recognises the Azure SDKs' routine renewal: a clean
// DISCONNECT at a steady period, followed at once by a reconnect. It is
// reported as info, so a healthy fleet shows no warning.
func detectTokenRenewal(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		rows := in.byDevice[id]
		var lifetimes []time.Duration
		var ev []wire.Evidence
		for i, r := range rows {
			if !r.disconnect() || r.reason != tether.ReasonClientDisconnect || r.duration() < 0 {
				continue
			}
			next := nextConnect(rows, i)
			if next == nil || next.t.Sub(r.t) > in.th.RenewalGap {
				continue
			}
			lifetimes = append(lifetimes, r.duration())
			ev = append(ev, r.evidence(fmt.Sprintf("clean disconnect after %s", round(r.duration()))),
				next.evidence(fmt.Sprintf("reconnected %s later", round(next.t.Sub(r.t)))))
		}
		if len(lifetimes) < in.th.MinRepeats-1 {
			continue
		}
		n, period := clustered(lifetimes, in.th.Periodic)
		if n*10 < len(lifetimes)*8 || period < 5*time.Minute {
			continue
		}
		f := wire.Finding{Detector: "token-renewal", DeviceID: id, Severity: wire.SeverityInfo,
			Title: fmt.Sprintf("%s: routine token renewal, a clean reconnect every ~%s (%s)", id, round(period), plural(len(lifetimes), "time", "times")),
			Cause: "The device's SDK renews its SAS token by disconnecting cleanly and reconnecting with a new one (the Azure Node.js, Python, Java and .NET SDKs do this). This is healthy.",
			Fix:   []string{"Nothing to fix. In alerts on disconnects, leave out client_disconnect rows followed by a connect within a minute."}}
		out = append(out, withEvidence(f, ev))
	}
	return out
}
