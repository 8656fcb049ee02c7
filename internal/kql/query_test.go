package kql

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// corpusQuery returns the query section of a golden file.
func corpusQuery(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/golden/" + name + ".txtar")
	if err != nil {
		t.Fatal(err)
	}
	q, ok := parseArchive(string(b)).get("query")
	if !ok {
		t.Fatalf("%s has no query", name)
	}
	return q
}

func run(t *testing.T, db Querier, q string) *Result {
	t.Helper()
	res, err := Query(context.Background(), db, q, Options{Now: testNow})
	if err != nil {
		t.Fatalf("query failed: %v\n%s", err, q)
	}
	return res
}

// cells formats selected columns of every row as "a|b|c".
func cells(t *testing.T, res *Result, cols ...string) []string {
	t.Helper()
	idx := map[string]int{}
	for i, c := range res.Columns {
		idx[c.Name] = i
	}
	var out []string
	for _, r := range res.Rows {
		var parts []string
		for _, c := range cols {
			i, ok := idx[c]
			if !ok {
				t.Fatalf("no column %s in %v", c, res.Columns)
			}
			v := r[i]
			if raw, ok := v.(json.RawMessage); ok {
				v = string(raw)
			}
			parts = append(parts, fmt.Sprint(v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func colNames(res *Result) string {
	var n []string
	for _, c := range res.Columns {
		n = append(n, c.Name+":"+c.Type)
	}
	return strings.Join(n, ",")
}

func sorted(s []string) []string { s = append([]string(nil), s...); sort.Strings(s); return s }

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestCorpusResults(t *testing.T) {
	db := seed(t, testNow)
	t.Run("Q01 connectivity errors", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q01"))
		eq(t, "rows", sorted(cells(t, res, "OperationName", "ResultType", "properties_s")), sorted([]string{
			`deviceDisconnect|404104|{"deviceId":"dev-1","sdkVersion":"azure-iot-device/1.18.0","protocol":"Mqtt"}`,
			`deviceDisconnect|404104|{"deviceId":"test-device","protocol":"Mqtt"}`,
		}))
		if len(res.Columns) != len(azureDiagnostics.Columns) {
			t.Errorf("Q01 returns %d columns, want all %d of AzureDiagnostics", len(res.Columns), len(azureDiagnostics.Columns))
		}
	})
	t.Run("Q02 throttled devices", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q02"))
		if got := colNames(res); got != "DeviceId:string,Category:string,_ResourceId:string,count_:long" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", cells(t, res, "DeviceId", "Category", "count_"), []string{"dev-2|DeviceTelemetry|2", "dev-1|DeviceTelemetry|1"})
	})
	t.Run("Q03 dead endpoints", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q03"))
		if got := colNames(res); got != "Endpoint:string,OperationName:string,Reason:string,_ResourceId:string,count_:long" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", cells(t, res, "Endpoint", "OperationName", "Reason", "count_"), []string{"ep1|endpointUnhealthy|unhealthy|2", "ep1|endpointDead|dead|1"})
	})
	t.Run("Q04 error summary", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q04"))
		if got := colNames(res); got != "ResultType:string,ResultDescription:string,Category:string,_ResourceId:string,count_:long" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", sorted(cells(t, res, "ResultType", "ResultDescription", "Category", "count_")), sorted([]string{
			"||Routes|3", "404104|DeviceConnectionClosedRemotely|Connections|2", "429001|ThrottlingException|DeviceTelemetry|3"}))
	})
	t.Run("Q05 recently connected", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q05"))
		if got := colNames(res); got != "DeviceId:string,_ResourceId:string,max_TimeGenerated:datetime" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", sorted(cells(t, res, "DeviceId", "max_TimeGenerated")), sorted([]string{
			"|2026-11-25T11:30:00.0000000Z", "dev-1|2026-11-25T02:00:00.0000000Z", "test-device|2026-11-25T04:00:00.0000000Z"}))
	})
	t.Run("Q06 sdk versions", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q06"))
		if got := colNames(res); got != "DeviceId:string,SDKVersion:string,TimeGenerated:datetime,_ResourceId:string" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", sorted(cells(t, res, "DeviceId", "SDKVersion")), sorted([]string{
			"dev-1|azure-iot-device/1.18.0", "dev-1|azure-iot-device/1.18.0", "test-device|", "test-device|", "|", "dev-3|sdk-3"}))
	})
	t.Run("Q07 one device", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q07"))
		eq(t, "rows", sorted(cells(t, res, "DeviceId", "OperationName", "Level")), []string{
			"test-device|deviceConnect|Information", "test-device|deviceDisconnect|Error"})
		if last := res.Columns[len(res.Columns)-1]; last.Name != "DeviceId" {
			t.Errorf("last column %s, want the extended DeviceId", last.Name)
		}
	})
	t.Run("Q08 sdk versions of connections", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q08"))
		eq(t, "rows", sorted(cells(t, res, "DeviceId", "SDKVersion")), sorted([]string{
			"dev-1|azure-iot-device/1.18.0", "dev-1|azure-iot-device/1.18.0", "test-device|", "test-device|", "|"}))
	})
	t.Run("Q09 and Q10 isolate connectivity errors", func(t *testing.T) {
		q9 := run(t, db, corpusQuery(t, "Q09"))
		q10 := run(t, db, corpusQuery(t, "Q10"))
		eq(t, "Q09 = Q10 rows", sorted(cells(t, q10, "TimeGenerated", "properties_s")), sorted(cells(t, q9, "TimeGenerated", "properties_s")))
		if len(q9.Rows) != 2 {
			t.Errorf("Q09 returned %d rows, want 2", len(q9.Rows))
		}
		if q10.Columns[0].Name != "$table" || !strings.Contains(colNames(q10), "AlertName:string") || !strings.Contains(colNames(q10), "MetricName:string") {
			t.Errorf("Q10 columns %s: want $table first and the union of both tables", colNames(q10))
		}
		eq(t, "$table", cells(t, q10, "$table"), []string{"AzureDiagnostics", "AzureDiagnostics"})
	})
	t.Run("Q11 timeline", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q11"))
		if got := colNames(res); got != "TimeGenerated:datetime,OperationName:string,Level:string,ResultType:string,ResultDescription:string,DeviceId:string,Protocol:string,SDKVersion:string" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", sorted(cells(t, res, "DeviceId", "OperationName", "Protocol", "SDKVersion")), sorted([]string{
			"dev-1|deviceConnect|Mqtt|azure-iot-device/1.18.0", "dev-1|deviceDisconnect|Mqtt|azure-iot-device/1.18.0",
			"test-device|deviceConnect|Mqtt|", "test-device|deviceDisconnect|Mqtt|", "|deviceConnect||"}))
	})
	t.Run("Q12 distributed traces oldest first", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q12"))
		if got := colNames(res); got != "TimeGenerated:datetime,Category:string,OperationName:string,Level:string,CorrelationId:string,DurationMs:long,properties_s:string" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", cells(t, res, "TimeGenerated", "OperationName", "DurationMs"), []string{
			"2026-11-25T10:00:00.0000000Z|DiagnosticIoTHubD2C|12", "2026-11-25T11:00:00.0000000Z|DiagnosticIoTHubIngress|5"})
	})
	t.Run("Q14 tls versions", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "Q14"))
		if got := colNames(res); got != "DeviceId:dynamic,TLSVersion:dynamic" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", sorted(cells(t, res, "DeviceId", "TLSVersion")), []string{`"dev-1"|"1.2"`, `"test-device"|"1.2"`, "<nil>|<nil>"})
	})
	t.Run("G1 latest metrics", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "G1"))
		if got := colNames(res); got != "MetricName:string,TimeGenerated:datetime,UnitName:string,Total:real,Count:real,Maximum:real,Minimum:real,Average:real" {
			t.Errorf("columns %s", got)
		}
		eq(t, "rows", sorted(cells(t, res, "MetricName", "TimeGenerated", "Total")), []string{
			"connectedDeviceCount|2026-11-25T11:00:00.0000000Z|3", "d2c.telemetry.ingress.success|2026-11-25T10:00:00.0000000Z|7"})
	})
	t.Run("G2 newest metrics", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "G2"))
		eq(t, "rows", cells(t, res, "TimeGenerated", "MetricName"), []string{
			"2026-11-25T11:00:00.0000000Z|connectedDeviceCount", "2026-11-25T10:00:00.0000000Z|d2c.telemetry.ingress.success",
			"2026-11-25T09:00:00.0000000Z|d2c.telemetry.ingress.success", "2026-11-25T08:00:00.0000000Z|connectedDeviceCount"})
	})
	t.Run("G3 find in AzureMetrics", func(t *testing.T) {
		res := run(t, db, corpusQuery(t, "G3"))
		if len(res.Rows) != 0 {
			t.Errorf("G3 with the placeholder value returned %d rows", len(res.Rows))
		}
		q := strings.Replace(corpusQuery(t, "G3"), "<SearchValue>", "CONNECTEDdevice", 1)
		eq(t, "rows", cells(t, run(t, db, q), "MetricName"), []string{"connectedDeviceCount", "connectedDeviceCount"})
		q = strings.Replace(corpusQuery(t, "G3"), "<SearchValue>", "2026-11-25T11:00", 1)
		eq(t, "datetime as text", cells(t, run(t, db, q), "MetricName"), []string{"connectedDeviceCount"})
	})
}

// TestCorpusErrors checks that Q13 and the corpus's invalid queries fail
// with a resolution error naming the problem and its position.
func TestCorpusErrors(t *testing.T) {
	db := seed(t, testNow)
	for _, c := range []struct{ name, q, want string }{
		{"Q13", corpusQuery(t, "Q13"), "line 2, col 9: 'category' is not a column of AzureDiagnostics; did you mean 'Category'?"},
		{"C01 DeviceId", "AzureDiagnostics\n| where DeviceId == \"dev-1\"", "line 2, col 9: 'DeviceId' is not a column of AzureDiagnostics"},
		{"C03 DeviceId_s", "AzureDiagnostics | summarize count() by DeviceId_s", "line 1, col 41: 'DeviceId_s' is not a column of AzureDiagnostics"},
		{"C04 json_extract", "AzureDiagnostics | extend d = json_extract(properties_s, '$.deviceId')", "line 1, col 31: unknown function 'json_extract'; did you mean 'extract_json'?"},
		{"C04 properties", "AzureDiagnostics | project properties", "line 1, col 28: 'properties' is not a column of AzureDiagnostics; did you mean 'properties_s'?"},
		{"C10 body_s", "AzureDiagnostics | extend MessageBody = parse_json(body_s)", "line 1, col 52: 'body_s' is not a column of AzureDiagnostics"},
		{"hidden _DeviceId", "AzureDiagnostics | where _DeviceId == \"dev-1\"", "'_DeviceId' is not a column of AzureDiagnostics"},
		{"hidden _Reason", "AzureDiagnostics | project _Reason", "'_Reason' is not a column of AzureDiagnostics"},
		{"unknown table", "AzureDiagnostic | take 1", "line 1, col 1: unknown table 'AzureDiagnostic'; did you mean 'AzureDiagnostics'?"},
		{"unsupported", "AzureDiagnostics\n| make-series count() on TimeGenerated step 1h", "line 2, col 3: 'make-series' is not supported by Tether; see docs/kql.md"},
		{"type error", "AzureDiagnostics | where ResultType == 429001", "cannot compare string with long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Query(context.Background(), db, c.q, Options{Now: testNow})
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != CodeSemantic || !strings.Contains(e.Error(), c.want) {
				t.Errorf("err = %s: %v\nwant SemanticError containing %q", e.Code, e, c.want)
			}
		})
	}
}
