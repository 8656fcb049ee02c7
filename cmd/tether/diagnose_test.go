package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// seedRefusals writes n refused attempts of a disabled device into the
// data folder's connection log, as the running hub records them.
func seedRefusals(t *testing.T, data, id string, n int) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(data, "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var recs []tether.LogRecord
	for i := range n {
		recs = append(recs, diag.ConnectionRecords(tether.ConnectionEvent{Kind: tether.EventConnectFailed,
			Time: time.Now().Add(-time.Duration(n-i) * time.Minute), DeviceID: id, RemoteAddr: "10.1.2.3:5000",
			Reason: tether.ReasonDeviceDisabled, Code: tether.DeviceDisabled, Detail: "device '" + id + "' is disabled"})...)
	}
	if err := st.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func TestDiagnoseCommand(t *testing.T) {
	data := t.TempDir()
	out := mustRun(t, "--data", data, "diagnose")
	if !strings.Contains(out, "0 connection-log rows") || !strings.Contains(out, "No problems found.") {
		t.Errorf("diagnose on an empty hub:\n%s", out)
	}

	// A device that is neither registered nor in the log: nothing to read,
	// which is said as such, not as a clean bill of health.
	out = mustRun(t, "--data", data, "diagnose", "no-such-device")
	if !strings.Contains(out, "no-such-device is not in the registry and has no connection-log rows") || strings.Contains(out, "No problems found") {
		t.Errorf("diagnose of an unknown device:\n%s", out)
	}

	mustRun(t, "--data", data, "device", "create", "old", "--status", "disabled")
	seedRefusals(t, data, "old", 4)
	out, err := run(t, "--data", data, "diagnose", "old")
	var status exitStatus
	if !errors.As(err, &status) || status != 3 {
		t.Errorf("diagnose with a warning: error %v, want exit status 3", err)
	}
	for _, want := range []string{"[WARNING] old: disabled, yet tried to connect 4 times", "Evidence:", "deviceConnect", "403012", "device_disabled",
		"10.1.2.XXX", "tether device enable old", "Docs: docs/errors.md#403012-devicedisabled"} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnose output lacks %q:\n%s", want, out)
		}
	}
	out, _ = run(t, "--data", data, "diagnose", "--since", "2h", "-o", "json")
	var d wire.Diagnosis
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("diagnose -o json: %v\n%s", err, out)
	}
	if d.Highest != "warning" || d.Rows != 4 || d.Until.Sub(d.Since) != 2*time.Hour {
		t.Errorf("diagnose -o json: highest %q, %d rows, window %v; want warning, 4, 2h", d.Highest, d.Rows, d.Until.Sub(d.Since))
	}

	for _, args := range [][]string{{"diagnose", "--since", "yesterday"}, {"diagnose", "a", "b"}} {
		if _, err := run(t, append([]string{"--data", data}, args...)...); err == nil || errors.As(err, &status) {
			t.Errorf("tether %v: %v; want a usage error", args, err)
		}
	}
}
