package doctor_test

import (
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// connectedThen seeds a day of healthy connections, then failures.
func connectedThen(h *history, dev string) time.Time {
	h.session(session{dev: dev, at: t0, d: 2 * time.Hour})
	return t0.Add(3 * time.Hour)
}

func TestAuthFailureAfterSuccess(t *testing.T) {
	t.Run("rotated key", func(t *testing.T) {
		h := newHistory(t)
		h.device("s1", tether.StatusEnabled)
		at := connectedThen(h, "s1")
		for i := range 3 {
			h.fail("s1", at.Add(time.Duration(i)*time.Minute), tether.ReasonAuthFailed,
				"sas: signature mismatch: the token matches neither the primary nor the secondary key of device \"s1\"", at.Add(time.Hour))
		}
		mustFind(t, h.diagnose("s1"), "auth-failure", wire.SeverityError, "key was rotated", "3 attempts", "old connection string")
	})
	t.Run("the same expired token", func(t *testing.T) {
		h := newHistory(t)
		h.device("s1", tether.StatusEnabled)
		at := connectedThen(h, "s1")
		se := at.Add(-10 * time.Minute).Truncate(time.Second)
		for i := range 4 {
			h.fail("s1", at.Add(time.Duration(i)*time.Minute), tether.ReasonCredentialExpired, "sas: token expired", se)
		}
		mustFind(t, h.diagnose("s1"), "auth-failure", wire.SeverityError, "same expired token", "reuses the old one")
	})
	t.Run("clock skew", func(t *testing.T) {
		h := newHistory(t)
		h.device("s1", tether.StatusEnabled)
		at := connectedThen(h, "s1")
		for i := range 4 {
			try := at.Add(time.Duration(i) * 3 * time.Minute)
			h.fail("s1", try, tether.ReasonCredentialExpired, "sas: token expired", try.Add(-2*time.Hour-time.Duration(i)*time.Second).Truncate(time.Second))
		}
		mustFind(t, h.diagnose("s1"), "auth-failure", wire.SeverityError, "clock skew", "~2h", "behind")
	})
	t.Run("recovered is a warning", func(t *testing.T) {
		h := newHistory(t)
		h.device("s1", tether.StatusEnabled)
		at := connectedThen(h, "s1")
		h.fail("s1", at, tether.ReasonAuthFailed, "sas: signature mismatch: x", time.Time{})
		h.session(session{dev: "s1", at: at.Add(time.Minute)})
		mustFind(t, h.diagnose("s1"), "auth-failure", wire.SeverityWarning, "connected again since")
	})
	t.Run("failures without an earlier success are not this pattern", func(t *testing.T) {
		h := newHistory(t)
		h.device("s1", tether.StatusEnabled)
		h.fail("s1", t0, tether.ReasonAuthFailed, "sas: signature mismatch: x", time.Time{})
		d := h.diagnose("s1")
		mustNotFind(t, d, "auth-failure")
		mustFind(t, d, "never-connected", wire.SeverityWarning, "never connected")
	})
}

func TestRetiredDevice(t *testing.T) {
	h := newHistory(t)
	h.device("old", tether.StatusDisabled)
	h.device("fine", tether.StatusEnabled)
	for i := range 6 {
		h.fail("old", t0.Add(time.Duration(i)*time.Second), tether.ReasonDeviceDisabled, "device 'old' is disabled", time.Time{})
	}
	// "gone" connected, was deleted while connected, and keeps trying.
	h.session(session{dev: "gone", at: t0, d: time.Hour, reason: tether.ReasonDeviceDeleted})
	for i := range 3 {
		h.fail("gone", t0.Add(time.Hour+time.Duration(i)*10*time.Second), tether.ReasonAuthFailed, "device 'gone' is not registered in this hub", time.Time{})
	}
	h.session(session{dev: "fine", at: t0, d: time.Hour})
	d := h.diagnose("")
	var disabled, deleted bool
	for _, f := range findings(d, "retired-device") {
		switch f.DeviceID {
		case "old":
			disabled = f.Severity == wire.SeverityWarning && f.Code == 403012 && len(f.Evidence) == 6
		case "gone":
			deleted = f.Severity == wire.SeverityWarning && f.Code == 404001 && len(f.Evidence) == 3
		case "fine":
			t.Errorf("an enabled, registered device was reported retired: %s", f.Title)
		}
	}
	if !disabled || !deleted {
		t.Errorf("retired findings: disabled %v, deleted %v; want both:\n%s", disabled, deleted, dump(d))
	}
	if fs := findings(d, "auth-failure"); len(fs) != 0 {
		t.Errorf("a deleted device's refusals were also read as an auth failure: %s", fs[0].Title)
	}
}
