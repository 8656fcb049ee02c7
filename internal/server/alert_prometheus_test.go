package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/metrics"
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
				checkDashboard(t, addr, h.URL+"/metrics", h.HTTP)
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

// checkDashboard runs every query of docs/grafana-dashboard.json on the
// Prometheus at addr (which must accept it) and checks that every metric
// it names is on the hub's /metrics (or, for a labelled counter with no
// series yet, in the hub's list of metrics).
func checkDashboard(t *testing.T, addr, metricsURL string, hc *http.Client) {
	t.Helper()
	b, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	resp, err := hc.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	names := regexp.MustCompile(`\b(tether_[a-z0-9_]+|process_[a-z_]+|go_[a-z_]+)\b`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			n++
			for _, name := range names.FindAllString(tg.Expr, -1) {
				if !strings.Contains(string(exposition), "\n"+name) && !slices.ContainsFunc(metrics.Names, func(n metrics.Name) bool { return n.Prometheus == name }) {
					t.Errorf("panel %q uses %s, which the hub's /metrics does not expose", p.Title, name)
				}
			}
			q := strings.NewReplacer("$job", ".*", "$__rate_interval", "1m").Replace(tg.Expr)
			r, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			}
			json.NewDecoder(r.Body).Decode(&body)
			r.Body.Close()
			if body.Status != "success" {
				t.Errorf("panel %q: Prometheus refuses %s: %s", p.Title, q, body.Error)
			}
		}
	}
	if n < 10 {
		t.Errorf("the dashboard has %d queries, want its panels", n)
	}
}
