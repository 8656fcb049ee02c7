package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

// fleet is n registered devices, connected over MQTT/TLS.
type fleet struct {
	ids  []string
	keys []tether.Secret
	mu   sync.Mutex // guards devs against ping
	devs []*mqttDevice
}

// ping keeps the fleet's connections alive (PINGREQ every 20 s, within
// the 60 s keep-alive) until ctx ends: a test longer than 90 s would
// otherwise see them dropped for keep-alive timeout.
func (f *fleet) ping(ctx context.Context) {
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		for _, d := range f.devs {
			d.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			d.nc.Write([]byte{0xC0, 0x00}) // PINGREQ
		}
		f.mu.Unlock()
	}
}

// redial replaces device i's connection.
func (f *fleet) redial(t testing.TB, h *hubtest.Hub, i int) {
	d := dialDevice(t, h, f.ids[i], f.keys[i])
	f.mu.Lock()
	f.devs[i] = d
	f.mu.Unlock()
}

func connectFleet(t testing.TB, h *hubtest.Hub, c *hubclient.Client, n int) *fleet {
	t.Helper()
	f := &fleet{}
	for i := range n {
		d, err := c.CreateDevice(context.Background(), wire.Device{DeviceID: fmt.Sprintf("sensor-%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append(f.ids, d.DeviceID)
		f.keys = append(f.keys, tether.Secret(wire.Deref(d.Authentication.SymmetricKey.PrimaryKey)))
		f.devs = append(f.devs, dialDevice(t, h, d.DeviceID, f.keys[i]))
	}
	return f
}

// waitRule polls a rule until its state is want, for at most d.
func waitRule(t *testing.T, c *hubclient.Client, name, want string, d time.Duration) wire.AlertRule {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r, err := c.AlertRule(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if r.State == want {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rule %s is %s (last value %v, error %q) after %v, want %s", name, r.State, deref(r.LastValue), r.LastError, d, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func ptrf(v float64) *float64 { return &v }

// quickPresence shortens the presence grace, so that a dropped device is
// announced (and counted as gone) within 3 s.
func quickPresence(c *server.Config) { c.PresenceGrace = 3 * time.Second }

// webhook is a local receiver of alert notifications.
type webhook struct {
	url string
	got chan commonAlert
}

// commonAlert is the part of Azure Monitor's common alert schema the
// tests read.
type commonAlert struct {
	SchemaID string `json:"schemaId"`
	Data     struct {
		Essentials struct {
			AlertRule        string `json:"alertRule"`
			Severity         string `json:"severity"`
			SignalType       string `json:"signalType"`
			MonitorCondition string `json:"monitorCondition"`
			FiredDateTime    string `json:"firedDateTime"`
			ResolvedDateTime string `json:"resolvedDateTime"`
		} `json:"essentials"`
		AlertContext struct {
			Condition struct {
				WindowSize string `json:"windowSize"`
				AllOf      []struct {
					MetricName      string  `json:"metricName"`
					SearchQuery     string  `json:"searchQuery"`
					Operator        string  `json:"operator"`
					Threshold       string  `json:"threshold"`
					TimeAggregation string  `json:"timeAggregation"`
					MetricValue     float64 `json:"metricValue"`
				} `json:"allOf"`
			} `json:"condition"`
		} `json:"alertContext"`
	} `json:"data"`
	received time.Time
}

func startWebhook(t testing.TB) *webhook {
	t.Helper()
	w := &webhook{got: make(chan commonAlert, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var a commonAlert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		a.received = time.Now()
		select {
		case w.got <- a:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL + "/alerts"
	return w
}

// next waits at most d for the next notification.
func (w *webhook) next(t testing.TB, d time.Duration) commonAlert {
	t.Helper()
	a, ok := w.wait(d)
	if !ok {
		t.Fatalf("no notification within %v (at %s)", d, time.Now().Format("15:04:05.000"))
	}
	return a
}

// wait waits at most d for the next notification.
func (w *webhook) wait(d time.Duration) (commonAlert, bool) {
	select {
	case a := <-w.got:
		return a, true
	case <-time.After(d):
		return commonAlert{}, false
	}
}

// mustActionGroup creates the action group "ops" posting to w.
func mustActionGroup(t testing.TB, c *hubclient.Client, w *webhook) {
	t.Helper()
	if _, err := c.CreateActionGroup(context.Background(), wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{{Type: "webhook", URL: w.url}}}); err != nil {
		t.Fatal(err)
	}
}

// 20 devices; "connected < 15" every 10 s; 10 devices die: the local
// webhook gets the firing notification with the count the rule saw; they
// come back: it gets the resolution. The hub runs with its default
// presence grace (10 s): a drop counts at once all the same.
func TestAlertDevicesDrop(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 40 s of real time")
	}
	h := hubtest.Start(t)
	c := h.Client(t, h.Owner)
	ctx := context.Background()
	hook := startWebhook(t)
	mustActionGroup(t, c, hook)
	f := connectFleet(t, h, c, 20)
	if _, _, err := c.PutAlertRule(ctx, wire.AlertRule{Name: "devices-low", Metric: "connectedDeviceCount", Aggregation: "min",
		Operator: "lt", Threshold: ptrf(15), Window: "10s", Frequency: "10s", Severity: 1, ActionGroups: []string{"ops"}}); err != nil {
		t.Fatal(err)
	}
	// one evaluation with every device connected
	if r := waitEvaluated(t, c, "devices-low", 15*time.Second); r.State != "Inactive" || deref(r.LastValue) != 20.0 {
		t.Fatalf("with 20 devices connected, last value = %v, want 20", deref(r.LastValue))
	}
	for _, d := range f.devs[:10] {
		d.nc.Close()
	}
	fired := hook.next(t, 10*time.Second+10*time.Second) // within two evaluations, without waiting out the grace
	e, cond := fired.Data.Essentials, fired.Data.AlertContext.Condition
	if fired.SchemaID != "azureMonitorCommonAlertSchema" || e.MonitorCondition != "Fired" || e.AlertRule != "devices-low" ||
		e.Severity != "Sev1" || e.SignalType != "Metric" || cond.WindowSize != "PT10S" || len(cond.AllOf) != 1 {
		t.Fatalf("firing notification = %+v", fired)
	}
	if m := cond.AllOf[0]; m.MetricName != "connectedDeviceCount" || m.Operator != "LessThan" || m.Threshold != "15" ||
		m.TimeAggregation != "Minimum" || m.MetricValue != 10 {
		t.Errorf("firing criterion = %+v, want connectedDeviceCount Minimum 10 LessThan 15", m)
	}
	for i := range 10 {
		f.devs[i] = dialDevice(t, h, f.ids[i], f.keys[i])
	}
	resolved := hook.next(t, 25*time.Second)
	if e := resolved.Data.Essentials; e.MonitorCondition != "Resolved" || e.ResolvedDateTime == "" || e.FiredDateTime != fired.Data.Essentials.FiredDateTime {
		t.Errorf("resolving notification essentials = %+v", e)
	}
	if m := resolved.Data.AlertContext.Condition.AllOf; len(m) != 1 || m[0].MetricValue != 20 {
		t.Errorf("resolving criterion = %+v, want value 20", m)
	}
	hist, err := c.AlertHistory(ctx, "devices-low", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].State != "Resolved" || hist[1].State != "Fired" || hist[1].Value != 10 || hist[1].Threshold != 15 ||
		hist[1].MetricName != "connectedDeviceCount" || hist[1].WindowSize != "PT10S" {
		t.Errorf("history = %+v, want Fired at 10 then Resolved", hist)
	}
}

// Azure's device SDKs renew their SAS token by sending DISCONNECT and
// connecting again at once (shared/spec/azure-sdk-notes.md §5). The
// presence count (what metric rules see as connectedDeviceCount) counts
// such a deliberate disconnect only after the grace period, so a renewal
// never lowers it and never fires a rule; the gateway's own live count
// does dip, which this test checks as well, so it would catch a rule
// that read the live count.
func TestAlertIgnoresTokenRenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 25 s of real time")
	}
	h := hubtest.Start(t, quickPresence)
	c := h.Client(t, h.Owner)
	ctx := context.Background()
	f := connectFleet(t, h, c, 20)
	if _, _, err := c.PutAlertRule(ctx, wire.AlertRule{Name: "any-drop", Metric: "connectedDeviceCount", Aggregation: "min",
		Operator: "lt", Threshold: ptrf(20), Window: "10s", Frequency: "10s"}); err != nil {
		t.Fatal(err)
	}
	minLive := h.Connected()
	end := time.Now().Add(22 * time.Second)
	for round := 0; time.Now().Before(end); round++ {
		for i := range f.devs {
			f.devs[i].write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ProtocolVersion: 4})
			f.devs[i].nc.Close()
			minLive = min(minLive, h.Connected())
			time.Sleep(50 * time.Millisecond) // the SDK's reconnect gap
			minLive = min(minLive, h.Connected())
			f.devs[i] = dialDevice(t, h, f.ids[i], f.keys[i])
		}
	}
	if minLive >= 20 {
		t.Fatalf("the gateway's live count never dipped below 20 during renewals (min %d): the test did not renew", minLive)
	}
	r, err := c.AlertRule(ctx, "any-drop")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != "Inactive" || r.LastEvaluated == nil || deref(r.LastValue) != 20.0 {
		t.Errorf("after renewals: state %s, last evaluated %v, last value %v; want Inactive at 20 (live count dipped to %d)",
			r.State, r.LastEvaluated, deref(r.LastValue), minLive)
	}
	if hist, _ := c.AlertHistory(ctx, "any-drop", 10); len(hist) != 0 {
		t.Errorf("history = %+v, want no state change", hist)
	}
}

// badConnect sends a CONNECT whose SAS token is signed with a wrong key
// and returns the CONNACK's return code (5: not authorized).
func badConnect(t testing.TB, h *hubtest.Hub, id string) byte {
	t.Helper()
	d := dialRaw(t, h)
	defer d.nc.Close()
	d.sendConnect(id, tether.Secret("d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXkh"), "")
	pk := d.read()
	if pk == nil {
		return 255
	}
	return pk.ReasonCode
}

// A log alert on "more than 5 rows of 401003 in 5 minutes" fires on a
// burst of connects with a bad key, and its notification carries the
// query and the row count.
func TestLogAlertBadKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 15 s of real time")
	}
	h := hubtest.Start(t)
	c := h.Client(t, h.Owner)
	ctx := context.Background()
	hook := startWebhook(t)
	mustActionGroup(t, c, hook)
	query := `AzureDiagnostics | where Category == "Connections" and ResultType == "401003"`
	if _, _, err := c.PutAlertRule(ctx, wire.AlertRule{Name: "bad-keys", Query: query, Operator: "gt", Threshold: ptrf(5),
		Window: "5m", Frequency: "10s", Severity: 2, ActionGroups: []string{"ops"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PutAlertRule(ctx, wire.AlertRule{Name: "broken", Query: "AzureDiagnostics | wher x", Operator: "gt",
		Threshold: ptrf(5), Window: "5m", Frequency: "10s"}); err == nil || !strings.Contains(err.Error(), "line 1, col") {
		t.Errorf("a query that does not compile: %v, want an error with its position", err)
	}
	if _, err := c.CreateDevice(ctx, wire.Device{DeviceID: "thermostat"}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		badConnect(t, h, "thermostat")
	}
	// an evaluation with 5 rows: not more than 5
	if r := waitEvaluated(t, c, "bad-keys", 15*time.Second); r.State != "Inactive" || deref(r.LastValue) != 5.0 {
		t.Fatalf("after 5 bad connects: state %s, value %v, error %q; want Inactive at 5 rows", r.State, deref(r.LastValue), r.LastError)
	}
	for range 3 {
		badConnect(t, h, "thermostat")
	}
	a := hook.next(t, 25*time.Second)
	e, cond := a.Data.Essentials, a.Data.AlertContext.Condition
	if e.MonitorCondition != "Fired" || e.AlertRule != "bad-keys" || e.SignalType != "Log" || e.Severity != "Sev2" || len(cond.AllOf) != 1 {
		t.Fatalf("log alert notification = %+v", a)
	}
	if m := cond.AllOf[0]; m.SearchQuery != query || m.MetricValue != 8 || m.Threshold != "5" || m.Operator != "GreaterThan" {
		t.Errorf("log criterion = %+v, want the query, 8 rows > 5", m)
	}
}

// waitEvaluated polls a rule until it has been evaluated, for at most d.
func waitEvaluated(t testing.TB, c *hubclient.Client, name string, d time.Duration) wire.AlertRule {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r, err := c.AlertRule(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if r.LastEvaluated != nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rule %s not evaluated within %v (error %q)", name, d, r.LastError)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
