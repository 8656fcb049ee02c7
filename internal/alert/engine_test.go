package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func lowDevices() wire.AlertRule {
	return wire.AlertRule{Name: "low-devices", Metric: "connectedDeviceCount", Aggregation: "min", Operator: "lt",
		Threshold: ptr(15.0), Window: "10s", Frequency: "10s", Severity: 1, ActionGroups: []string{"ops"}}
}

func TestMetricRuleFiresAndResolves(t *testing.T) {
	f := mustEngine(t)
	f.g.set("connectedDeviceCount", 20)
	f.mustPut(t, lowDevices())
	f.run(30 * time.Second)
	if got := f.st.states("low-devices"); len(got) != 0 {
		t.Fatalf("with 20 devices, state changes = %v, want none", got)
	}
	dropped := f.clock
	f.g.set("connectedDeviceCount", 10)
	f.run(10 * time.Second)
	got := f.waitNotes(t, 1)
	n := got[0]
	if n.State != "Fired" || n.MetricValue != 10 || n.Threshold != 15 || n.Operator != "lt" || n.Aggregation != "min" ||
		n.MetricName != "connectedDeviceCount" || n.Severity != 1 || n.RuleID != "/HUB/alertRules/low-devices" || n.WindowSize != 10*time.Second {
		t.Errorf("firing notification = %+v", n)
	}
	if d := n.FiredAt.Sub(dropped); d <= 0 || d > 10*time.Second {
		t.Errorf("fired %v after the drop, want within the 10s frequency", d)
	}
	f.g.set("connectedDeviceCount", 20)
	f.run(20 * time.Second)
	got = f.waitNotes(t, 2)
	if r := got[1]; r.State != "Resolved" || r.MetricValue != 20 || r.ResolvedAt.IsZero() || !r.FiredAt.Equal(n.FiredAt) {
		t.Errorf("resolving notification = %+v", r)
	}
	if got, want := strings.Join(f.st.states("low-devices"), ","), "Fired,Resolved"; got != want {
		t.Errorf("state changes = %s, want %s", got, want)
	}
}

// A reading below the threshold at one sample fires a min rule: min sees
// every sample of the window, not just the one at evaluation time.
func TestMinSeesEverySample(t *testing.T) {
	f := mustEngine(t)
	f.g.set("connectedDeviceCount", 20)
	f.mustPut(t, lowDevices())
	f.run(3 * time.Second)
	f.g.set("connectedDeviceCount", 14)
	f.run(time.Second)
	f.g.set("connectedDeviceCount", 20)
	f.run(6 * time.Second)
	if n := f.waitNotes(t, 1)[0]; n.MetricValue != 14 {
		t.Errorf("fired with value %v, want 14", n.MetricValue)
	}
}

func TestPendingEvaluations(t *testing.T) {
	f := mustEngine(t)
	r := lowDevices()
	r.PendingEvaluations = 3
	f.mustPut(t, r)
	f.g.set("connectedDeviceCount", 10)
	f.run(20 * time.Second)
	if got := f.st.states("low-devices"); strings.Join(got, ",") != "Pending" {
		t.Fatalf("after 2 evaluations, state changes = %v, want [Pending]", got)
	}
	f.run(10 * time.Second)
	f.waitNotes(t, 1)
	if got := strings.Join(f.st.states("low-devices"), ","); got != "Pending,Fired" {
		t.Errorf("state changes = %s, want Pending,Fired", got)
	}
}

func TestPendingBackToInactive(t *testing.T) {
	f := mustEngine(t)
	r := lowDevices()
	r.PendingEvaluations = 3
	f.mustPut(t, r)
	f.g.set("connectedDeviceCount", 10)
	f.run(10 * time.Second)
	f.g.set("connectedDeviceCount", 20)
	f.run(20 * time.Second)
	f.waitNotes(t, 0)
	if got := strings.Join(f.st.states("low-devices"), ","); got != "Pending,Inactive" {
		t.Errorf("state changes = %s, want Pending,Inactive", got)
	}
}

func TestNoAutoResolve(t *testing.T) {
	f := mustEngine(t)
	r := lowDevices()
	r.AutoResolve = ptr(false)
	f.mustPut(t, r)
	f.g.set("connectedDeviceCount", 10)
	f.run(10 * time.Second)
	f.g.set("connectedDeviceCount", 20)
	f.run(30 * time.Second)
	f.waitNotes(t, 1)
	got, _ := f.e.Rule(context.Background(), "low-devices")
	if got.State != "Fired" {
		t.Errorf("state = %s, want Fired (no auto-resolve)", got.State)
	}
}

func TestDropPercent(t *testing.T) {
	f := mustEngine(t)
	f.g.set("connectedDeviceCount", 1000)
	f.mustPut(t, wire.AlertRule{Name: "drop", Metric: "connectedDeviceCount", Aggregation: "avg", DropPercent: 20,
		Window: "1m", Frequency: "10s", ActionGroups: []string{"ops"}})
	f.run(3 * time.Minute)
	f.g.set("connectedDeviceCount", 850) // -15%: not enough
	f.run(2 * time.Minute)
	f.waitNotes(t, 0)
	f.g.set("connectedDeviceCount", 600) // -29% against 850
	f.run(60 * time.Second)
	n := f.waitNotes(t, 1)[0]
	if n.State != "Fired" || n.Operator != "le" || n.MetricValue > 850*0.8 || n.Threshold != 850*0.8 {
		t.Errorf("drop notification = %+v", n)
	}
	rule, _ := f.e.Rule(context.Background(), "drop")
	if rule.DropPercent != 20 || rule.Threshold != nil || rule.Operator != "" {
		t.Errorf("drop rule shown as %+v", rule)
	}
}

func TestCounterTotal(t *testing.T) {
	f := mustEngine(t)
	f.g.set("d2c.telemetry.ingress.success", 5000)
	f.mustPut(t, wire.AlertRule{Name: "quiet", Metric: "d2c.telemetry.ingress.success", Aggregation: "total", Operator: "lt",
		Threshold: ptr(10.0), Window: "30s", Frequency: "10s"})
	for range 30 { // 1 message a second
		f.g.set("d2c.telemetry.ingress.success", f.g.v["d2c.telemetry.ingress.success"]+1)
		f.run(time.Second)
	}
	rule, _ := f.e.Rule(context.Background(), "quiet")
	if rule.State != "Inactive" || rule.LastValue == nil || *rule.LastValue < 20 {
		t.Errorf("after 30 messages in 30s: state %s, last value %v; want Inactive, about 29", rule.State, rule.LastValue)
	}
	f.run(40 * time.Second) // no messages
	rule, _ = f.e.Rule(context.Background(), "quiet")
	if rule.State != "Fired" || *rule.LastValue != 0 {
		t.Errorf("after 40s without messages: state %s, last value %v; want Fired, 0", rule.State, *rule.LastValue)
	}
}

func TestLogRule(t *testing.T) {
	f := mustEngine(t)
	f.mustPut(t, wire.AlertRule{Name: "bad-keys", Query: `AzureDiagnostics | where ResultType == "401003"`, Operator: "gt",
		Threshold: ptr(5.0), Window: "5m", Frequency: "10s", ActionGroups: []string{"ops"}})
	f.q.rows = 5
	f.run(20 * time.Second)
	f.waitNotes(t, 0)
	f.q.mu.Lock()
	f.q.rows = 6
	if f.q.to.Sub(f.q.from) != 5*time.Minute || !f.q.to.Equal(f.clock) {
		t.Errorf("query ran over [%v, %v], want the 5m window ending now", f.q.from, f.q.to)
	}
	f.q.mu.Unlock()
	f.run(10 * time.Second)
	n := f.waitNotes(t, 1)[0]
	if n.SignalType != "Log" || n.ResultCount != 6 || n.MetricValue != 6 || n.Threshold != 5 || n.Query == "" {
		t.Errorf("log notification = %+v", n)
	}
}

func TestLogRuleColumn(t *testing.T) {
	f := mustEngine(t)
	f.mustPut(t, wire.AlertRule{Name: "sum", Query: "AzureDiagnostics | summarize n = count()", Column: "n", Aggregation: "max",
		Operator: "ge", Threshold: ptr(3.0), Window: "1m", Frequency: "10s"})
	f.q.rows = 4 // n = 0..3: max 3
	f.run(10 * time.Second)
	if r, _ := f.e.Rule(context.Background(), "sum"); r.State != "Fired" || *r.LastValue != 3 {
		t.Errorf("rule = %s %v, want Fired at 3", r.State, *r.LastValue)
	}
	f.mustPut(t, wire.AlertRule{Name: "nocol", Query: "AzureDiagnostics", Column: "missing", Aggregation: "max",
		Operator: "ge", Threshold: ptr(3.0), Window: "1m", Frequency: "10s"})
	f.run(10 * time.Second)
	if r, _ := f.e.Rule(context.Background(), "nocol"); !strings.Contains(r.LastError, `no column "missing"`) {
		t.Errorf("lastError = %q, want it to name the missing column", r.LastError)
	}
}

// A receiver that never answers holds up neither evaluation nor the
// other rules' notifications.
func TestSlowNotifierDoesNotBlock(t *testing.T) {
	f := mustEngine(t)
	f.n.block = make(chan struct{})
	f.e.o.NotifyTimeout = time.Hour
	f.mustPut(t, lowDevices())
	f.g.set("connectedDeviceCount", 10)
	done := make(chan struct{})
	go func() {
		f.run(60 * time.Second)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("evaluation blocked behind a receiver that does not answer")
	}
	close(f.n.block)
	f.waitNotes(t, 1)
}

func TestStateSurvivesRestart(t *testing.T) {
	f := mustEngine(t)
	f.mustPut(t, lowDevices())
	f.g.set("connectedDeviceCount", 10)
	f.run(10 * time.Second)
	f.waitNotes(t, 1)
	e2, err := New(Options{Store: f.st, Metrics: f.g, Groups: groups{}, Notifier: f.n, Now: func() time.Time { return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	f.e = e2
	f.run(30 * time.Second) // still low: no second firing
	if r, _ := e2.Rule(context.Background(), "low-devices"); r.State != "Fired" {
		t.Errorf("after restart state = %s, want Fired", r.State)
	}
	f.g.set("connectedDeviceCount", 20)
	f.run(20 * time.Second)
	if got := f.waitNotes(t, 2); got[1].State != "Resolved" {
		t.Errorf("after restart, notification %+v, want Resolved", got[1])
	}
}

func TestEnableDisable(t *testing.T) {
	f := mustEngine(t)
	ctx := context.Background()
	f.mustPut(t, lowDevices())
	f.g.set("connectedDeviceCount", 10)
	f.run(10 * time.Second)
	r, err := f.e.SetEnabled(ctx, "low-devices", false)
	if err != nil || r.State != "Disabled" || *r.Enabled {
		t.Fatalf("SetEnabled(false) = %+v, %v", r, err)
	}
	f.run(30 * time.Second)
	f.waitNotes(t, 1)
	if got := strings.Join(f.st.states("low-devices"), ","); got != "Fired,Inactive" {
		t.Errorf("state changes = %s, want Fired,Inactive", got)
	}
	if _, err := f.e.SetEnabled(ctx, "low-devices", true); err != nil {
		t.Fatal(err)
	}
	f.run(10 * time.Second)
	f.waitNotes(t, 2)
	if _, err := f.e.SetEnabled(ctx, "nope", true); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("SetEnabled(unknown) = %v, want not found", err)
	}
	if err := f.e.DeleteRule(ctx, "low-devices"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.Rule(ctx, "low-devices"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("Rule(deleted) = %v, want not found", err)
	}
	h, err := f.e.History(ctx, "low-devices", 10)
	if err != nil || len(h) != 3 || h[0].State != "Fired" || h[0].WindowSize != "PT10S" {
		t.Errorf("History = %+v, %v; the deleted rule's history stays, newest first", h, err)
	}
}
