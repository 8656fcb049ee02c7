package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestPutRuleErrors(t *testing.T) {
	metric := func(mod func(*wire.AlertRule)) wire.AlertRule {
		r := wire.AlertRule{Name: "r", Metric: "connectedDeviceCount", Aggregation: "min", Operator: "lt", Threshold: ptr(15.0), Window: "5m", Frequency: "1m"}
		mod(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		in   wire.AlertRule
		want string
	}{
		{"unknown metric", metric(func(r *wire.AlertRule) { r.Metric = "connectedDevices" }), `unknown metric "connectedDevices"; the metrics are: connectedDeviceCount, d2c.telemetry.ingress.success`},
		{"frequency below 10s", metric(func(r *wire.AlertRule) { r.Frequency = "5s" }), "frequency 5s: the shortest is 10s"},
		{"window shorter than frequency", metric(func(r *wire.AlertRule) { r.Window = "30s" }), "window 30s is shorter than frequency 1m0s"},
		{"window too long", metric(func(r *wire.AlertRule) { r.Window = "48h" }), "window 48h0m0s: the longest for a metric rule is 24h0m0s"},
		{"bad duration", metric(func(r *wire.AlertRule) { r.Window = "5 minutes" }), `window: "5 minutes" is not a duration`},
		{"bad ISO duration", metric(func(r *wire.AlertRule) { r.Window = "PT5X" }), `"PT5X" is not an ISO 8601 duration`},
		{"no window", metric(func(r *wire.AlertRule) { r.Window = "" }), "window is required"},
		{"bad operator", metric(func(r *wire.AlertRule) { r.Operator = "<" }), `operator "<": use gt, ge, lt, le, eq or ne`},
		{"no threshold", metric(func(r *wire.AlertRule) { r.Threshold = nil }), "a threshold is required with operator lt"},
		{"bad aggregation", metric(func(r *wire.AlertRule) { r.Aggregation = "median" }), `aggregation "median": use one of avg, min, max, total, count`},
		{"severity", metric(func(r *wire.AlertRule) { r.Severity = 5 }), "severity 5: use 0 (critical)"},
		{"drop and threshold", metric(func(r *wire.AlertRule) { r.DropPercent = 10 }), "dropPercent replaces operator and threshold"},
		{"drop over 100", metric(func(r *wire.AlertRule) { r.Operator, r.Threshold, r.DropPercent = "", nil, 150 }), "dropPercent 150: use a percentage above 0 and at most 100"},
		{"bad name", metric(func(r *wire.AlertRule) { r.Name = "no spaces" }), `alert rule name "no spaces"`},
		{"both", metric(func(r *wire.AlertRule) { r.Query = "AzureDiagnostics" }), "a metric or a query, not both"},
		{"neither", metric(func(r *wire.AlertRule) { r.Metric = "" }), "a rule needs a metric"},
		{"unknown action group", metric(func(r *wire.AlertRule) { r.ActionGroups = []string{"opz"} }), `no action group named "opz"`},
		{"query does not compile", wire.AlertRule{Name: "q", Query: "AzureDiagnostics | wher x", Operator: "gt", Threshold: ptr(5.0), Window: "5m", Frequency: "1m"},
			"query does not compile: line 1, col 20: expected an operator"},
		{"log aggregation without column", wire.AlertRule{Name: "q", Query: "AzureDiagnostics", Aggregation: "avg", Operator: "gt", Threshold: ptr(5.0), Window: "5m", Frequency: "1m"},
			`aggregation "avg" needs a column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustEngine(t)
			_, _, err := f.e.PutRule(context.Background(), tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || tether.ErrorCode(err) != tether.ArgumentInvalid {
				t.Errorf("PutRule = %v, want ArgumentInvalid containing %q", err, tc.want)
			}
		})
	}
}

func TestPutRuleDefaults(t *testing.T) {
	f := mustEngine(t)
	out, created, err := f.e.PutRule(context.Background(), wire.AlertRule{Name: "r", Metric: "connectedDeviceCount", Operator: "lt",
		Threshold: ptr(1.0), Window: "PT5M", Frequency: "PT1M"})
	if err != nil || !created {
		t.Fatalf("PutRule = %v, %v", created, err)
	}
	if out.Aggregation != "avg" || !*out.Enabled || !*out.AutoResolve || out.Window != "5m" || out.Frequency != "1m" ||
		out.PendingEvaluations != 1 || out.SignalType != "Metric" || out.State != "Inactive" {
		t.Errorf("defaults = %+v", out)
	}
	if _, created, _ := f.e.PutRule(context.Background(), wire.AlertRule{Name: "r", Metric: "connectedDeviceCount", Operator: "lt",
		Threshold: ptr(2.0), Window: "5m", Frequency: "1m"}); created {
		t.Errorf("a second PutRule of the same name created it again")
	}
}

func TestStep(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		from        Status
		met         bool
		pending     int
		autoResolve bool
		want        State
		changed     bool
	}{
		{"inactive stays", Status{State: Inactive}, false, 1, true, Inactive, false},
		{"inactive fires at once", Status{State: Inactive}, true, 1, true, Fired, true},
		{"inactive to pending", Status{State: Inactive}, true, 2, true, Pending, true},
		{"pending fires", Status{State: Pending, Met: 1}, true, 2, true, Fired, true},
		{"pending waits", Status{State: Pending, Met: 1}, true, 3, true, Pending, false},
		{"pending back", Status{State: Pending, Met: 2}, false, 3, true, Inactive, true},
		{"fired stays", Status{State: Fired, Met: 4}, true, 1, true, Fired, false},
		{"fired resolves", Status{State: Fired, Met: 4}, false, 1, true, Resolved, true},
		{"fired without auto-resolve", Status{State: Fired, Met: 4}, false, 1, false, Fired, false},
		{"resolved fires again", Status{State: Resolved}, true, 1, true, Fired, true},
		{"resolved stays", Status{State: Resolved}, false, 1, true, Resolved, false},
		{"new rule, not met", Status{}, false, 1, true, Inactive, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := Step(tc.from, tc.met, tc.pending, tc.autoResolve, t0)
			if got.State != tc.want || changed != tc.changed {
				t.Errorf("Step(%+v, %v) = %s, %v; want %s, %v", tc.from, tc.met, got.State, changed, tc.want, tc.changed)
			}
			if got.State == Fired && tc.from.State != Fired && !got.FiredAt.Equal(t0) {
				t.Errorf("FiredAt = %v, want %v", got.FiredAt, t0)
			}
		})
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"5m": 5 * time.Minute, "PT5M": 5 * time.Minute, "P1DT2H": 26 * time.Hour,
		"PT10S": 10 * time.Second, "pt1h30m": 90 * time.Minute, "PT0.5S": 500 * time.Millisecond} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "P5M5", "5", "PTM"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = nil error", in)
		}
	}
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 10 * time.Second: "10s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %s, want %s", d, got, want)
		}
		if back, err := time.ParseDuration(shortDuration(d)); err != nil || back != d {
			t.Errorf("time.ParseDuration(%s) = %v, %v; want %v", shortDuration(d), back, err, d)
		}
	}
	for d, want := range map[time.Duration]string{5 * time.Minute: "PT5M", 10 * time.Second: "PT10S", 90 * time.Minute: "PT1H30M", 48 * time.Hour: "P2D"} {
		if got := ISODuration(d); got != want {
			t.Errorf("ISODuration(%v) = %s, want %s", d, got, want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"5m", "PT5M", "P1DT2H", "PT0.5S", "P1W", "PT", "1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseDuration(s) // must not panic
	})
}
