package sim_test

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

// registry is the simulator's Registry over the service API.
type registry struct{ c *hubclient.Client }

func (r registry) DeviceKey(ctx context.Context, id string, create bool) (tether.Secret, error) {
	d, err := r.c.Device(ctx, id)
	if err != nil && create && tether.ErrorKind(err) == tether.KindNotFound {
		d, err = r.c.CreateDevice(ctx, wire.Device{DeviceID: id})
	}
	if err != nil {
		return "", err
	}
	return tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey), nil
}

func (r registry) SetEnabled(ctx context.Context, id string, enabled bool) error {
	d, err := r.c.Device(ctx, id)
	if err != nil {
		return err
	}
	d.Status = "disabled"
	if enabled {
		d.Status = "enabled"
	}
	_, err = r.c.UpdateDevice(ctx, d, "*")
	return err
}

func (r registry) SetPrimaryKey(ctx context.Context, id string, key tether.Secret) error {
	d, err := r.c.Device(ctx, id)
	if err != nil {
		return err
	}
	k := key.Reveal()
	d.Authentication.SymmetricKey.PrimaryKey = &k
	_, err = r.c.UpdateDevice(ctx, d, "*")
	return err
}

func TestFleetWithFaults(t *testing.T) {
	h := hubtest.Start(t)
	svc := h.Client(t, h.Owner)
	faults := []sim.FaultSpec{{Fault: sim.FaultWrongKey, Count: 1}, {Fault: sim.FaultDuplicate, Count: 1},
		{Fault: sim.FaultDrop, Count: 1}, {Fault: sim.FaultDisabled, Count: 1}, {Fault: sim.FaultClockSkew, Count: 1}}
	var progress int
	s, err := sim.New(sim.Options{
		Devices: 8, Create: true, Registry: registry{svc},
		HostName: "localhost", Addr: h.MQTTAddr().String(), CA: h.CAFile(),
		TelemetryInterval: 200 * time.Millisecond, Duration: 4 * time.Second, FaultInterval: 600 * time.Millisecond,
		Faults: faults, Progress: func(sim.Summary) { progress++ }, ProgressEvery: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.Text())
	if r.Clients != 9 {
		t.Errorf("clients = %d, want 9 (8 devices, one duplicated)", r.Clients)
	}
	// Healthy: sim-0005..7; the duplicate pair holds one connection at a
	// time; the dropped device is connected most of the time.
	if r.Connected < 4 {
		t.Errorf("connected at the end = %d, want at least 4", r.Connected)
	}
	if r.GaveUp != 2 || r.Failures["401003 IoTHubUnauthorized"] != 2 {
		t.Errorf("gave up %d, failures %v: want the wrong key and the skewed clock refused once each with 401003", r.GaveUp, r.Failures)
	}
	if r.Failures["503001 ServiceUnavailable"] < 2 {
		t.Errorf("failures %v: the disabled device should keep retrying (CONNACK 3)", r.Failures)
	}
	if r.Disconnects < 3 || r.Drops["404104 DeviceConnectionClosedRemotely"] < 3 {
		t.Errorf("drops %v: want takeovers and injected drops", r.Drops)
	}
	if r.TelemetrySent < 20 {
		t.Errorf("telemetry sent = %d, want at least 20", r.TelemetrySent)
	}
	if progress < 2 {
		t.Errorf("%d progress reports in 4s", progress)
	}
	if !strings.Contains(r.Text(), "fault wrong-key") {
		t.Errorf("report text lacks the faults:\n%s", r.Text())
	}
	d, err := svc.Device(context.Background(), "sim-0003")
	if err != nil || d.Status != "enabled" {
		t.Errorf("the disabled device was not re-enabled: %v %v", d.Status, err)
	}
}

func TestOptionsAreBounded(t *testing.T) {
	base := sim.Options{Devices: 1, Registry: registry{}, HostName: "localhost", Addr: "127.0.0.1:8883"}
	for name, mod := range map[string]func(*sim.Options){
		"too many devices": func(o *sim.Options) { o.Devices = sim.MaxDevices + 1 },
		"too long":         func(o *sim.Options) { o.Duration = 25 * time.Hour },
		"remote hub":       func(o *sim.Options) { o.Addr = "192.0.2.1:8883" },
		"faults > devices": func(o *sim.Options) { o.Faults = []sim.FaultSpec{{Fault: sim.FaultDrop, Count: 2}} },
	} {
		o := base
		mod(&o)
		if _, err := sim.New(o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := sim.ParseFault("bogus", 10); err == nil || !strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("ParseFault(bogus) = %v, want the list of faults", err)
	}
	if f, err := sim.ParseFault("drop:20%", 50); err != nil || f.Count != 10 {
		t.Errorf("ParseFault(drop:20%%, 50) = %+v, %v", f, err)
	}
}
