package doctor

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// detectNeverConnected lists enabled devices that have never connected.
// Those that tried and failed are a warning; those never heard from are
// info (perhaps not deployed yet).
func detectNeverConnected(in *input) []wire.Finding {
	var quiet []string
	var out []wire.Finding
	for _, id := range sortedIDs(in.registry) {
		dev := in.registry[id]
		if dev.Status != tether.StatusEnabled || !dev.LastActivityTime.IsZero() || dev.ConnectionState == tether.Connected {
			continue
		}
		var tries []*row
		ok := false
		for _, r := range in.byDevice[id] {
			ok = ok || r.connected()
			if r.failed() {
				tries = append(tries, r)
			}
		}
		if ok {
			continue
		}
		if len(tries) == 0 {
			quiet = append(quiet, id)
			continue
		}
		f := wire.Finding{Detector: "never-connected", DeviceID: id, Severity: wire.SeverityWarning,
			Title: fmt.Sprintf("%s: has never connected; %s failed", id, plural(len(tries), "attempt", "attempts")),
			Cause: "The device is registered and tries to connect, but every attempt is refused; the detail of each says why.",
			Fix:   []string{"Read the detail below; tether errors CODE explains its result code.", "Run tether check from the device's network to test each step."}}
		expired, sig := 0, 0
		for _, r := range tries {
			if r.reason == tether.ReasonCredentialExpired {
				expired++
			}
			if strings.Contains(r.p.Detail, "signature mismatch") {
				sig++
			}
		}
		switch {
		case expired*2 > len(tries):
			title, cause, fix := expiredVerdict(id, tries, "and has never connected")
			f.Title, f.Cause, f.Fix = title, cause, append(fix, f.Fix...)
		case sig*2 > len(tries):
			f.Title += " with a signature mismatch"
			f.Cause = "The device signs its tokens with a key that is not this device's: a wrong or mistyped key, or a connection string of another hub or of a re-created device."
			f.Fix = []string{"Give the device its connection string: tether device connection-string " + id + "."}
		}
		f = catalogRef(f, tries[len(tries)-1].code)
		out = append(out, withEvidence(f, evidenceOf(tries, "")))
	}
	if len(quiet) > 0 {
		f := wire.Finding{Detector: "never-connected", Severity: wire.SeverityInfo, Devices: quiet,
			Title: fmt.Sprintf("%s never connected and made no attempt: %s", plural(len(quiet), "enabled device", "enabled devices"), shortList(quiet)),
			Cause: "The registry has these devices, but the hub has never seen them connect, nor try to in this window: not deployed yet, pointed at another hub, or unable to reach this one (DNS, firewall, port 8883 or 443 blocked).",
			Fix:   []string{"Run tether check --connection-string '…' from the device's network.", "Delete identities that are no longer needed."}}
		if in.device != "" {
			f.DeviceID, f.Devices = in.device, nil
			f.Title = in.device + ": never connected, and made no attempt in this window"
		}
		out = append(out, withEvidence(f, nil))
	}
	return out
}

// detectSilent lists devices the registry shows connected that have sent
// nothing for longer than SilentAfter: a half-open connection, or an app
// that hangs while its network stack keeps the socket.
func detectSilent(in *input) []wire.Finding {
	var out []wire.Finding
	for _, id := range sortedIDs(in.registry) {
		dev := in.registry[id]
		if dev.ConnectionState != tether.Connected || dev.LastActivityTime.IsZero() {
			continue
		}
		quiet := in.now.Sub(dev.LastActivityTime)
		if quiet < in.th.SilentAfter {
			continue
		}
		f := wire.Finding{Detector: "silent", DeviceID: id, Severity: wire.SeverityWarning,
			Title: fmt.Sprintf("%s: connected but silent for %s (last activity %s)", id, round(quiet), dev.LastActivityTime.UTC().Format(time.RFC3339)),
			Cause: "The hub holds the device's connection but has received nothing on it, not even a keep-alive ping, for longer than the threshold. Either the device connected with keep-alive 0 (no pings, so a dead connection is never noticed), or its application hangs while the socket stays open.",
			Fix: []string{"Connect with a keep-alive (60 to 300 s) so that the hub closes dead connections itself.",
				"Check the device's application: it may be stuck.",
				"Raise the threshold (--silent-after) if the device is meant to be quiet this long."}}
		var ev []wire.Evidence
		rows := in.byDevice[id]
		for i := len(rows) - 1; i >= 0; i-- {
			if rows[i].connected() {
				ev = append(ev, rows[i].evidence("the connection that is still open"))
				break
			}
		}
		out = append(out, withEvidence(f, ev))
	}
	return out
}

func sortedIDs(m map[string]tether.Device) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func shortList(ids []string) string {
	if len(ids) <= 10 {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:10], ", ") + fmt.Sprintf(" and %d more", len(ids)-10)
}
