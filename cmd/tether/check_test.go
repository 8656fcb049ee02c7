package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tether-iot/tether/internal/check"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/sim"
	"github.com/tether-iot/tether/internal/wire"
)

func TestCheckCommand(t *testing.T) {
	h := hubtest.Start(t)
	d, err := h.Client(t, h.Owner).CreateDevice(context.Background(), wire.Device{DeviceID: "dev-1"})
	if err != nil {
		t.Fatal(err)
	}
	cs := "HostName=localhost;DeviceId=dev-1;SharedAccessKey=" + *d.Authentication.SymmetricKey.PrimaryKey
	common := []string{"check", "--addr", h.MQTTAddr().String(), "--ca", h.CAFile(), "--api-url", h.URL}

	out := mustRun(t, append(common, "--connection-string", cs, "--service-connection-string", h.Owner.String(), "-o", "json")...)
	var r check.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("check -o json printed %q: %v", out, err)
	}
	if !r.OK() || len(r.Steps) != 9 || r.Steps[7].Name != "method" || r.Steps[7].Status != check.Pass {
		t.Errorf("check report = %+v", r)
	}

	bad := strings.Replace(cs, "SharedAccessKey=", "SharedAccessKey=AAAA", 1)
	out, err = run(t, append(common, "--connection-string", bad)...)
	var status exitStatus
	if !errors.As(err, &status) || status != 1 {
		t.Errorf("check with a wrong key: err = %v, want exit status 1", err)
	}
	for _, want := range []string{"FAIL  mqtt-connect", "401003 IoTHubUnauthorized", "fix: check the device's key", "see: docs/errors.md#401003"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	if _, err := run(t, "check", "--connection-string", h.Owner.String()); err == nil || !strings.Contains(err.Error(), "device connection string") {
		t.Errorf("check with a policy string: %v, want a usage error", err)
	}
}

func TestSimulateCommand(t *testing.T) {
	h := hubtest.Start(t)
	out := mustRun(t, "--connection-string", h.Owner.String(), "--api-url", h.URL, "--ca", h.CAFile(),
		"simulate", "--devices", "3", "--create", "--duration", "2s", "--telemetry-interval", "200ms",
		"--mqtt-addr", h.MQTTAddr().String(), "--fault", "wrong-key", "-q", "-o", "json")
	var r sim.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("simulate -o json printed %q: %v", out, err)
	}
	if r.Devices != 3 || r.Connected != 2 || r.GaveUp != 1 || r.TelemetrySent == 0 {
		t.Errorf("simulate report = %+v", r.Summary)
	}
	if _, err := run(t, "--connection-string", h.Owner.String(), "--api-url", h.URL, "simulate", "--fault", "nope"); err == nil {
		t.Error("simulate accepted an unknown fault")
	}
}
