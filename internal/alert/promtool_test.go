package alert

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tether-iot/tether/internal/wire"
)

// needBinary returns the path of a program, skipping the test when it is
// missing, except under TETHER_REQUIRE_INTEROP=1 (CI), where it fails.
func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TETHER_REQUIRE_INTEROP") == "1" {
			t.Fatalf("%s is not installed (apt-get install prometheus) and TETHER_REQUIRE_INTEROP=1", name)
		}
		t.Skipf("%s is not installed (apt-get install prometheus)", name)
	}
	return p
}

// Prometheus' own checker accepts every exported rule.
func TestExportPassesPromtool(t *testing.T) {
	promtool := needBinary(t, "promtool")
	f := mustEngine(t)
	f.mustPut(t, wire.AlertRule{Name: "low-devices", Metric: "connectedDeviceCount", Aggregation: "min", Operator: "lt",
		Threshold: ptr(90.0), Window: "5m", Frequency: "1m", Severity: 1, Description: "quotes \" and \\ and\nnewlines"})
	f.mustPut(t, wire.AlertRule{Name: "fleet.drop", Metric: "connectedDeviceCount", Aggregation: "avg", DropPercent: 12.5,
		Window: "10m", Frequency: "10s", PendingEvaluations: 3})
	for i, agg := range aggregations {
		f.mustPut(t, wire.AlertRule{Name: "agg-" + agg, Metric: "connectedDeviceCount", Aggregation: agg, Operator: []string{"gt", "ge", "lt", "le", "eq"}[i],
			Threshold: ptr(1.5), Window: "90s", Frequency: "30s"})
	}
	f.mustPut(t, wire.AlertRule{Name: "no-telemetry", Metric: "d2c.telemetry.ingress.success", Aggregation: "total",
		Operator: "ne", Threshold: ptr(1e6), Window: "1h", Frequency: "5m"})
	f.mustPut(t, wire.AlertRule{Name: "bad-keys", Query: "AzureDiagnostics", Operator: "gt", Threshold: ptr(5.0), Window: "5m", Frequency: "1m"})
	out, err := f.e.ExportPrometheus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tether.rules.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s\nthe export:\n%s", err, res, out)
	}
	t.Logf("promtool: %s", res)
}
