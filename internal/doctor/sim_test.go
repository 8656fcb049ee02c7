package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/sim"
	"github.com/tether-iot/tether/internal/wire"
)

// simRegistry is the simulator's registry over the service API.
type simRegistry struct{ c *hubclient.Client }

func (r simRegistry) DeviceKey(ctx context.Context, id string, create bool) (tether.Secret, error) {
	d, err := r.c.Device(ctx, id)
	if err != nil && create && tether.ErrorKind(err) == tether.KindNotFound {
		d, err = r.c.CreateDevice(ctx, wire.Device{DeviceID: id})
	}
	if err != nil {
		return "", err
	}
	return tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey), nil
}

func (r simRegistry) SetEnabled(ctx context.Context, id string, enabled bool) error {
	d, err := r.c.Device(ctx, id)
	if err != nil {
		return err
	}
	d.Status = map[bool]string{true: "enabled", false: "disabled"}[enabled]
	_, err = r.c.UpdateDevice(ctx, d, "*")
	return err
}

// TestSimulatedFaults runs the fleet simulator (the Go device SDK over
// real TLS connections) with injected faults against a real hub, then
// asks GET /v1/diagnose, and checks that each fault is named on the
// device it was injected into, and that the healthy devices get nothing.
func TestSimulatedFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 10-second simulation")
	}
	h := hubtest.Start(t)
	svc := h.Client(t, h.Owner)
	// Faults go to the first devices in order: sim-0000 duplicate,
	// sim-0001 disabled, sim-0002 clock-skew, sim-0003 no-jitter,
	// sim-0004 drop (with the SDK's jittered back-off); the rest are
	// healthy.
	s, err := sim.New(sim.Options{
		Devices: 8, Create: true, Registry: simRegistry{svc},
		HostName: "localhost", Addr: h.MQTTAddr().String(), CA: h.CAFile(),
		TelemetryInterval: time.Second, Duration: 10 * time.Second, FaultInterval: 400 * time.Millisecond,
		Faults: []sim.FaultSpec{{Fault: sim.FaultDuplicate, Count: 1}, {Fault: sim.FaultDisabled, Count: 1},
			{Fault: sim.FaultClockSkew, Count: 1}, {Fault: sim.FaultNoJitter, Count: 1},
			{Fault: sim.FaultDrop, Count: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.Text())
	h.FlushLogs(ctx)
	d, err := svc.Diagnose(ctx, "", "1h", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range d.Findings {
		t.Logf("[%s] %s: %s", f.Severity, f.Detector, f.Title)
	}
	want := map[string]string{"sim-0000": "takeover", "sim-0001": "retired-device", "sim-0002": "never-connected", "sim-0003": "backoff-no-jitter"}
	for dev, det := range want {
		if !has(d, det, dev) {
			t.Errorf("%s: no %s finding", dev, det)
		}
	}
	if has(d, "backoff-no-jitter", "sim-0004") {
		t.Error("sim-0004 reconnects with jitter but was flagged as having none")
	}
	if !has(d, "reconnect-loop", "sim-0004") {
		t.Error("sim-0004, dropped every ~400 ms, has no reconnect-loop finding")
	}
	for _, f := range d.Findings {
		if f.DeviceID >= "sim-0005" && wire.SeverityRank(f.Severity) > 0 {
			t.Errorf("healthy device %s got [%s] %s", f.DeviceID, f.Severity, f.Title)
		}
		if f.DeviceID == "sim-0002" && !strings.Contains(f.Title+f.Cause, "behind") {
			t.Errorf("clock-skew device: %s / %s; want the clock named", f.Title, f.Cause)
		}
	}
}

func has(d wire.Diagnosis, detector, device string) bool {
	for _, f := range d.Findings {
		if f.Detector == detector && f.DeviceID == device {
			return true
		}
	}
	return false
}
