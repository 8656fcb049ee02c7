package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/wire"
)

// connectRC opens a TLS connection, sends CONNECT for id and returns the
// CONNACK return code.
func connectRC(t *testing.T, h *hubtest.Hub, id string, key tether.Secret) (*mqttDevice, byte) {
	t.Helper()
	d := dialRaw(t, h)
	d.sendConnect(id, key, "")
	return d, d.expect(packets.Connack).ReasonCode
}

// TestDiagnoseEndToEnd provokes two patterns through the real gateway (a
// takeover between two live connections, a disabled device retrying) and
// checks that GET /v1/diagnose names them, with the rows as evidence.
func TestDiagnoseEndToEnd(t *testing.T) {
	h := hubtest.Start(t)
	ctx := context.Background()
	c := h.Client(t, h.Owner)
	key := func(d wire.Device) tether.Secret {
		return tether.Secret(wire.Deref(d.Authentication.SymmetricKey.PrimaryKey))
	}
	cam, err := c.CreateDevice(ctx, wire.Device{DeviceID: "twin-cam"})
	if err != nil {
		t.Fatal(err)
	}
	old, err := c.CreateDevice(ctx, wire.Device{DeviceID: "retired", Status: "disabled"})
	if err != nil {
		t.Fatal(err)
	}

	// Two clients with one identity: each connect throws the other out.
	for range 3 {
		if _, rc := connectRC(t, h, "twin-cam", key(cam)); rc != 0 {
			t.Fatalf("twin-cam CONNACK %d", rc)
		}
	}
	// A disabled device that keeps trying.
	for range 3 {
		if _, rc := connectRC(t, h, "retired", key(old)); rc != 3 {
			t.Fatalf("disabled device: CONNACK %d, want 3", rc)
		}
	}

	var d wire.Diagnosis
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.FlushLogs(ctx)
		if d, err = c.Diagnose(ctx, "", "1h", ""); err != nil {
			t.Fatal(err)
		}
		// A refused attempt's record is queued when its connection closes,
		// which may come after the CONNACK the test read: wait until every
		// attempt is in the findings, not merely until both are named.
		if (hasTitle(d, "takeover", "twin-cam", "2 takeovers") && hasTitle(d, "retired-device", "retired", "3 times")) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, f := range d.Findings {
		switch {
		case f.Detector == "takeover" && f.DeviceID == "twin-cam":
			if f.Severity != wire.SeverityError || !strings.Contains(f.Title, "2 takeovers of live connections") || f.Code != 400027 {
				t.Errorf("takeover finding: [%s] %s (code %d); want an error naming 2 takeovers of live connections", f.Severity, f.Title, f.Code)
			}
			taken := 0
			for _, e := range f.Evidence {
				if e.Reason == "session_taken_over" && e.ResultType == "400027" {
					taken++
				}
			}
			if taken != 2 {
				t.Errorf("takeover evidence has %d session_taken_over rows, want 2: %+v", taken, f.Evidence)
			}
		case f.Detector == "retired-device" && f.DeviceID == "retired":
			if f.Severity != wire.SeverityWarning || !strings.Contains(f.Title, "disabled, yet tried to connect 3 times") || len(f.Evidence) != 3 {
				t.Errorf("retired finding: [%s] %s with %d rows; want a warning about 3 attempts", f.Severity, f.Title, len(f.Evidence))
			}
		}
	}
	if !has(d, "takeover", "twin-cam") || !has(d, "retired-device", "retired") {
		t.Fatalf("diagnose did not name both patterns; findings:\n%+v", d.Findings)
	}
	if d.Highest != wire.SeverityError {
		t.Errorf("highest severity %q, want error", d.Highest)
	}

	// One device's view, and a bad window.
	one, err := c.Diagnose(ctx, "retired", "1h", "")
	if err != nil || one.DeviceID != "retired" || has(one, "takeover", "twin-cam") || !has(one, "retired-device", "retired") {
		t.Errorf("Diagnose(retired) = %+v, %v; want only the retired device's findings", one.Findings, err)
	}
	if _, err := c.Diagnose(ctx, "", "forever", ""); tether.ErrorCode(err) != tether.ArgumentInvalid {
		t.Errorf("since=forever: %v; want 400004 ArgumentInvalid", err)
	}
}

func hasTitle(d wire.Diagnosis, detector, device, title string) bool {
	for _, f := range d.Findings {
		if f.Detector == detector && f.DeviceID == device && strings.Contains(f.Title, title) {
			return true
		}
	}
	return false
}

func has(d wire.Diagnosis, detector, device string) bool {
	for _, f := range d.Findings {
		if f.Detector == detector && f.DeviceID == device {
			return true
		}
	}
	return false
}
