package doctor_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestKeepAliveCluster(t *testing.T) {
	h := newHistory(t)
	h.device("gw", tether.StatusEnabled)
	at := t0
	for i := range 4 {
		d := 6*time.Minute + time.Duration(i*7)*time.Second
		h.session(session{dev: "gw", at: at, d: d, reason: tether.ReasonKeepAliveTimeout, keepAlive: 4 * time.Minute, idle: 6 * time.Minute})
		at = at.Add(d + 30*time.Second)
	}
	f := mustFind(t, h.diagnose("gw"), "keepalive-cluster", wire.SeverityWarning, "4 keep-alive timeouts", "after ~6m", "NAT", "(4m)")
	if f.Code != 404104 {
		t.Errorf("code %d, want 404104", f.Code)
	}
}

func TestKeepAliveScatteredIsNotAPattern(t *testing.T) {
	h := newHistory(t)
	h.device("gw", tether.StatusEnabled)
	at := t0
	for _, d := range []time.Duration{5 * time.Minute, 40 * time.Minute, 2 * time.Hour, 13 * time.Minute, 77 * time.Minute} {
		h.session(session{dev: "gw", at: at, d: d, reason: tether.ReasonKeepAliveTimeout})
		at = at.Add(d + time.Minute)
	}
	mustNotFind(t, h.diagnose("gw"), "keepalive-cluster")
}

func TestTakeoverAlternatingAddresses(t *testing.T) {
	h := newHistory(t)
	h.device("cam", tether.StatusEnabled)
	at := t0
	for i := range 5 {
		ip := []string{"192.168.1.20", "172.16.4.9"}[i%2]
		h.session(session{dev: "cam", ip: ip, at: at, d: 3 * time.Minute, reason: tether.ReasonSessionTakenOver, idle: 10 * time.Second})
		at = at.Add(3 * time.Minute)
	}
	h.session(session{dev: "cam", ip: "192.168.1.20", at: at})
	f := mustFind(t, h.diagnose("cam"), "takeover", wire.SeverityError, "alternating between 172.16.4.XXX and 192.168.1.XXX", "two devices share")
	if f.Code != 400027 {
		t.Errorf("code %d, want 400027", f.Code)
	}
}

func TestTakeoverOnceIsInfo(t *testing.T) {
	h := newHistory(t)
	h.device("cam", tether.StatusEnabled)
	// The old connection had been silent for 10 minutes: a dead link the
	// device replaced.
	h.session(session{dev: "cam", at: t0, d: time.Hour, reason: tether.ReasonSessionTakenOver, idle: 10 * time.Minute})
	h.session(session{dev: "cam", ip: "10.0.0.9", at: t0.Add(time.Hour)})
	d := h.diagnose("cam")
	mustFind(t, d, "takeover", wire.SeverityInfo, "one takeover")
	if wire.SeverityRank(d.Highest) > 0 {
		t.Errorf("a single takeover raised %q:\n%s", d.Highest, dump(d))
	}
}

func TestReconnectLoop(t *testing.T) {
	h := newHistory(t)
	h.device("pump", tether.StatusEnabled)
	at := t0
	for range 12 {
		h.session(session{dev: "pump", at: at, d: 20 * time.Second, reason: tether.ReasonProtocolError})
		at = at.Add(4 * time.Minute)
	}
	mustFind(t, h.diagnose("pump"), "reconnect-loop", wire.SeverityWarning, "flapping score 12", "protocol_error (12 of 12)")

	h2 := newHistory(t)
	h2.device("pump", tether.StatusEnabled)
	for i := range 3 {
		h2.session(session{dev: "pump", at: t0.Add(time.Duration(i) * time.Hour), d: 20 * time.Second, reason: tether.ReasonConnectionLost})
	}
	mustNotFind(t, h2.diagnose("pump"), "reconnect-loop")
}

// retries seeds failed attempts at the given intervals, then a success.
func retries(h *history, dev string, ivs []time.Duration) {
	at := t0
	for _, iv := range ivs {
		h.fail(dev, at, tether.ReasonServerError, "registry lookup failed", time.Time{})
		at = at.Add(iv)
	}
	h.session(session{dev: dev, at: at})
}

func TestBackoffWithoutJitter(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name  string
		ivs   []time.Duration
		words []string
	}{
		{"fixed", []time.Duration{5 * s, 5 * s, 5 * s, 5 * s, 5 * s, 5 * s, 5 * s}, []string{"every retry after 5s"}},
		{"doubling", []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 32 * s, 32 * s}, []string{"exactly 2×", "from 1s up to 32s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistory(t)
			h.device("d", tether.StatusEnabled)
			retries(h, "d", tc.ivs)
			mustFind(t, h.diagnose("d"), "backoff-no-jitter", wire.SeverityWarning, tc.words...)
		})
	}
	t.Run("full jitter is not flagged", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for seed := range 20 {
			h := newHistory(t)
			h.device("d", tether.StatusEnabled)
			var ivs []time.Duration
			for i := range 8 {
				ceil := min(60*s, s<<i)
				ivs = append(ivs, 100*time.Millisecond+time.Duration(r.Int64N(int64(ceil))))
			}
			retries(h, "d", ivs)
			if fs := findings(h.diagnose("d"), "backoff-no-jitter"); len(fs) != 0 {
				t.Errorf("seed %d: jittered intervals %v flagged: %s", seed, ivs, fs[0].Title)
			}
		}
	})
}

// drops seeds connections that drop and reconnect after the given delays.
func drops(h *history, dev string, delays []time.Duration) {
	at := t0
	for _, d := range delays {
		h.session(session{dev: dev, at: at, d: 10 * time.Minute, reason: tether.ReasonConnectionLost})
		at = at.Add(10*time.Minute + d)
	}
	h.session(session{dev: dev, at: at})
}

func TestReconnectDelayWithoutJitter(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	setup := func() time.Duration { return 2*time.Millisecond + time.Duration(r.Int64N(int64(15*time.Millisecond))) }
	h := newHistory(t)
	h.device("d", tether.StatusEnabled)
	var fixed []time.Duration
	for range 10 {
		fixed = append(fixed, 100*time.Millisecond+setup())
	}
	drops(h, "d", fixed)
	mustFind(t, h.diagnose("d"), "backoff-no-jitter", wire.SeverityWarning, "every reconnect after a dropped connection")

	for seed := range 20 {
		h := newHistory(t)
		h.device("d", tether.StatusEnabled)
		var jittered []time.Duration
		for range 10 {
			jittered = append(jittered, time.Duration(r.Int64N(int64(100*time.Millisecond)))+setup())
		}
		drops(h, "d", jittered)
		if fs := findings(h.diagnose("d"), "backoff-no-jitter"); len(fs) != 0 {
			t.Errorf("seed %d: jittered reconnect delays %v flagged: %s", seed, jittered, fs[0].Title)
		}
	}
}

func TestTakeoverLoopIsOneFinding(t *testing.T) {
	h := newHistory(t)
	h.device("cam", tether.StatusEnabled)
	at := t0
	for range 20 {
		h.session(session{dev: "cam", at: at, d: 5 * time.Second, reason: tether.ReasonSessionTakenOver, idle: time.Second})
		at = at.Add(5 * time.Second)
	}
	d := h.diagnose("cam")
	mustFind(t, d, "takeover", wire.SeverityError, "20 takeovers of live connections")
	mustNotFind(t, d, "reconnect-loop")
}
