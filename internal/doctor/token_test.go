package doctor_test

import (
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestTokenExpiryPeriodic(t *testing.T) {
	h := newHistory(t)
	h.device("meter", tether.StatusEnabled)
	at := t0
	for range 5 {
		d := time.Hour + 5*time.Minute + time.Duration(at.Minute())*time.Second // expiry plus the 5-minute skew
		h.session(session{dev: "meter", at: at, d: d, reason: tether.ReasonCredentialExpired})
		at = at.Add(d + 2*time.Second)
	}
	h.session(session{dev: "meter", at: at})
	d := h.diagnose("meter")
	f := mustFind(t, d, "token-expiry", wire.SeverityWarning, "every ~1h5m", "401003 → 404104 → reconnect", "5 times", "renew")
	if f.Code != 401003 || f.Docs != "docs/errors.md#401003-iothubunauthorized" {
		t.Errorf("finding links %d %q; want the catalog's 401003 entry", f.Code, f.Docs)
	}
	// Both rows of each expiry (401003, then 404104) and the reconnect.
	var saw401, saw404 bool
	for _, e := range f.Evidence {
		saw401 = saw401 || e.ResultType == "401003"
		saw404 = saw404 || e.ResultType == "404104"
	}
	if !saw401 || !saw404 || f.More == 0 {
		t.Errorf("evidence lacks the 401003/404104 pair or the count of rows left out: %+v (more %d)", f.Evidence, f.More)
	}
}

func TestTokenExpiryOnceIsInfo(t *testing.T) {
	h := newHistory(t)
	h.device("meter", tether.StatusEnabled)
	h.session(session{dev: "meter", at: t0, d: 65 * time.Minute, reason: tether.ReasonCredentialExpired})
	h.session(session{dev: "meter", at: t0.Add(65*time.Minute + time.Second)})
	d := h.diagnose("meter")
	mustFind(t, d, "token-expiry", wire.SeverityInfo, "once")
	if d.Highest != wire.SeverityInfo {
		t.Errorf("one renewal at expiry: highest severity %q, want info:\n%s", d.Highest, dump(d))
	}
}

// TestHealthyFleetNoWarning is the false-positive test: devices renewing
// their tokens the Azure SDKs' way (a clean DISCONNECT and an immediate
// reconnect every 45 minutes) yield nothing above info.
func TestHealthyFleetNoWarning(t *testing.T) {
	h := newHistory(t)
	for i, id := range []string{"a", "b", "c", "d", "e", "f"} {
		h.device(id, tether.StatusEnabled)
		at := t0.Add(time.Duration(i) * 7 * time.Minute)
		for at.Before(now.Add(-45 * time.Minute)) {
			d := 45*time.Minute + time.Duration(i)*time.Second
			h.session(session{dev: id, at: at, d: d})
			at = at.Add(d + 800*time.Millisecond)
		}
		h.session(session{dev: id, at: at})
		h.presence(id, tether.Connected, now.Add(-time.Minute))
	}
	d := h.diagnose("")
	if wire.SeverityRank(d.Highest) > 0 {
		t.Errorf("a healthy fleet got %q findings:\n%s", d.Highest, dump(d))
	}
	if got := len(findings(d, "token-renewal")); got != 6 {
		t.Errorf("%d token-renewal findings, want one per device (6):\n%s", got, dump(d))
	}
}
