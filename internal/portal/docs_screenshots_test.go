package portal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/sim"
	"github.com/tether-iot/tether/internal/wire"
)

// TestDocsScreenshots makes the screenshots docs/ shows: a hub with a
// simulated fleet (drops, flaps, a cloned identity, a wrong key) for
// about a minute and a half, then the portal's pages. It runs only when
// TETHER_DOCS_SCREENSHOTS names the folder to write to:
//
//	TETHER_DOCS_SCREENSHOTS=$PWD/docs/screenshots go test ./internal/portal -run TestDocsScreenshots -v
func TestDocsScreenshots(t *testing.T) {
	out := os.Getenv("TETHER_DOCS_SCREENSHOTS")
	if out == "" {
		t.Skip("set TETHER_DOCS_SCREENSHOTS=DIR to make the docs' screenshots")
	}
	b := newBrowser(t)
	h := hubtest.Start(t, func(c *server.Config) { c.MetricsGrain = 10 * time.Second })
	ctx := context.Background()
	owner := h.Client(t, h.Owner)
	faults := []sim.FaultSpec{{Fault: sim.FaultDrop, Count: 4}, {Fault: sim.FaultFlap, Count: 2}, {Fault: sim.FaultDuplicate, Count: 1},
		{Fault: sim.FaultWrongKey, Count: 1}, {Fault: sim.FaultDisabled, Count: 1}}
	s, err := sim.New(sim.Options{Devices: 24, Create: true, Registry: simRegistry{owner}, HostName: "localhost",
		Addr: h.MQTTAddr().String(), CA: h.CAFile(), TelemetryInterval: 2 * time.Second, Duration: 100 * time.Second,
		FaultInterval: 12 * time.Second, Rate: 4, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Run(ctx); done <- err }()
	rule := 30.0
	if _, _, err := owner.PutAlertRule(ctx, wire.AlertRule{Name: "fleet-below-30", Description: "fewer than 30 devices connected",
		Severity: 1, Metric: "connectedDeviceCount", Aggregation: "min", Operator: "lt", Threshold: &rule, Window: "1m", Frequency: "10s"}); err != nil {
		t.Logf("alert rule: %v", err)
	}
	time.Sleep(90 * time.Second)
	h.FlushLogs(ctx)

	b.run("log in", chromedp.Navigate(h.URL+"/"), visible("#login-cs textarea"), setValue("#login-cs textarea", h.Owner.String()),
		click("#login-cs button"), visible("#logout"))
	save := func(name string) {
		p := b.shot(name)
		if p == "" {
			return
		}
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(filepath.Join(out, name+".png"), data, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}
	b.run("overview", chromedp.Navigate(h.URL+"/#/?range=1h"), visible("figure.chart .plot"), chromedp.Sleep(time.Second))
	save("overview")
	b.run("devices", chromedp.Navigate(h.URL+"/#/devices"), waitText("table.devices", "sim-0023"))
	save("devices")
	b.run("device", chromedp.Navigate(h.URL+"/#/devices/sim-0000?range=1h"), visible("svg.timeline .tl-end"), chromedp.Sleep(time.Second))
	save("device")
	b.run("log search", chromedp.Navigate(h.URL+"/#/logs"), visible("#kql"), setValue("#kql", `AzureDiagnostics
| where Category == "Connections" and OperationName == "deviceDisconnect"
| extend Reason = tostring(parse_json(properties_s).reason)
| summarize count() by bin(TimeGenerated, 10s), Reason
| render timechart`), click("#run-query"), visible("#kql-error:not([hidden]), table.results"), chromedp.Sleep(time.Second))
	save("log-search")
	b.run("alerts", chromedp.Navigate(h.URL+"/#/alerts"), visible("table.rules"))
	save("alerts")
	b.run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(h.URL+"/#/devices/sim-0000?range=1h"),
		visible("svg.timeline .tl-end"), chromedp.Sleep(time.Second))
	shotCtx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	png, err := chromedp.Run(shotCtx, chromedp.CaptureScreenshot())
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "device-phone.png"), png, 0o644); err != nil {
		t.Error(err)
	}
	<-done
	if p, err := exec.LookPath("optipng"); err == nil {
		exec.Command(p, "-quiet", "-o2", filepath.Join(out, "*.png")).Run()
	}
}

// simRegistry gives the simulator the hub's registry through the
// service API.
type simRegistry struct{ c *hubclient.Client }

func (r simRegistry) DeviceKey(ctx context.Context, id string, create bool) (tether.Secret, error) {
	d, err := r.c.Device(ctx, id)
	if err != nil && create && tether.ErrorKind(err) == tether.KindNotFound {
		d, err = r.c.CreateDevice(ctx, wire.Device{DeviceID: id})
	}
	if err != nil {
		return "", err
	}
	return tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey), nil
}

func (r simRegistry) SetEnabled(ctx context.Context, id string, enabled bool) error {
	d, err := r.c.Device(ctx, id)
	if err != nil {
		return err
	}
	d.Status = "disabled"
	if enabled {
		d.Status = "enabled"
	}
	_, err = r.c.UpdateDevice(ctx, d, "*")
	return err
}
