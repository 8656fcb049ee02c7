package doctor_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// fleet registers n devices d0…, each connected since t0.
func fleet(h *history, n int) []string {
	var ids []string
	for i := range n {
		id := fmt.Sprintf("d%d", i)
		h.device(id, tether.StatusEnabled)
		ids = append(ids, id)
	}
	return ids
}

func TestFleetDrop(t *testing.T) {
	drop := t0.Add(5 * time.Hour)
	t.Run("network outage with hub faults and a throttled wave", func(t *testing.T) {
		h := newHistory(t)
		for i, id := range fleet(h, 10) {
			if i < 8 {
				h.session(session{dev: id, at: t0, d: drop.Sub(t0) + time.Duration(i)*2*time.Second, reason: tether.ReasonConnectionLost})
				h.session(session{dev: id, at: drop.Add(2 * time.Minute)})
			} else {
				h.session(session{dev: id, at: t0})
			}
		}
		h.fail("d1", drop.Add(time.Minute), tether.ReasonServerError, "registry lookup failed", time.Time{})
		h.fail("d2", drop.Add(90*time.Second), tether.ReasonThrottled, "connect rate over the limit", time.Time{})
		if err := h.st.WriteMetrics(context.Background(), []store.MetricSample{
			{Time: drop.Add(-2 * time.Minute), Name: "connectedDeviceCount", Min: 10, Max: 10, Average: 10, Total: 10, Count: 1},
			{Time: drop.Truncate(time.Minute), Name: "connectedDeviceCount", Min: 2, Max: 10, Average: 5, Total: 5, Count: 1},
		}); err != nil {
			t.Fatal(err)
		}
		f := mustFind(t, h.diagnose(""), "fleet-drop", wire.SeverityCritical, "8 of 10 devices", "connection_lost ×8",
			"1 fault", "throttled", "connectedDeviceCount fell from 10 to 2")
		if len(f.Devices) != 8 {
			t.Errorf("devices %v, want the 8 that dropped", f.Devices)
		}
	})
	t.Run("hub restart", func(t *testing.T) {
		h := newHistory(t)
		for _, id := range fleet(h, 6) {
			h.session(session{dev: id, at: t0, d: drop.Sub(t0), reason: tether.ReasonServerShutdown})
		}
		mustFind(t, h.diagnose(""), "fleet-drop", wire.SeverityWarning, "restarted")
	})
	t.Run("drops spread over the day are not fleet-wide", func(t *testing.T) {
		h := newHistory(t)
		for i, id := range fleet(h, 8) {
			h.session(session{dev: id, at: t0, d: time.Duration(i+1) * time.Hour, reason: tether.ReasonConnectionLost})
		}
		d := h.diagnose("")
		mustNotFind(t, d, "fleet-drop")
		// Nor is a device's own view hub-wide.
		mustNotFind(t, h.diagnose("d1"), "fleet-drop")
	})
}

func TestConnectStormAndThrottling(t *testing.T) {
	h := newHistory(t)
	ids := fleet(h, 150)
	storm := t0.Add(6 * time.Hour)
	for i, id := range ids {
		at := storm.Add(time.Duration(i) * 300 * time.Millisecond)
		if i%5 == 0 {
			h.fail(id, at, tether.ReasonThrottled, "over the connect rate", time.Time{})
			at = at.Add(time.Second)
		}
		h.session(session{dev: id, at: at})
	}
	d := h.diagnose("")
	f := mustFind(t, d, "connect-storm", wire.SeverityWarning, "150 devices", "30 refused, 30 throttled")
	if f.Code != 429001 {
		t.Errorf("storm code %d, want 429001", f.Code)
	}
	thr := mustFind(t, d, "throttling", wire.SeverityWarning, "429005 ×30")
	if len(thr.Devices) != 30 || thr.More != 30-12 {
		t.Errorf("throttling finding: %d devices, %d more rows; want 30 and 18", len(thr.Devices), thr.More)
	}

	calm := newHistory(t)
	for i, id := range fleet(calm, 150) {
		calm.session(session{dev: id, at: t0.Add(time.Duration(i) * 9 * time.Minute)})
	}
	d = calm.diagnose("")
	mustNotFind(t, d, "connect-storm")
	mustNotFind(t, d, "throttling")
}

func TestNeverConnectedAndSilent(t *testing.T) {
	h := newHistory(t)
	for _, id := range []string{"new1", "new2", "tries", "mute", "chatty", "off"} {
		status := tether.StatusEnabled
		if id == "off" {
			status = tether.StatusDisabled
		}
		h.device(id, status)
	}
	h.fail("tries", t0, tether.ReasonAuthFailed, "sas: signature mismatch: x", time.Time{})
	h.session(session{dev: "mute", at: t0})
	h.presence("mute", tether.Connected, now.Add(-3*time.Hour))
	h.session(session{dev: "chatty", at: t0})
	h.presence("chatty", tether.Connected, now.Add(-5*time.Minute))
	d := h.diagnose("")
	silent := mustFind(t, d, "silent", wire.SeverityWarning, "mute", "silent for 3h")
	if silent.DeviceID != "mute" {
		t.Errorf("silent device %q, want mute", silent.DeviceID)
	}
	var tries, quiet bool
	for _, f := range findings(d, "never-connected") {
		tries = tries || f.DeviceID == "tries" && f.Severity == wire.SeverityWarning && len(f.Evidence) == 1
		quiet = quiet || f.Severity == wire.SeverityInfo && strings.HasPrefix(f.Title, "2 enabled devices never connected") && strings.Join(f.Devices, ",") == "new1,new2"
	}
	if !tries || !quiet {
		t.Errorf("never-connected: a warning for the device whose every attempt failed %v, info for new1 and new2 %v:\n%s", tries, quiet, dump(d))
	}
	if strings.Contains(dump(d), "off") {
		t.Errorf("a disabled device was reported:\n%s", dump(d))
	}
}
