package kql

import (
	"context"
	"strings"
	"testing"
	"time"
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
		// Hourly counts group in the hour index's order: no sort of the rows.
		{"default time range", `AzureDiagnostics | summarize count() by ResultType, bin(TimeGenerated, 1h)`, "COVERING INDEX AzureDiagnostics_hour (<expr>>? AND <expr><?)"},
		{"hourly chart", `AzureDiagnostics | summarize count() by bin(TimeGenerated, 1h) | render timechart`, "COVERING INDEX AzureDiagnostics_hour (<expr>>? AND <expr><?)"},
		{"other bins", `AzureDiagnostics | summarize count() by ResultType, bin(TimeGenerated, 5m)`, "AzureDiagnostics_time (TimeGenerated>? AND TimeGenerated<?)"},
		{"query time filter", `AzureDiagnostics | where TimeGenerated > ago(1h) | project TimeGenerated`, "AzureDiagnostics_time (TimeGenerated>?)"},
		// The query's own time filter picks the rows: the time index, not a
		// whole hour index read in order.
		{"hourly with own filter", `AzureDiagnostics | where TimeGenerated > ago(1h) | summarize count() by bin(TimeGenerated, 1h)`, "AzureDiagnostics_time (TimeGenerated>?)"},
		{"Q10 reads one table", corpusQuery(t, "Q10"), "AzureDiagnostics"},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := queryPlan(t, db, c.q, Options{Now: testNow})
			if !strings.Contains(plan, c.want) {
				t.Errorf("plan does not contain %q:\n%s", c.want, plan)
			}
			if strings.Contains(c.want, "_hour") && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan sorts the rows although it reads the hour index in order:\n%s", plan)
			}
			if strings.Contains(c.name, "Q10") && strings.Contains(plan, "AzureMetrics") {
				t.Errorf("Q10 reads AzureMetrics; Type == \"AzureDiagnostics\" should prune it:\n%s", plan)
			}
		})
	}
}

// TestHourIndexSameResult: bin(TimeGenerated, 1h) through the hour
// index's expression gives what the general bin gives (a copy of the
// column is not the base column, so it takes the general path), with
// the default range and with a request timespan.
func TestHourIndexSameResult(t *testing.T) {
	db := seed(t, testNow)
	span := &TimeRange{Start: testNow.Add(-3 * time.Hour), End: testNow}
	for _, opts := range []Options{{Now: testNow}, {Now: testNow, Timespan: span}} {
		fast := `AzureDiagnostics | summarize n = count() by ResultType, bin(TimeGenerated, 1h) | order by TimeGenerated asc, ResultType asc`
		slow := `AzureDiagnostics | extend T = TimeGenerated | summarize n = count() by ResultType, TimeGenerated = bin(T, 1h) | order by TimeGenerated asc, ResultType asc`
		p, err := Compile(fast, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.SQL, "GROUP BY \"TimeGenerated\" / 3600000000000") {
			t.Fatalf("the hourly summarize does not group by the hour index's expression:\n%s", p.SQL)
		}
		if q, _ := Compile(slow, opts); q == nil || strings.Contains(q.SQL, "3600000000000") {
			t.Fatalf("the copy took the hour path too; the test compares nothing")
		}
		a, err := Query(context.Background(), db, fast, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Query(context.Background(), db, slow, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, want := cells(t, a, "ResultType", "TimeGenerated", "n"), cells(t, b, "ResultType", "TimeGenerated", "n")
		if len(want) < 2 {
			t.Fatalf("the fixture gives %d hourly groups; want several", len(want))
		}
		eq(t, "hourly counts", got, want)
	}
}

// TestFixedColumns: the columns a one-table search carries for other
// tables are left out of the SQL and filled in by Execute, with the
// values SQLite would have returned; union columns of several tables
// are not.
func TestFixedColumns(t *testing.T) {
	db := seed(t, testNow)
	n := len(run(t, db, `AzureDiagnostics`).Rows)
	res := run(t, db, `search * | where Type == "AzureDiagnostics"`)
	if len(res.Rows) != n || n == 0 {
		t.Fatalf("search * | where Type == \"AzureDiagnostics\" gave %d rows; the table has %d", len(res.Rows), n)
	}
	got := sorted(cells(t, res, "$table", "Type", "MetricName", "Total", "AlertName", "Severity"))
	for _, g := range got {
		if g != "AzureDiagnostics|AzureDiagnostics||<nil>||<nil>" {
			t.Fatalf("fixed columns: got %q, want AzureDiagnostics|AzureDiagnostics||<nil>||<nil>", g)
		}
	}
	// Every column fixed: the rows still count, and filters on the fixed
	// columns still run in SQL.
	eq(t, "only fixed columns", cells(t, run(t, db, `search * | where Type == "AzureDiagnostics" | where MetricName == "" | project MetricName, $table | take 2`), "MetricName", "$table"),
		[]string{"|AzureDiagnostics", "|AzureDiagnostics"})
	if r := run(t, db, `search * | where Type == "AzureDiagnostics" | where MetricName != "" | project MetricName`); len(r.Rows) != 0 {
		t.Errorf("a filter on a fixed column was not applied: %d rows", len(r.Rows))
	}
	// Two tables: MetricName varies, so SQL returns it.
	both := run(t, db, `search * | summarize by $table, HasMetric = MetricName != ""`)
	eq(t, "two tables", sorted(cells(t, both, "$table", "HasMetric")), []string{"Alerts|true", "AzureDiagnostics|false", "AzureMetrics|true"})
	p, err := Compile(`search * | where Type == "AzureDiagnostics"`, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.fill) < 20 || strings.Contains(p.SQL[strings.LastIndex(p.SQL, "SELECT"):], `"c1"`) {
		t.Errorf("a one-table search still selects its fixed columns (%d fixed):\n%s", len(p.fill), p.SQL)
	}
}
