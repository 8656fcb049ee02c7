package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// memSettings is a hub's DiagnosticSettings in memory, validated as the
// hub validates them.
type memSettings struct {
	mu sync.Mutex
	s  wire.DiagnosticSettings
}

func toDiag(in wire.DiagnosticSettings) diag.Settings {
	b, _ := json.Marshal(in)
	var s diag.Settings
	json.Unmarshal(b, &s)
	return s
}

func toWireSettings(s diag.Settings) wire.DiagnosticSettings {
	b, _ := json.Marshal(s.Normalized())
	var out wire.DiagnosticSettings
	json.Unmarshal(b, &out)
	return out
}

func (m *memSettings) DiagnosticSettings(context.Context) (wire.DiagnosticSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return toWireSettings(toDiag(m.s)), nil
}

func (m *memSettings) PutDiagnosticSettings(_ context.Context, in wire.DiagnosticSettings) (wire.DiagnosticSettings, error) {
	s := toDiag(in)
	if err := s.Validate(); err != nil {
		return wire.DiagnosticSettings{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = toWireSettings(s)
	return m.s, nil
}

// startSettingsHub serves the API with diagnostic settings over a real
// store and returns the CLI flags that reach it.
func startSettingsHub(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _ := sas.GenerateKey(nil)
	if err := st.PutPolicy(ctx, tether.Policy{Name: "iothubowner", PrimaryKey: key, SecondaryKey: key, Rights: tether.AllRights}); err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Hostname: "hub.test", Devices: st, Twins: st, Stats: st, Policy: st.Policy, Diagnostics: &memSettings{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	cs := sas.ConnectionString{HostName: "hub.test", KeyName: "iothubowner", Key: key}
	return []string{"--connection-string", cs.String(), "--api-url", srv.URL, "--data", t.TempDir()}
}

func TestDiagSettingsCommands(t *testing.T) {
	hub := startSettingsHub(t)
	out := mustRun(t, append(hub, "diag", "settings", "show")...)
	for _, want := range []string{"CATEGORY", "Connections", "on", "DeviceTelemetry", "store:  on", "file:   off", "http:   off"} {
		if !strings.Contains(out, want) {
			t.Errorf("show does not print %q:\n%s", want, out)
		}
	}
	file := filepath.Join(t.TempDir(), "diag.jsonl")
	out = mustRun(t, append(hub, "diag", "settings", "set", "--category", "Connections=off,DirectMethods=off", "--file", file,
		"--file-max-files", "3", "--http", "https://logs.example/in")...)
	for _, want := range []string{"file:   " + file + " (rotated at 100 MB, 3 rotated files kept)", "http:   POST https://logs.example/in (3 retries, 10s timeout)"} {
		if !strings.Contains(out, want) {
			t.Errorf("set does not print %q:\n%s", want, out)
		}
	}
	var s wire.DiagnosticSettings
	if err := json.Unmarshal([]byte(mustRun(t, append(hub, "-o", "json", "diag", "settings", "show")...)), &s); err != nil {
		t.Fatal(err)
	}
	d := toDiag(s)
	if d.Enabled("Connections") || d.Enabled("DirectMethods") || !d.Enabled("C2DCommands") || s.File == nil || s.File.MaxFiles != 3 || s.HTTP == nil {
		t.Errorf("settings after set: %+v", s)
	}
	// Flags that are not given leave things as they are.
	mustRun(t, append(hub, "diag", "settings", "set", "--category", "connections=on", "--no-http", "--file-max-size-mb", "5")...)
	s = wire.DiagnosticSettings{}
	json.Unmarshal([]byte(mustRun(t, append(hub, "-o", "json", "diag", "settings", "show")...)), &s)
	d = toDiag(s)
	if !d.Enabled("Connections") || d.Enabled("DirectMethods") || s.HTTP != nil || s.File == nil || s.File.Path != file || s.File.MaxSizeMB != 5 || s.File.MaxFiles != 3 {
		t.Errorf("settings after the second set: %+v", s)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"set"}, "at least one change"},
		{[]string{"set", "--category", "Connections"}, "CATEGORY=on"},
		{[]string{"set", "--category", "Connections=maybe"}, "CATEGORY=on"},
		{[]string{"set", "--file", "/x", "--no-file"}, "not both"},
		{[]string{"set", "--store", "sometimes"}, "on or off"},
		{[]string{"set", "--file", "relative.jsonl"}, "absolute"},
		{[]string{"set", "--http-retries", "2"}, "need --http"},
	} {
		_, err := run(t, append(append(hub, "diag", "settings"), tc.args...)...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("diag settings %v = %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	_, err := run(t, append(hub, "diag", "settings", "set", "--category", "Routes=on")...)
	if tether.ErrorCode(err) != tether.ArgumentInvalid || !strings.Contains(err.Error(), "Connections, DeviceIdentityOperations") {
		t.Errorf("unknown category: %v", err)
	}
	_, err = run(t, append(hub, "diag", "settings", "set", "--http", "ftp://x")...)
	if tether.ErrorCode(err) != tether.ArgumentInvalid {
		t.Errorf("ftp URL: %v", err)
	}
}

// TestDiagSettingsStored: with no hub running on --data, the settings are
// stored there for the next start.
func TestDiagSettingsStored(t *testing.T) {
	data := t.TempDir()
	t.Chdir(t.TempDir())
	out := mustRun(t, "--data", data, "diag", "settings", "set", "--store", "off", "--file", "logs.jsonl")
	abs, _ := filepath.Abs("logs.jsonl")
	if !strings.Contains(out, "store:  off") || !strings.Contains(out, "file:   "+abs) || !strings.Contains(out, "next start") {
		t.Errorf("set printed:\n%s", out)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Errorf("the file was not checked writable: %v", err)
	}
	out = mustRun(t, "--data", data, "diag", "settings", "show")
	if !strings.Contains(out, "store:  off") || !strings.Contains(out, "next start") {
		t.Errorf("show printed:\n%s", out)
	}
}

// TestMetricsCommand reads a running hub's metrics through --data.
func TestMetricsCommand(t *testing.T) {
	h := hubtest.Start(t)
	data := h.Config.DataDir
	if _, err := h.Client(t, h.Owner).CreateDevice(context.Background(), wire.Device{DeviceID: "m1"}); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "--data", data, "metrics")
	for _, want := range []string{"AZURE METRIC", "connectedDeviceCount", "tether_connected_devices", "d2c.telemetry.ingress.success",
		"deviceDataUsage", "0 B", "tether_diag_log_queue"} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics does not print %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "go_goroutines") {
		t.Error("metrics prints the Go runtime's metrics without --all")
	}
	if out := mustRun(t, "--data", data, "metrics", "--all"); !strings.Contains(out, "go_goroutines") {
		t.Error("metrics --all does not print go_goroutines")
	}
	var vals []metricValue
	if err := json.Unmarshal([]byte(mustRun(t, "--data", data, "-o", "json", "metrics")), &vals); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vals {
		if v.Azure == "totalDeviceCount" {
			found = true
		}
	}
	if !found {
		t.Errorf("json metrics lack totalDeviceCount: %+v", vals)
	}
	if _, err := run(t, "--data", t.TempDir(), "metrics"); err == nil || !strings.Contains(err.Error(), "no tether serve is running") {
		t.Errorf("metrics with no hub: %v", err)
	}
}
