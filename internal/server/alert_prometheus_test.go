package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/wire"
)

// needBinary returns a program's path; a missing one skips the test,
// except under TETHER_REQUIRE_INTEROP=1 (CI), where it fails.
func needBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TETHER_REQUIRE_INTEROP") == "1" {
			t.Fatalf("%s is not installed (apt-get install %s) and TETHER_REQUIRE_INTEROP=1", name, pkg)
		}
		t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A real Prometheus scrapes a live hub's /metrics and evaluates the rules
// "tether alert export --format prometheus" wrote: the rule on the
// connected-device count fires there too.
func TestPrometheusFiresExportedRule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus for up to a minute")
	}
	prom := needBinary(t, "prometheus", "prometheus")
	h := hubtest.Start(t)
	c := h.Client(t, h.Owner)
	ctx := context.Background()
	connectFleet(t, h, c, 2)
	if _, _, err := c.PutAlertRule(ctx, wire.AlertRule{Name: "devices-low", Metric: "connectedDeviceCount", Aggregation: "min",
		Operator: "lt", Threshold: ptrf(3), Window: "10s", Frequency: "10s", Severity: 1, Description: "fewer than 3 devices"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PutAlertRule(ctx, wire.AlertRule{Name: "devices-high", Metric: "connectedDeviceCount", Aggregation: "max",
		Operator: "gt", Threshold: ptrf(100), Window: "10s", Frequency: "10s"}); err != nil {
		t.Fatal(err)
	}
	rules, err := c.ExportAlertRules(ctx, "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tether.rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: tether
    scheme: https
    tls_config:
      ca_file: %q
      server_name: localhost
    static_configs:
      - targets: [%q]
`, filepath.Join(dir, "tether.rules.yml"), h.CAFile(), h.HTTPSAddr().String())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	pctx, stop := context.WithCancel(ctx)
	cmd := exec.CommandContext(pctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	out, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Logf("prometheus log:\n%s", b)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		alerts, err := promAlerts(addr)
		if err == nil {
			if a, ok := alerts["devices_low"]; ok && a.State == "firing" {
				if a.Labels["severity"] != "1" || a.Labels["tether_rule"] != "devices-low" {
					t.Errorf("firing alert labels = %v", a.Labels)
				}
				if _, ok := alerts["devices_high"]; ok {
					t.Errorf("devices_high is active too: %+v", alerts)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("devices_low not firing in Prometheus after 60s: %v, %v", alerts, err)
		}
		time.Sleep(time.Second)
	}
}

type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// promAlerts reads Prometheus' active alerts by name.
func promAlerts(addr string) (map[string]promAlert, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := map[string]promAlert{}
	for _, a := range body.Data.Alerts {
		out[a.Labels["alertname"]] = a
	}
	return out, nil
}
