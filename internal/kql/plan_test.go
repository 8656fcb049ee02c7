package kql

import (
	"context"
	"strings"
	"testing"
)

// queryPlan returns SQLite's EXPLAIN QUERY PLAN of a compiled query, one
// detail per line.
func queryPlan(t *testing.T, db Querier, q string, opts Options) string {
	t.Helper()
	p, err := Compile(q, opts)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+p.SQL, p.Args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	return strings.Join(out, "\n")
}

func TestPlanUsesIndexes(t *testing.T) {
	db := seed(t, testNow)
	for _, c := range []struct{ name, q, want string }{
		{"Q07 through an extended column", corpusQuery(t, "Q07"), "AzureDiagnostics_device (_DeviceId=?"},
		{"through a parsed column", `AzureDiagnostics | extend parsed_json = parse_json(properties_s) | extend DeviceId = tostring(parsed_json.deviceId) | where DeviceId == "dev-1"`, "AzureDiagnostics_device (_DeviceId=?"},
		{"dynamic per-device predicate", `AzureDiagnostics | where parse_json(properties_s).deviceId == "dev-1"`, "AzureDiagnostics_device (_DeviceId=?"},
		{"direct per-device predicate", `AzureDiagnostics | where tostring(parse_json(properties_s).deviceId) == "dev-1"`, "AzureDiagnostics_device (_DeviceId=?"},
		{"per-device with count", `AzureDiagnostics | where tostring(parse_json(properties_s).deviceId) == "dev-1" | summarize count()`, "AzureDiagnostics_device (_DeviceId=?"},
		{"default time range", `AzureDiagnostics | summarize count() by ResultType, bin(TimeGenerated, 1h)`, "AzureDiagnostics_time (TimeGenerated>? AND TimeGenerated<?)"},
		{"query time filter", `AzureDiagnostics | where TimeGenerated > ago(1h) | project TimeGenerated`, "AzureDiagnostics_time (TimeGenerated>?)"},
		{"Q10 reads one table", corpusQuery(t, "Q10"), "AzureDiagnostics"},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := queryPlan(t, db, c.q, Options{Now: testNow})
			if !strings.Contains(plan, c.want) {
				t.Errorf("plan does not contain %q:\n%s", c.want, plan)
			}
			if strings.Contains(c.name, "Q10") && strings.Contains(plan, "AzureMetrics") {
				t.Errorf("Q10 reads AzureMetrics; Type == \"AzureDiagnostics\" should prune it:\n%s", plan)
			}
		})
	}
}
