package alert

import (
	"context"
	"testing"

	"github.com/tether-iot/tether/internal/wire"
)

func TestExportPrometheus(t *testing.T) {
	f := mustEngine(t)
	f.mustPut(t, wire.AlertRule{Name: "low-devices", Metric: "connectedDeviceCount", Aggregation: "min", Operator: "lt",
		Threshold: ptr(90.0), Window: "5m", Frequency: "1m", Severity: 1, Description: `fleet "A" is dropping`})
	f.mustPut(t, wire.AlertRule{Name: "fleet.drop", Metric: "connectedDeviceCount", Aggregation: "avg", DropPercent: 20,
		Window: "10m", Frequency: "1m", PendingEvaluations: 3})
	f.mustPut(t, wire.AlertRule{Name: "no-telemetry", Metric: "d2c.telemetry.ingress.success", Aggregation: "total",
		Operator: "lt", Threshold: ptr(1.0), Window: "15m", Frequency: "5m"})
	f.mustPut(t, wire.AlertRule{Name: "bad-keys", Query: "AzureDiagnostics", Operator: "gt", Threshold: ptr(5.0), Window: "5m", Frequency: "1m"})
	got, err := f.e.ExportPrometheus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := `# Prometheus alerting rules exported by tether alert export --format prometheus.
# bad-keys: not exported: log rules (KQL) have no PromQL equivalent
groups:
  - name: "tether-fleet.drop"
    interval: 1m
    rules:
      - alert: "fleet_drop"
        expr: "avg_over_time(tether_connected_devices[10m]) <= 0.8 * avg_over_time(tether_connected_devices[10m] offset 10m)"
        for: 2m
        labels:
          severity: "0"
          tether_rule: "fleet.drop"
        annotations:
          summary: "avg connectedDeviceCount over 10m0s dropped by 20% or more against the previous 10m0s"
  - name: "tether-low-devices"
    interval: 1m
    rules:
      - alert: "low_devices"
        expr: "min_over_time(tether_connected_devices[5m]) < 90"
        labels:
          severity: "1"
          tether_rule: "low-devices"
        annotations:
          summary: "min connectedDeviceCount over 5m0s < 90"
          description: "fleet \"A\" is dropping"
  - name: "tether-no-telemetry"
    interval: 5m
    rules:
      - alert: "no_telemetry"
        expr: "sum(increase(tether_d2c_telemetry_ingress_success_total[15m])) < 1"
        labels:
          severity: "0"
          tether_rule: "no-telemetry"
        annotations:
          summary: "total d2c.telemetry.ingress.success over 15m0s < 1"
`
	if string(got) != want {
		t.Errorf("ExportPrometheus() =\n%s\nwant\n%s", got, want)
	}
}
