package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/sim"
)

// TestFaultsReachTheHubLog runs each fault against a real hub and checks
// that the hub's connection log records the reason a real fleet with that
// problem would cause: what tether diagnose reads.
func TestFaultsReachTheHubLog(t *testing.T) {
	h := hubtest.Start(t)
	faults := []sim.FaultSpec{{Fault: sim.FaultDrop, Count: 1}, {Fault: sim.FaultSilence, Count: 1}, {Fault: sim.FaultDuplicate, Count: 1},
		{Fault: sim.FaultWrongKey, Count: 1}, {Fault: sim.FaultClockSkew, Count: 1}, {Fault: sim.FaultDisabled, Count: 1}, {Fault: sim.FaultRotatedKey, Count: 1}}
	s, err := sim.New(sim.Options{
		Devices: 8, Create: true, Registry: registry{h.Client(t, h.Owner)},
		HostName: "localhost", Addr: h.MQTTAddr().String(), CA: h.CAFile(),
		Duration: 6 * time.Second, FaultInterval: time.Second, KeepAlive: 2 * time.Second, Faults: faults,
	})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := registry{h.Client(t, h.Owner)}.DeviceKey(context.Background(), "sim-0006", true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.Text())
	h.FlushLogs(context.Background())
	want := map[string]string{
		"sim-0000": "connection_lost",
		"sim-0001": "keepalive_timeout",
		"sim-0002": "session_taken_over",
		"sim-0003": "auth_failed",
		"sim-0004": "credential_expired",
		"sim-0005": "device_disabled",
		"sim-0006": "auth_failed",
	}
	for dev, reason := range want {
		var n int
		err := h.LogsDB().QueryRow(`SELECT count(*) FROM AzureDiagnostics WHERE _DeviceId = ? AND _Reason = ?`, dev, reason).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s (%s): no %s row in the hub's connection log", dev, fault(r, dev), reason)
		}
	}
	// The rotated key: connected first, refused after.
	var before int
	if err := h.LogsDB().QueryRow(`SELECT count(*) FROM AzureDiagnostics WHERE _DeviceId = 'sim-0006' AND OperationName = 'deviceConnect' AND _Reason = ''`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before == 0 {
		t.Error("sim-0006 (rotated-key) never connected before its key changed")
	}
	d, err := h.Client(t, h.Owner).Device(context.Background(), "sim-0006")
	if err != nil || *d.Authentication.SymmetricKey.PrimaryKey != orig.Reveal() {
		t.Errorf("sim-0006's key was not restored after the run (%v)", err)
	}
	var healthy int
	if err := h.LogsDB().QueryRow(`SELECT count(*) FROM AzureDiagnostics WHERE _DeviceId = 'sim-0007' AND _Reason NOT IN ('', 'client_disconnect')`).Scan(&healthy); err != nil {
		t.Fatal(err)
	}
	if healthy != 0 {
		var reason, detail string
		h.LogsDB().QueryRow(`SELECT _Reason, properties_s FROM AzureDiagnostics WHERE _DeviceId = 'sim-0007' AND _Reason NOT IN ('', 'client_disconnect')`).Scan(&reason, &detail)
		t.Errorf("the healthy device has %d rows with a failure reason: %s %s", healthy, reason, detail)
	}
}

func fault(r *sim.Report, dev string) sim.Fault {
	for _, f := range r.Faults {
		for _, d := range f.Devices {
			if d == dev {
				return f.Fault
			}
		}
	}
	return ""
}
