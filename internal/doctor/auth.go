package doctor

import (
	"fmt"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// notRegistered is in the detail of an attempt by a device the registry
// does not have (internal/gateway writes it).
const notRegistered = "not registered"

// detectAuthFailure finds a device that connected fine and then started
// failing authentication, and tells apart a rotated key, an expired
// token reused, and a device clock that is behind.
func detectAuthFailure(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		rows := in.byDevice[id]
		var lastOK *row
		var fails []*row
		recovered := false
		for _, r := range rows {
			switch {
			case r.connected() && len(fails) > 0:
				recovered = true
			case r.connected():
				lastOK = r
			case lastOK != nil && r.failed() && r.code == tether.IoTHubUnauthorized && r.reason != tether.ReasonTLSError &&
				!strings.Contains(r.p.Detail, notRegistered):
				fails = append(fails, r)
			}
		}
		if len(fails) == 0 {
			continue
		}
		sig, expired := 0, 0
		for _, r := range fails {
			switch {
			case strings.Contains(r.p.Detail, "signature mismatch"):
				sig++
			case r.reason == tether.ReasonCredentialExpired:
				expired++
			}
		}
		f := wire.Finding{Detector: "auth-failure", DeviceID: id, Severity: wire.SeverityError}
		after := fmt.Sprintf("after connecting fine until %s", lastOK.t.UTC().Format(time.RFC3339))
		switch {
		case sig*2 > len(fails):
			f.Title = fmt.Sprintf("%s: the key was rotated: %s with a signature mismatch %s", id, plural(sig, "attempt", "attempts"), after)
			f.Cause = "The device signs its tokens with a key the hub no longer has for it: the device's keys were regenerated, or the device was deleted and created again with new keys, and the device still uses the old connection string."
			f.Fix = []string{"Give the device its current connection string: tether device connection-string " + id + ".",
				"Rotate keys without an outage: move devices to the secondary key first, then regenerate the primary."}
		case expired*2 > len(fails):
			f.Title, f.Cause, f.Fix = expiredVerdict(id, fails, after)
		default:
			f.Title = fmt.Sprintf("%s: authentication fails (%s) %s", id, plural(len(fails), "attempt", "attempts"), after)
			f.Cause = "The hub refuses the device's credentials; the detail of each attempt below says why (another hub or device in the token, a policy without DeviceConnect, a malformed token)."
			f.Fix = []string{"Give the device its connection string again: tether device connection-string " + id + ", and check that HostName is the hub's --hostname."}
		}
		if recovered {
			f.Severity = wire.SeverityWarning
			f.Title += "; it has connected again since"
		}
		ev := []wire.Evidence{lastOK.evidence("the last successful connect before the failures")}
		for _, r := range fails {
			ev = append(ev, r.evidence(""))
		}
		f = catalogRef(f, tether.IoTHubUnauthorized)
		out = append(out, withEvidence(f, ev))
	}
	return out
}

// expiredVerdict tells a stale token from clock skew by the tokens'
// expiry (se) against the hub's time of each attempt.
func expiredVerdict(id string, fails []*row, after string) (title, cause string, fix []string) {
	var lags []time.Duration
	ses := map[time.Time]bool{}
	for _, r := range fails {
		if se := r.tokenExpiry(); !se.IsZero() {
			lags = append(lags, r.t.Sub(se))
			ses[se] = true
		}
	}
	ntp := "Sync the device's clock with NTP (or at least set it at boot from a trusted time source)."
	renew := "Make a new token for every connection attempt, from the current time, rather than reusing one."
	switch {
	case len(lags) >= 2 && len(ses) == 1:
		return fmt.Sprintf("%s: the same expired token, presented %d times %s", id, len(lags), after),
			fmt.Sprintf("Every attempt carries the same token, whose expiry (se) passed %s before the last attempt: the device does not renew its token; it reuses the old one.", round(lags[len(lags)-1])),
			[]string{renew, "Check the device's token-renewal code path: it is not reached after a refusal."}
	case len(lags) >= 2:
		n, lag := clustered(lags, 0.2)
		if n*10 >= len(lags)*6 {
			return fmt.Sprintf("%s: clock skew: fresh tokens arrive already expired by ~%s %s", id, round(lag), after),
				fmt.Sprintf("The device makes a new token for each attempt (the expiries differ), yet each is already expired by about %s by the hub's clock. The device's clock is behind the hub's by at least that much (by that plus the token lifetime it uses).", round(lag)),
				[]string{ntp, "Check the device's RTC battery and time zone handling (se is seconds since 1970 UTC)."}
		}
	}
	lag := time.Duration(0)
	if len(lags) > 0 {
		lag = lags[len(lags)-1]
	}
	return fmt.Sprintf("%s: expired token (%s) %s", id, plural(len(fails), "attempt", "attempts"), after),
		fmt.Sprintf("The device presented a token that had expired %s before the attempt. Either it reuses an old token, or its clock is that far behind the hub's.", round(lag)),
		[]string{renew, ntp}
}

// detectRetiredDevice finds devices that keep trying after they were
// disabled, or deleted (or were never registered).
func detectRetiredDevice(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range in.devices() {
		rows := in.byDevice[id]
		var disabled, unknown []*row
		wasKnown := false
		for _, r := range rows {
			switch {
			case r.failed() && r.reason == tether.ReasonDeviceDisabled:
				disabled = append(disabled, r)
			case r.failed() && strings.Contains(r.p.Detail, notRegistered):
				unknown = append(unknown, r)
			case r.connected(), r.reason == tether.ReasonDeviceDeleted:
				wasKnown = true
			}
		}
		dev, registered := in.registry[id]
		if len(disabled) > 0 {
			f := wire.Finding{Detector: "retired-device", DeviceID: id, Severity: wire.SeverityWarning,
				Title: fmt.Sprintf("%s: disabled, yet tried to connect %s (last at %s%s)", id, plural(len(disabled), "time", "times"),
					disabled[len(disabled)-1].t.UTC().Format(time.RFC3339), every(disabled)),
				Cause: "The device is disabled in the registry, so the hub refuses it (403012, CONNACK 3), but the device keeps retrying: the SDKs treat that refusal as retryable.",
				Fix: []string{"If the device should run: tether device enable " + id + ".",
					"If it was retired on purpose: switch it off or remove its credentials, so that it stops loading the hub."}}
			if registered && dev.Status == tether.StatusEnabled {
				f.Severity = wire.SeverityInfo
				f.Title += "; it is enabled again now"
			}
			f = catalogRef(f, tether.DeviceDisabled)
			out = append(out, withEvidence(f, evidenceOf(disabled, "refused: disabled")))
		}
		if len(unknown) > 0 && !registered {
			f := wire.Finding{Detector: "retired-device", DeviceID: id, Severity: wire.SeverityWarning,
				Title: fmt.Sprintf("%s: not registered, yet tried to connect %s (last at %s%s)", id, plural(len(unknown), "time", "times"),
					unknown[len(unknown)-1].t.UTC().Format(time.RFC3339), every(unknown)),
				Cause: "No device with this ID is in the registry, and something keeps connecting with it: a device that was deleted but not switched off, or one that was never created here (a connection string for another hub).",
				Fix: []string{"If the device should run: create it again with its old keys (tether device create " + id + " --primary-key … --secondary-key …).",
					"If it was retired: switch it off or remove its credentials."}}
			if wasKnown {
				f.Title = fmt.Sprintf("%s: deleted, yet tried to connect %s (last at %s%s)", id, plural(len(unknown), "time", "times"),
					unknown[len(unknown)-1].t.UTC().Format(time.RFC3339), every(unknown))
				f.Cause = "The device connected earlier in this window and has since been deleted from the registry, but it keeps trying to connect with its old credentials."
			}
			f = catalogRef(f, tether.DeviceNotFound)
			out = append(out, withEvidence(f, evidenceOf(unknown, "refused: not registered")))
		}
	}
	return out
}

func evidenceOf(rows []*row, note string) []wire.Evidence {
	ev := make([]wire.Evidence, len(rows))
	for i, r := range rows {
		ev[i] = r.evidence(note)
	}
	return ev
}

// every describes the median interval between rows: ", every ~2s".
func every(rows []*row) string {
	if len(rows) < 3 {
		return ""
	}
	var ivs []time.Duration
	for i := 1; i < len(rows); i++ {
		ivs = append(ivs, rows[i].t.Sub(rows[i-1].t))
	}
	return ", about every " + round(median(ivs))
}
