package notify

import (
	"bytes"
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
)

// mustStartAlertmanager runs Debian's prometheus-alertmanager on a free
// loopback port with a temporary configuration and storage, clustering
// off, and returns its base URL. Without the binary the test is skipped,
// or fails when TETHER_REQUIRE_INTEROP=1 (CI).
func mustStartAlertmanager(t *testing.T) string {
	t.Helper()
	bin := ""
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("TETHER_REQUIRE_INTEROP") == "1" {
			t.Fatal("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager); TETHER_REQUIRE_INTEROP=1 requires it")
		}
		t.Skip("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", stderr.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager at %s not ready within 20 s: %v\n%s", base, err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// amListed is what GET /api/v2/alerts shows of an alert.
type amListed struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func listAlertmanager(t *testing.T, base string) []amListed {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatalf("GET /api/v2/alerts: %v", err)
	}
	defer resp.Body.Close()
	var out []amListed
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode /api/v2/alerts: %v", err)
	}
	return out
}

// TestAlertmanagerFiringThenResolved posts a firing and then a resolved
// alert to a real Alertmanager and checks what its API shows.
func TestAlertmanagerFiringThenResolved(t *testing.T) {
	base := mustStartAlertmanager(t)
	f := mustNewFixture(t, func(o *Options) { o.Now = time.Now })
	f.mustCreate(t, "ops", alertmanager(base))
	a := metricAlert()
	a.FiredAt = time.Now().Add(-time.Second).Truncate(time.Millisecond)
	f.mustNotify(t, []string{"ops"}, a)
	f.mustDispatch(t, time.Now())
	if h := f.mustHistory(t, "ops"); len(h) != 1 || h[0].Outcome != OutcomeDelivered {
		t.Fatalf("history = %+v, want the firing alert delivered", h)
	}
	listed := listAlertmanager(t, base)
	if len(listed) != 1 {
		t.Fatalf("alertmanager lists %d alerts, want 1: %+v", len(listed), listed)
	}
	got := listed[0]
	for k, want := range map[string]string{"alertname": "devices-dropped", "severity": "warning", "azure_severity": "Sev2",
		"signal_type": "Metric", "metric": "connectedDeviceCount", "source": "tether", "hub": "tether"} {
		if got.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, got.Labels[k], want)
		}
	}
	if got.Status.State != "active" {
		t.Errorf("status = %q, want active", got.Status.State)
	}
	if want := "Fired: Sev2 devices-dropped (min connectedDeviceCount 10 < 15 over 5m0s)"; got.Annotations["summary"] != want {
		t.Errorf("summary = %q, want %q", got.Annotations["summary"], want)
	}
	if !got.StartsAt.Equal(a.FiredAt) {
		t.Errorf("startsAt = %v, want %v", got.StartsAt, a.FiredAt)
	}
	if got.EndsAt.Before(time.Now().Add(23 * time.Hour)) {
		t.Errorf("endsAt = %v, want about 24 h ahead (held until resolved)", got.EndsAt)
	}

	r := a
	r.State, r.ResolvedAt = StateResolved, time.Now().Truncate(time.Millisecond)
	f.mustNotify(t, []string{"ops"}, r)
	f.mustDispatch(t, time.Now())
	if h := f.mustHistory(t, "ops"); len(h) != 2 || h[0].Outcome != OutcomeDelivered || h[0].MonitorCondition != StateResolved {
		t.Fatalf("history = %+v, want the resolution delivered", h)
	}
	if listed := listAlertmanager(t, base); len(listed) != 0 {
		t.Errorf("after the resolution alertmanager lists %s, want no active alert", fmt.Sprint(listed))
	}
}
