package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// decode renders a as the common schema and decodes it as generic JSON,
// the way a receiver sees it.
func decode(t *testing.T, a Alert) map[string]any {
	t.Helper()
	if err := a.validate(); err != nil {
		t.Fatalf("validate(%+v) = %v", a, err)
	}
	p, err := CommonSchema(a, DefaultResourceID)
	if err != nil {
		t.Fatalf("CommonSchema() = %v", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a decoded JSON value: at(m, "data", "essentials", "severity").
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func TestCommonSchemaMetricFired(t *testing.T) {
	m := decode(t, metricAlert())
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"schemaId"}, "azureMonitorCommonAlertSchema"},
		{[]any{"data", "essentials", "alertRule"}, "devices-dropped"},
		{[]any{"data", "essentials", "severity"}, "Sev2"},
		{[]any{"data", "essentials", "signalType"}, "Metric"},
		{[]any{"data", "essentials", "monitorCondition"}, "Fired"},
		{[]any{"data", "essentials", "monitoringService"}, "Platform"},
		{[]any{"data", "essentials", "alertTargetIDs", 0}, strings.ToLower(DefaultResourceID)},
		{[]any{"data", "essentials", "configurationItems", 0}, "tether"},
		{[]any{"data", "essentials", "firedDateTime"}, "2026-03-04T05:06:07.1234567Z"},
		{[]any{"data", "essentials", "resolvedDateTime"}, nil},
		{[]any{"data", "essentials", "description"}, "fewer than 15 devices connected"},
		{[]any{"data", "essentials", "essentialsVersion"}, "1.0"},
		{[]any{"data", "essentials", "alertContextVersion"}, "1.0"},
		{[]any{"data", "alertContext", "conditionType"}, "SingleResourceMultipleMetricCriteria"},
		{[]any{"data", "alertContext", "condition", "windowSize"}, "PT5M"},
		{[]any{"data", "alertContext", "condition", "windowStartTime"}, "2026-03-04T05:01:07.1234567Z"},
		{[]any{"data", "alertContext", "condition", "windowEndTime"}, "2026-03-04T05:06:07.1234567Z"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "metricName"}, "connectedDeviceCount"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "metricNamespace"}, "Microsoft.Devices/IotHubs"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "operator"}, "LessThan"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "threshold"}, "15"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "timeAggregation"}, "Minimum"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "metricValue"}, 10.0},
		{[]any{"data", "customProperties"}, nil},
	} {
		if got := at(m, c.path...); got != c.want {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	id, _ := at(m, "data", "essentials", "alertId").(string)
	if !strings.HasPrefix(id, "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.AlertsManagement/alerts/") {
		t.Errorf("alertId = %q, want Azure's form", id)
	}
}

func TestCommonSchemaResolvedSharesTheAlertID(t *testing.T) {
	fired := decode(t, metricAlert())
	a := metricAlert()
	a.State, a.ResolvedAt, a.MetricValue = StateResolved, t0.Add(3*time.Minute), 20
	resolved := decode(t, a)
	if got := at(resolved, "data", "essentials", "monitorCondition"); got != "Resolved" {
		t.Errorf("monitorCondition = %v, want Resolved", got)
	}
	if got := at(resolved, "data", "essentials", "resolvedDateTime"); got != "2026-03-04T05:09:07.1234567Z" {
		t.Errorf("resolvedDateTime = %v", got)
	}
	if got := at(resolved, "data", "alertContext", "condition", "windowEndTime"); got != "2026-03-04T05:09:07.1234567Z" {
		t.Errorf("windowEndTime = %v, want the resolve time", got)
	}
	f, r := at(fired, "data", "essentials", "alertId"), at(resolved, "data", "essentials", "alertId")
	if f != r {
		t.Errorf("alertId fired %v, resolved %v; want the same", f, r)
	}
	a.FiredAt = t0.Add(time.Hour) // the next episode
	if next := at(decode(t, a), "data", "essentials", "alertId"); next == f {
		t.Errorf("the next episode has the same alertId %v", next)
	}
}

func TestCommonSchemaLog(t *testing.T) {
	a := Alert{RuleName: "bad-keys", Severity: 1, State: StateFired, FiredAt: t0, SignalType: SignalLog,
		Query: "AzureDiagnostics | where ResultType == '401003'", Operator: "gt", Threshold: 5, ResultCount: 7,
		WindowSize: 5 * time.Minute, ResourceID: "/subscriptions/abc/resourceGroups/rg/providers/Microsoft.Devices/IotHubs/Hub1"}
	m := decode(t, a)
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"data", "essentials", "signalType"}, "Log"},
		{[]any{"data", "essentials", "monitoringService"}, "Log Alerts V2"},
		{[]any{"data", "essentials", "alertTargetIDs", 0}, "/subscriptions/abc/resourcegroups/rg/providers/microsoft.devices/iothubs/hub1"},
		{[]any{"data", "essentials", "configurationItems", 0}, "Hub1"},
		{[]any{"data", "alertContext", "conditionType"}, "LogQueryCriteria"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "searchQuery"}, "AzureDiagnostics | where ResultType == '401003'"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "metricMeasureColumn"}, nil},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "operator"}, "GreaterThan"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "threshold"}, "5"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "timeAggregation"}, "Count"},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "metricValue"}, 7.0},
		{[]any{"data", "alertContext", "condition", "allOf", 0, "failingPeriods", "minFailingPeriodsToAlert"}, 1.0},
	} {
		if got := at(m, c.path...); got != c.want {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	if id, _ := at(m, "data", "essentials", "alertId").(string); !strings.HasPrefix(id, "/subscriptions/abc/") {
		t.Errorf("alertId = %q, want the alert's subscription", id)
	}
}

func TestCommonSchemaTest(t *testing.T) {
	m := decode(t, TestAlert("ops", t0))
	if got := at(m, "data", "essentials", "monitorCondition"); got != "Fired" {
		t.Errorf("monitorCondition = %v, want Fired (Azure's test payloads are fired alerts)", got)
	}
	if got := at(m, "data", "customProperties", "tetherTest"); got != "true" {
		t.Errorf("customProperties.tetherTest = %v, want true", got)
	}
}

func TestValidateAlert(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Alert)
		want string
	}{
		{"no rule", func(a *Alert) { a.RuleName = " " }, "RuleName is empty"},
		{"severity 5", func(a *Alert) { a.Severity = 5 }, "severity 5 is out of range"},
		{"severity -1", func(a *Alert) { a.Severity = -1 }, "severity -1 is out of range"},
		{"state", func(a *Alert) { a.State = "Firing" }, `state "Firing"`},
		{"resolved without time", func(a *Alert) { a.State = StateResolved }, "needs ResolvedAt"},
		{"no fired time", func(a *Alert) { a.FiredAt = time.Time{} }, "FiredAt is not set"},
		{"signal", func(a *Alert) { a.SignalType = "Trace" }, `signal type "Trace"`},
		{"no signal", func(a *Alert) { a.SignalType = "" }, "signal type is empty"},
		{"operator", func(a *Alert) { a.Operator = "about" }, `operator "about"`},
		{"aggregation", func(a *Alert) { a.Aggregation = "median" }, `aggregation "median"`},
		{"window", func(a *Alert) { a.WindowSize = -time.Second }, "cannot be negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := metricAlert()
			c.edit(&a)
			err := a.validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestISODuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "PT10S", 5 * time.Minute: "PT5M", 90 * time.Minute: "PT1H30M",
		24 * time.Hour: "P1D", 25*time.Hour + 1500*time.Millisecond: "P1DT1H1.5S", 0: "PT0S",
	} {
		if got := isoDuration(d); got != want {
			t.Errorf("isoDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
