package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tether-iot/tether/internal/wire"
)

// The alert commands on a local data folder: create, list, show, disable,
// enable, export, history, delete, and the errors of bad rules.
func TestAlertCommands(t *testing.T) {
	data := t.TempDir()
	out := mustRun(t, "--data", data, "alert", "create", "devices-low", "--metric", "connectedDeviceCount", "--aggregation", "min",
		"--operator", "lt", "--threshold", "90", "--window", "5m", "--frequency", "1m", "--severity", "1")
	if want := "created alert rule devices-low: min connectedDeviceCount over 5m < 90, every 1m"; !strings.HasPrefix(out, want) {
		t.Errorf("alert create printed %q, want %q...", out, want)
	}
	out = mustRun(t, "--data", data, "alert", "create", "bad-keys", "--query", `AzureDiagnostics | where ResultType == "401003"`,
		"--operator", "gt", "--threshold", "5", "--frequency", "10s")
	if want := "created alert rule bad-keys: rows of the query over 5m > 5, every 10s"; !strings.HasPrefix(out, want) {
		t.Errorf("alert create --query printed %q, want %q...", out, want)
	}
	mustRun(t, "--data", data, "alert", "create", "fleet-drop", "--metric", "connectedDeviceCount", "--drop-percent", "20", "--window", "10m")
	out = mustRun(t, "--data", data, "alert", "list")
	for _, want := range []string{"devices-low", "fleet-drop", "Inactive", "avg connectedDeviceCount over 10m drops by 20%"} {
		if !strings.Contains(out, want) {
			t.Errorf("alert list lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "--data", data, "-o", "json", "alert", "show", "devices-low")
	var r wire.AlertRule
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Severity != 1 || *r.Threshold != 90 || r.SignalType != "Metric" {
		t.Errorf("alert show -o json = %s, %v", out, err)
	}
	if out = mustRun(t, "--data", data, "alert", "disable", "devices-low"); !strings.Contains(out, "disabled alert rule devices-low (Disabled)") {
		t.Errorf("alert disable printed %q", out)
	}
	mustRun(t, "--data", data, "alert", "enable", "devices-low")
	out = mustRun(t, "--data", data, "alert", "export", "--format", "prometheus")
	if !strings.Contains(out, `expr: "min_over_time(tether_connected_devices[5m]) < 90"`) {
		t.Errorf("alert export lacks the devices-low rule:\n%s", out)
	}
	mustRun(t, "--data", data, "alert", "history", "devices-low")
	mustRun(t, "--data", data, "alert", "delete", "fleet-drop")
	if _, err := run(t, "--data", data, "alert", "show", "fleet-drop"); err == nil || !strings.Contains(err.Error(), "No alert rule named 'fleet-drop'") {
		t.Errorf("alert show of a deleted rule: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metric", "connectedDevices", "--operator", "lt", "--threshold", "1"}, `unknown metric "connectedDevices"; the metrics are: `},
		{[]string{"--metric", "connectedDeviceCount", "--operator", "lt", "--threshold", "1", "--frequency", "5s"}, "frequency 5s: the shortest is 10s"},
		{[]string{"--metric", "connectedDeviceCount", "--operator", "lt", "--threshold", "1", "--window", "1m", "--frequency", "5m"}, "window 1m0s is shorter than frequency 5m0s"},
		{[]string{"--metric", "connectedDeviceCount", "--operator", "below", "--threshold", "1"}, `operator "below"`},
		{[]string{"--metric", "connectedDeviceCount", "--operator", "lt"}, "a threshold is required"},
		{[]string{"--query", "AzureDiagnostics | wher x", "--operator", "gt", "--threshold", "5"}, "query does not compile: line 1, col"},
		{[]string{"--query", "AzureDiagnostics", "--operator", "gt", "--threshold", "5", "--action-group", "nobody"}, `no action group named "nobody"`},
	} {
		_, err := run(t, append([]string{"--data", data, "alert", "create", "bad"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("alert create %v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := run(t, "--data", data, "alert", "export", "--format", "yaml"); err == nil || !strings.Contains(err.Error(), "the one format is prometheus") {
		t.Errorf("export --format yaml: %v", err)
	}
}
