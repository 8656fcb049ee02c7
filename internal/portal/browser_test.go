package portal_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/wire"
)

// The query the issue names: Azure's troubleshooting guide's search *
// form of "connectivity errors".
const seedQuery = `search *
| where ( Type == "AzureDiagnostics" and ResourceType == "IOTHUBS")
| where ( Category == "Connections" and Level == "Error")`

// findChromium returns Debian's chromium, or skips the test (fails when
// TETHER_REQUIRE_BROWSER or TETHER_REQUIRE_INTEROP is 1: CI installs it).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TETHER_REQUIRE_BROWSER") == "1" || os.Getenv("TETHER_REQUIRE_INTEROP") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium); browser tests are required here")
	}
	t.Skip("chromium is not installed; apt-get install chromium to run the browser tests")
	return ""
}

// browser is a headless chromium with a fresh profile, driven by chromedp.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // the screenshot folder
	n     int

	mu       sync.Mutex
	problems []string // uncaught exceptions and CSP violations
}

// watchConsole records the page's uncaught exceptions and the
// Content-Security-Policy violations the browser reports.
func (b *browser) watchConsole() {
	msgs := chromedp.Console(b.ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.problems = append(b.problems, m.String()+" at "+m.URL)
				b.mu.Unlock()
			}
		}
	}()
}

// checkA11y fails the test for controls without an accessible name,
// images without alt text, a page without exactly one h1, or the
// default title.
func (b *browser) checkA11y(page string) {
	b.t.Helper()
	problems := eval[[]string](b, `(() => {
		const out = [];
		for (const el of document.querySelectorAll('button, a[href]'))
			if (!(el.textContent.trim() || el.getAttribute('aria-label') || el.querySelector('img[alt]:not([alt=""])'))) out.push('unnamed ' + el.outerHTML.slice(0, 80));
		for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
			if (!el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) out.push('unlabelled ' + el.outerHTML.slice(0, 80));
		for (const el of document.querySelectorAll('img:not([alt])')) out.push('no alt ' + el.outerHTML.slice(0, 80));
		const h1 = document.querySelectorAll('h1').length;
		if (h1 !== 1) out.push(h1 + ' h1 elements');
		if (!/ · Tether$/.test(document.title)) out.push('title ' + JSON.stringify(document.title));
		return out;
	})()`)
	for _, p := range problems {
		b.t.Errorf("%s page: accessibility: %s", page, p)
	}
}

// checkConsole fails the test for every problem the console showed.
func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser console: %s", p)
	}
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := findChromium(t)
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		// The hub's certificate is signed by its own fresh CA, on loopback.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	shots := os.Getenv("TETHER_SCREENSHOTS")
	if shots == "" {
		var err error
		if shots, err = os.MkdirTemp("", "tether-portal-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(shots, 0o755)
	t.Logf("screenshots: %s", shots)
	b := &browser{t: t, ctx: ctx, shots: shots}
	b.watchConsole()
	return b
}

// run runs actions with a deadline; on failure it saves a screenshot and
// the page's text.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		tctx, tcancel := context.WithTimeout(b.ctx, 3*time.Second)
		text, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("body")))
		tcancel()
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
	}
}

// shot saves a full-page screenshot as NN-name.png.
func (b *browser) shot(name string) string {
	b.t.Helper()
	b.n++
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	return p
}

// waitText waits until the element sel's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var got string
		for {
			s, err := chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)(ctx, t)
			if err == nil {
				got = s
			}
			if err == nil && strings.Contains(got, want) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %q in %s: last text %q: %w", want, sel, got, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
}

// setValue sets a form control's value and fires input, as typing would.
func setValue(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.SetValue(chromedp.CSS(sel), v),
		voidEval(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event('input', {bubbles: true}))`, sel)))
}

func voidEval(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](js)(ctx, t)
		return err
	})
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// eval runs js in the page, awaiting a promise, and returns its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, func(p *runtime.EvaluateParams) { yes := true; p.AwaitPromise = &yes }))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func TestPortalInChromium(t *testing.T) {
	b := newBrowser(t)
	h := hubtest.Start(t)
	ctx := context.Background()
	owner := h.Client(t, h.Owner)
	dev, err := owner.CreateDevice(ctx, wire.Device{DeviceID: "sensor-1"})
	if err != nil {
		t.Fatal(err)
	}
	key := tether.Secret(*dev.Authentication.SymmetricKey.PrimaryKey)
	if _, err := owner.CreateDevice(ctx, wire.Device{DeviceID: "sensor-2"}); err != nil {
		t.Fatal(err)
	}

	// Log in with the owner's connection string.
	b.run("open the login page", chromedp.Navigate(h.URL+"/"), visible("#login-cs textarea"))
	if title := eval[string](b, "document.title"); title != "Log in · Tether" {
		t.Errorf("login page title %q, want %q", title, "Log in · Tether")
	}
	b.shot("login")
	b.checkA11y("login")
	b.run("log in", setValue("#login-cs textarea", h.Owner.String()), click("#login-cs button"),
		visible("#logout"), waitText("header .who", "iothubowner"))
	b.run("overview", visible(".tiles .tile"), waitText("main", "Connections by result code"))
	b.shot("overview")
	b.checkA11y("overview")

	// The device list updates when a device connects.
	b.run("open devices", chromedp.Navigate(h.URL+"/#/devices"), waitText("table.devices", "sensor-1"), waitText("table.devices", "Disconnected"))
	nc, code := connectDevice(t, h, "sensor-1", key)
	if code != 0 {
		t.Fatalf("CONNACK %d, want 0", code)
	}
	b.run("see sensor-1 connected", waitText("p.summary", "1 connected"), waitText("table.devices tbody tr:first-child", "Connected"))
	b.shot("devices")
	b.checkA11y("devices")

	// Create a device, disable it and delete it, each through the page;
	// disabling and deleting ask first.
	b.run("create a device", click("#create-device"), visible("dialog input[name=deviceId]"),
		setValue("dialog input[name=deviceId]", "made-in-ui"), click("dialog button[value=create]"),
		waitText("table.devices", "made-in-ui"), waitText("p.summary", "3 devices"))
	b.run("disable it", click(`tr:has(a[href="#/devices/made-in-ui"]) .row-actions button:nth-child(2)`),
		visible("dialog button[value=ok]"), click("dialog button[value=ok]"),
		waitText(`tr:has(a[href="#/devices/made-in-ui"])`, "disabled"))
	if d, err := owner.Device(ctx, "made-in-ui"); err != nil || d.Status != "disabled" {
		t.Errorf("made-in-ui after Disable: %v %v, want disabled", d.Status, err)
	}
	b.run("Escape closes a dialog", click("#create-device"), visible("dialog input[name=deviceId]"),
		setValue("dialog input[name=deviceId]", "escaped"), chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS("dialog")))
	if _, err := owner.Device(ctx, "escaped"); err == nil {
		t.Errorf("a device was created from a dialog closed with Escape")
	}
	b.run("cancel a delete", click(`button[aria-label="Delete made-in-ui"]`), visible("dialog button[value=cancel]"),
		click("dialog button[value=cancel]"), chromedp.Sleep(300*time.Millisecond), waitText("p.summary", "3 devices"))
	b.run("delete it", click(`button[aria-label="Delete made-in-ui"]`), visible("dialog button[value=ok]"),
		click("dialog button[value=ok]"), waitText("p.summary", "2 devices"))
	if _, err := owner.Device(ctx, "made-in-ui"); err == nil {
		t.Errorf("made-in-ui still exists after Delete")
	}

	// Drop the connection without DISCONNECT: the hub records connection_lost.
	nc.Close()
	waitFor(t, "sensor-1's disconnect in the registry", func() bool {
		d, err := owner.Device(ctx, "sensor-1")
		return err == nil && d.LastDisconnect != nil && d.LastDisconnect.Reason == string(tether.ReasonConnectionLost)
	})
	// A refused attempt: the wrong key is an error row (401003 auth_failed).
	bad, code := connectDevice(t, h, "sensor-2", key)
	bad.Close()
	if code == 0 {
		t.Fatal("sensor-2 connected with sensor-1's key")
	}
	h.FlushLogs(ctx)

	b.run("open sensor-1", chromedp.Navigate(h.URL+"/#/devices/sensor-1"), waitText("#last-disconnect", "connection lost"),
		visible("svg.timeline .tl-end"), waitText("table.disconnects", "connection_lost"))
	b.shot("device")
	b.checkA11y("device")

	// Edit the desired properties; call a method on the offline device.
	b.run("edit desired properties", setValue("#desired", `{"interval": 5}`), click("form:has(#desired) button[type=submit]"),
		waitText("#notices", "Desired properties saved"))
	if tw, err := owner.Twin(ctx, "sensor-1"); err != nil || fmt.Sprint(tw.Properties.Desired["interval"]) != "5" {
		t.Errorf("sensor-1's desired properties after the form: %v, %v; want interval 5", tw.Properties.Desired, err)
	}
	b.run("invoke a method on an offline device", setValue("input[name=methodName]", "reboot"),
		click("form:has(input[name=methodName]) button[type=submit]"), waitText("main", "404103"))

	// Log search: the seed query shows the error rows.
	b.run("open log search", chromedp.Navigate(h.URL+"/#/logs"), visible("#kql"),
		setValue("#kql", seedQuery), click("#run-query"),
		waitText("table.results", "sensor-2"), waitText("table.results", "401"))
	b.shot("log-search")
	b.checkA11y("log search")
	// CSV export: catch the file the page makes.
	eval[any](b, `(() => { window.__csv = null; const make = URL.createObjectURL;
		URL.createObjectURL = blob => { blob.text().then(t => { window.__csv = t; }); return make(blob); }; return 1; })()`)
	b.run("export CSV", click("#export-csv"), waitText("#notices", "CSV exported"))
	var csv string
	waitFor(t, "the CSV file", func() bool { csv = eval[string](b, `window.__csv || ""`); return csv != "" })
	if lines := strings.Split(strings.TrimSpace(csv), "\r\n"); len(lines) < 3 || !strings.HasPrefix(lines[0], "$table,TimeGenerated,") ||
		!strings.Contains(csv, "sensor-2") || !strings.Contains(csv, "connection_lost") {
		t.Errorf("exported CSV = %q, want a header, sensor-2's refusal and sensor-1's lost connection", csv)
	}
	b.run("a compile error is shown at its position", setValue("#kql", "AzureDiagnostics\n| where category == \"Connections\""),
		click("#run-query"), waitText("#kql-error", "Line 2"),
		visible(".kql-highlight mark.k-error"))
	b.run("a timechart", setValue("#kql", `AzureDiagnostics
| where Category == "Connections"
| summarize count() by bin(TimeGenerated, 1m), OperationName
| render timechart`), click("#run-query"), visible("figure.chart .plot canvas"), waitText("figure.chart", "deviceDisconnect"))
	b.shot("timechart")

	// Create an alert rule.
	b.run("create an alert rule", chromedp.Navigate(h.URL+"/#/alerts"), visible("#new-rule"),
		click("#new-rule"), visible("dialog input[name=name]"),
		setValue("dialog input[name=name]", "few-devices"), setValue("dialog input[name=threshold]", "1"),
		click("dialog button[value=save]"), waitText("table.rules", "few-devices"))
	b.shot("alerts")
	b.checkA11y("alerts")
	rules, err := owner.AlertRules(ctx)
	if err != nil || len(rules) != 1 || rules[0].Name != "few-devices" || rules[0].Metric != "connectedDeviceCount" {
		t.Fatalf("alert rules after the form = %+v, %v; want one, few-devices on connectedDeviceCount", rules, err)
	}
	b.run("edit the alert rule", click("table.rules button.link"), visible("dialog input[name=threshold]"),
		setValue("dialog input[name=threshold]", "3"), click("dialog button[value=save]"), waitText("#notices", "Saved few-devices"))
	if r, err := owner.AlertRule(ctx, "few-devices"); err != nil || r.Threshold == nil || *r.Threshold != 3 {
		t.Errorf("few-devices after the edit = %+v, %v; want threshold 3", r, err)
	}

	b.run("settings", chromedp.Navigate(h.URL+"/#/settings"), visible("#diag-form"), waitText("main", "Connections"),
		waitText("main", "Lifecycle event subscriptions"))
	b.shot("settings")
	b.checkA11y("settings")

	// Phone width: the device list still works.
	b.run("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(h.URL+"/#/devices"),
		waitText("table.devices", "sensor-2"))
	b.shot("devices-phone")
	b.run("desktop width", chromedp.ResetViewport())

	// Log out.
	b.run("log out", chromedp.Navigate(h.URL+"/#/"), visible("#logout"),
		click("#logout"), visible("#login-cs textarea"))

	// A registryRead login sees no delete button, and the hub refuses a
	// delete sent anyway.
	// ... by keyboard only: the connection string field has the focus;
	// type, Tab to the button, Enter.
	b.run("log in as registryRead with the keyboard", chromedp.KeyEvent(h.Policy(t, "registryRead").String()),
		chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter), waitText("header .who", "registryRead"),
		chromedp.Navigate(h.URL+"/#/devices"), waitText("table.devices", "sensor-1"))
	if menu := eval[string](b, `document.querySelector('header nav').textContent`); menu != "OverviewDevices" {
		t.Errorf("registryRead's menu = %q, want only Overview and Devices", menu)
	}
	if deletes := eval[int](b, `document.querySelectorAll('button.danger').length`); deletes != 0 {
		t.Errorf("registryRead sees %d delete buttons, want 0", deletes)
	}
	status := eval[int](b, `(async () => {
		const s = await (await fetch('/portal/api/session')).json();
		const r = await fetch('/portal/api/svc/devices/sensor-1?api-version=2021-04-12', {method: 'DELETE', headers: {'X-CSRF-Token': s.csrf, 'If-Match': '*'}});
		return r.status; })()`)
	if status != 401 && status != 403 {
		t.Errorf("registryRead DELETE through the portal answered %v, want 401 or 403", status)
	}
	if _, err := owner.Device(ctx, "sensor-1"); err != nil {
		t.Errorf("sensor-1 after a registryRead delete: %v; want it kept", err)
	}
	b.checkConsole()
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
