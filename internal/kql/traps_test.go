package kql

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

// trapTable is a small table with nullable columns for the semantic
// traps of kql-semantics.md section 7.
var trapTable = Table{Name: "T", TimeColumn: "TimeGenerated", Columns: []Column{
	{"TimeGenerated", "datetime"}, {"s", "string"}, {"n", "long"}, {"r", "real"}, {"b", "bool"}, {"d", "dynamic"},
}}

func trapDB(t testing.TB) *sql.DB {
	db := seed(t, testNow)
	if _, err := db.Exec(`CREATE TABLE T (TimeGenerated INTEGER NOT NULL, s TEXT NOT NULL DEFAULT '', n INTEGER, r REAL, b INTEGER, d TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		s    string
		n, r any
		b    any
		d    any
	}{
		{"KustoExplorerQueryRun", int64(1), 1.5, int64(1), `{"k":"v","flag":true,"num":1.5,"arr":[1,2,3]}`},
		{"North America", int64(5), nil, int64(0), `"just a string"`},
		{"device_1", nil, 2.0, nil, nil},
	} {
		if _, err := db.Exec(`INSERT INTO T VALUES (?, ?, ?, ?, ?, ?)`, testNow.Add(-time.Duration(i+1)*time.Hour).UnixNano(), r.s, r.n, r.r, r.b, r.d); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// all formats every row of a query's result as "a|b|c".
func all(t *testing.T, db Querier, q string, opts Options) []string {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	opts.Tables = append(opts.Tables, trapTable)
	res, err := Query(context.Background(), db, q, opts)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
	}
	return cells(t, res, names...)
}

func TestTraps(t *testing.T) {
	db := trapDB(t)
	for _, c := range []struct {
		name, q string
		want    []string
		unorder bool
	}{
		{"!= keeps null", `T | where n != 5 | project s`, []string{"KustoExplorerQueryRun", "device_1"}, true},
		{"== drops null", `T | where n == 5 | project s`, []string{"North America"}, true},
		{"!in keeps null", `T | where n !in (5) | project s`, []string{"KustoExplorerQueryRun", "device_1"}, true},
		// As values (not filters): == is false and != true when one side is
		// null; both are null when both sides are (kql-semantics.md §4.1).
		{"projected == and != with nulls", `T | extend e = n == 5, ne = n != 5, both = n == long(null), bothne = r != real(null) | project s, e, ne, both, bothne | order by s asc`,
			[]string{"KustoExplorerQueryRun|false|true|false|true", "North America|true|false|false|<nil>", "device_1|false|true|<nil>|true"}, false},
		{"!contains", `T | where s !contains "america" | project s`, []string{"KustoExplorerQueryRun", "device_1"}, true},
		{"!has", `T | where s !has "north" | project s`, []string{"KustoExplorerQueryRun", "device_1"}, true},
		{"sort default desc nulls last", `T | sort by n | project n`, []string{"5", "1", "<nil>"}, false},
		{"sort asc nulls first", `T | sort by n asc | project n`, []string{"<nil>", "1", "5"}, false},
		{"sort asc nulls last", `T | order by n asc nulls last | project n`, []string{"1", "5", "<nil>"}, false},
		{"multi-key sort", `T | extend g = iff(isnull(n), 0, 1) | sort by g asc, s desc | project s`, []string{"device_1", "North America", "KustoExplorerQueryRun"}, false},
		{"order survives project and take", `AzureDiagnostics | sort by TimeGenerated asc | project OperationName | take 3`, []string{"deviceConnect", "deviceDisconnect", "deviceConnect"}, false},
		{"top", `T | top 2 by r | project r`, []string{"2", "1.5"}, false},
		{"top asc", `T | top 1 by r asc nulls last | project s`, []string{"KustoExplorerQueryRun"}, false},
		{"has is a term", `T | where s has "Explorer" | count`, []string{"0"}, false},
		{"contains is a substring", `T | where s contains "explorer" | count`, []string{"1"}, false},
		{"has word", `T | where s has "america" | project s`, []string{"North America"}, false},
		{"has part of word", `T | where s has "amer" | count`, []string{"0"}, false},
		{"has phrase", `T | where s has "north america" | count`, []string{"1"}, false},
		{"_ separates terms", `T | where s has "device" | project s`, []string{"device_1"}, false},
		{"has_cs", `T | where s has_cs "america" | count`, []string{"0"}, false},
		{"hasprefix", `T | where s hasprefix "amer" | count`, []string{"1"}, false},
		{"startswith endswith", `T | where s startswith "north" and s endswith "RICA" | count`, []string{"1"}, false},
		{"=~", `T | where s =~ "north AMERICA" | project s`, []string{"North America"}, false},
		{"!~", `T | where s !~ "north AMERICA" | count`, []string{"2"}, false},
		{"in~", `T | where s in~ ("DEVICE_1", "x") | project s`, []string{"device_1"}, false},
		{"matches regex", `T | where s matches regex "^[A-Z].*Run$" | project s`, []string{"KustoExplorerQueryRun"}, false},
		{"in a dynamic array", `let names = dynamic(["North America", "device_1"]); T | where s in (names) | count`, []string{"2"}, false},
		{"between", `T | where n between (2 .. 6) | project s`, []string{"North America"}, false},
		{"aggregate names", `T | summarize count(), countif(n > 1), dcount(s), sum(n), avg(r), min(n), max(n)`, []string{"3|1|3|6|1.75|1|5"}, false},
		{"aggregate column names", `T | summarize count(), countif(n > 1), dcount(s), sum(n), avg(r), min(n), max(n) | getschema_names`, nil, false},
		{"count on empty input is one row", `T | where s == "nope" | summarize count(), sum(n), max(n)`, []string{"0|0|<nil>"}, false},
		{"summarize by on empty input has no rows", `T | where s == "nope" | summarize count() by s`, nil, false},
		{"extend overwrite moves last", `T | extend s = strlen(s) | project-away TimeGenerated, r, b, d, Type`, []string{"1|21", "5|13", "<nil>|8"}, true},
		{"Column1", `T | where n == 1 | project strlen(s), n + 1`, []string{"21|2"}, false},
		{"bin 5m", `T | take 1 | project x = bin(datetime(2026-11-25 10:07:31), 5m)`, []string{"2026-11-25T10:05:00.0000000Z"}, false},
		{"bin 1h", `T | take 1 | project x = bin(datetime(2026-11-25 10:07:31), 1h)`, []string{"2026-11-25T10:00:00.0000000Z"}, false},
		{"bin 1d", `T | take 1 | project x = bin(datetime(2026-11-25 10:07:31), 1d)`, []string{"2026-11-25T00:00:00.0000000Z"}, false},
		{"bin 7d (Unix-epoch aligned)", `T | take 1 | project x = bin(datetime(2026-11-25 10:07:31), 7d)`, []string{"2026-11-19T00:00:00.0000000Z"}, false},
		{"bin before 1970 floors", `T | take 1 | project x = bin(datetime(1969-12-31 23:59:59), 1h)`, []string{"1969-12-31T23:00:00.0000000Z"}, false},
		{"bin numbers and timespans", `T | take 1 | project a = bin(4.5, 1), b = bin(16d, 7d), c = bin(-7, 2)`, []string{"4|14.00:00:00|-8"}, false},
		{"bin key keeps its name", `AzureDiagnostics | where Category == "Routes" | summarize count() by bin(TimeGenerated, 1h) | sort by TimeGenerated asc`, []string{"2026-11-25T07:00:00.0000000Z|1", "2026-11-25T08:00:00.0000000Z|1", "2026-11-25T09:00:00.0000000Z|1"}, false},
		{"ago is one clock reading", `T | extend a = ago(1h), b = now(-1h) | where a == b | count`, []string{"3"}, false},
		{"timespan suffixes", `T | take 1 | project a = 24hr == 1d, b = 60min == 1h, c = 7days == 168h, d = 1day, e = 1.5h, f = 100ms, g = 3ticks`, []string{"true|true|true|1.00:00:00|01:30:00|00:00:00.1000000|00:00:00.0000003"}, false},
		{"datetime arithmetic", `T | take 1 | project a = datetime(2026-01-02) - datetime(2026-01-01), b = datetime(2026-01-01) + 36h, c = 1d / 1h`, []string{"1.00:00:00|2026-01-02T12:00:00.0000000Z|24"}, false},
		{"dynamic to string", `T | where n == 1 | project a = tostring(d.flag), b = tostring(d.num), c = tostring(d.arr), e = tostring(d.missing), f = toint(d.arr[1]), g = tostring(d.arr[-1]), h = d["k"]`, []string{`true|1.5|[1,2,3]||2|3|"v"`}, false},
		{"dynamic of a plain string", `T | where n == 5 | project a = tostring(d), b = isnull(d.k)`, []string{"just a string|true"}, false},
		{"double-encoded authType", `AzureDiagnostics | where OperationName == "deviceConnect" | extend scope = tostring(parse_json(tostring(parse_json(properties_s).authType)).scope) | where isnotempty(scope) | project scope`, []string{"device"}, false},
		{"deviceId null is empty", `AzureDiagnostics | where OperationName == "endpointDead" | project DeviceId = tostring(parse_json(properties_s).deviceId), isempty(tostring(parse_json(properties_s).deviceId))`, []string{"|true"}, false},
		{"malformed properties_s", `AzureDiagnostics | where properties_s == "not json{" | project a = tostring(parse_json(properties_s)), b = tostring(parse_json(properties_s).deviceId)`, []string{"not json{|"}, false},
		{"iff case strcat", `T | project x = iff(n > 1, "big", "small"), y = case(n == 1, "one", n == 5, "five", "other"), z = strcat(s, "-", n) | sort by z asc`, []string{"small|one|KustoExplorerQueryRun-1", "big|five|North America-5", "small|other|device_1-"}, false},
		{"casts", `T | where n == 1 | project a = toint("42"), b = todouble("1.25"), c = todatetime("2026-11-25T10:00:00Z"), d = tolong("x"), e = tostring(1.5), f = tostring(datetime(2026-01-01))`, []string{"42|1.25|2026-11-25T10:00:00.0000000Z|<nil>|1.5|2026-01-01T00:00:00.0000000Z"}, false},
		{"isempty isnotempty isnull", `T | project a = isempty(s), b = isnotnull(n), c = isnull(s) | sort by b asc`, []string{"false|false|false", "false|true|false", "false|true|false"}, false},
		{"arithmetic", `T | where n == 5 | project a = n * 2 + 1, b = n / 2, c = n % 2, d = r + 1, e = -n`, []string{"11|2|1|<nil>|-5"}, false},
		{"let scalars", `let d = "dev-1"; let since = ago(12h); AzureDiagnostics | where TimeGenerated > since and tostring(parse_json(properties_s).deviceId) == d | count`, []string{"4"}, false},
		{"distinct", `AzureDiagnostics | distinct Category | sort by Category asc`, []string{"Connections", "D2CTwinOperations", "DeviceTelemetry", "DistributedTracing", "Routes"}, false},
		{"count operator", `AzureDiagnostics | count`, []string{"14"}, false},
		{"union", `union AzureDiagnostics, AzureMetrics | count`, []string{"18"}, false},
		{"union withsource", `union withsource=Src AzureDiagnostics, AzureMetrics | summarize count() by Src | sort by Src asc`, []string{"AzureDiagnostics|14", "AzureMetrics|4"}, false},
		{"union operator", `AzureMetrics | union T | count`, []string{"7"}, false},
		{"search term", `search "dev-2" | project ['$table'], OperationName`, []string{"AzureDiagnostics|ingress", "AzureDiagnostics|ingress"}, true},
		{"search column term", `search in (AzureDiagnostics) Category:"routes" and "unhealthy" | count`, []string{"2"}, false},
		{"search wildcard", `search in (T) "Explor*" | project s`, nil, false},
		{"search contains wildcard", `search in (T) "*Explor*" | project s`, []string{"KustoExplorerQueryRun"}, false},
		{"search case_sensitive", `search kind=case_sensitive in (T) "america" | count`, []string{"0"}, false},
		{"where * has", `T | where * has "north" | project s`, []string{"North America"}, false},
		{"project-rename and away", `T | where n == 1 | project-rename Name = s | project-away TimeGenerated, n, r, b, d, Type`, []string{"KustoExplorerQueryRun"}, false},
		{"arg_min", `AzureMetrics | summarize arg_min(TimeGenerated, Total) by MetricName | sort by MetricName asc | project MetricName, Total`, []string{"connectedDeviceCount|1", "d2c.telemetry.ingress.success|5"}, false},
		{"arg_max star", `AzureMetrics | summarize arg_max(Total, *) by MetricName | sort by MetricName asc | project MetricName, Total, MetricName1`, []string{"connectedDeviceCount|3|connectedDeviceCount", "d2c.telemetry.ingress.success|7|d2c.telemetry.ingress.success"}, false},
		{"make_set", `AzureDiagnostics | where Category == "Routes" | summarize ops = make_set(OperationName) | project n = array_length(ops)`, []string{"2"}, false},
		{"computed sort key survives project", `T | sort by strlen(s) asc | project n`, []string{"<nil>", "5", "1"}, false},
		{"top then project", `T | top 2 by strlen(s) | project s`, []string{"KustoExplorerQueryRun", "North America"}, false},
		{"distinct *", `T | project s = substring(s, 0, 1) | distinct * | sort by s asc`, []string{"K", "N", "d"}, false},
		{"extend uses an earlier item", `T | where n == 5 | extend a = n + 1, b = a * 2 | project a, b`, []string{"6|12"}, false},
		{"named by keys", `AzureDiagnostics | where Category == "Routes" | summarize n = count() by Hour = bin(TimeGenerated, 1h), Op = OperationName | sort by Hour asc, Op asc | project Hour, Op, n`, []string{"2026-11-25T07:00:00.0000000Z|endpointUnhealthy|1", "2026-11-25T08:00:00.0000000Z|endpointDead|1", "2026-11-25T09:00:00.0000000Z|endpointUnhealthy|1"}, false},
		{"sumif avg of longs make_list", `T | summarize sumif(n, n > 1), avg(n), l = make_list(n)`, []string{"5|3|[1,5]"}, false},
		{"string functions", `T | where n == 1 | project toupper(substring(s, 5, 8)), strlen(s), coalesce("", s), tolower("ÄB")`, []string{"EXPLORER|21|KustoExplorerQueryRun|äb"}, false},
		{"union pruned by Type", `union AzureDiagnostics, AzureMetrics | where Type == "AzureMetrics" | count`, []string{"4"}, false},
		{"search in two tables", `search in (AzureMetrics, T) * | summarize count() by ['$table'] | sort by ['$table'] asc`, []string{"AzureMetrics|4", "T|3"}, false},
		{"iff with a null condition takes else", `T | project x = iff(n > 2, "big", "other") | sort by x asc`, []string{"big", "other", "other"}, false},
		{"dynamic deviceId comparison", `AzureDiagnostics | where parse_json(properties_s).deviceId == "test-device" | count`, []string{"2"}, false},
		{"the documented Alerts query", `Alerts | where State == "Fired" | summarize count() by AlertName | sort by AlertName asc`, []string{"drop|1", "storm|1"}, false},
		{"has_any", `T | where s has_any ("america", "nothing") | count`, []string{"1"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if strings.Contains(c.q, "getschema_names") {
				res, err := Query(context.Background(), db, strings.TrimSuffix(c.q, " | getschema_names"), Options{Now: testNow, Tables: []Table{trapTable}})
				if err != nil {
					t.Fatal(err)
				}
				if got := colNames(res); got != "count_:long,countif_:long,dcount_s:long,sum_n:long,avg_r:real,min_n:long,max_n:long" {
					t.Errorf("columns %s", got)
				}
				return
			}
			got := all(t, db, c.q, Options{})
			if c.unorder {
				got, c.want = sorted(got), sorted(c.want)
			}
			eq(t, c.q, got, c.want)
		})
	}
}

func TestTimeRange(t *testing.T) {
	db := trapDB(t)
	span := func(s string) *TimeRange {
		r, err := ParseTimespan(s, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return &r
	}
	for _, c := range []struct {
		name, q string
		opts    Options
		want    string
	}{
		{"default 24h", `AzureDiagnostics | count`, Options{}, "14"},
		{"query filter replaces the default", `AzureDiagnostics | where TimeGenerated > ago(4d) | count`, Options{}, "15"},
		{"filter on an extended copy does not count", `AzureDiagnostics | extend T2 = TimeGenerated | where T2 > ago(4d) | count`, Options{}, "14"},
		{"a time comparison outside a filter does not count", `AzureDiagnostics | extend recent = TimeGenerated > ago(4d) | count`, Options{}, "14"},
		{"DefaultRange", `AzureDiagnostics | count`, Options{DefaultRange: 100 * time.Hour}, "15"},
		{"timespan in addition to the query", `AzureDiagnostics | where TimeGenerated > ago(4d) | count`, Options{Timespan: span("P1D")}, "14"},
		{"timespan PT2H", `AzureDiagnostics | count`, Options{Timespan: span("PT2H")}, "4"},
		{"timespan interval", `AzureDiagnostics | count`, Options{Timespan: span("2026-11-22T00:00:00Z/2026-11-23T00:00:00Z")}, "1"},
		{"search applies it per table", `search * | count`, Options{Timespan: span("PT2H")}, "10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := all(t, db, c.q, c.opts)
			eq(t, c.q, got, []string{c.want})
		})
	}
}

func TestRowCap(t *testing.T) {
	db := seed(t, testNow)
	res, err := Query(context.Background(), db, `AzureDiagnostics`, Options{Now: testNow, MaxRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || !res.Truncated {
		t.Errorf("rows %d truncated %v, want 3 and true", len(res.Rows), res.Truncated)
	}
	res, err = Query(context.Background(), db, `AzureDiagnostics | take 3`, Options{Now: testNow, MaxRows: 3})
	if err != nil || len(res.Rows) != 3 || res.Truncated {
		t.Errorf("take 3 under a cap of 3: rows %d truncated %v err %v", len(res.Rows), res.Truncated, err)
	}
}

func TestExecuteStopsOnCancel(t *testing.T) {
	db := seed(t, testNow)
	slow := &Plan{SQL: `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r`,
		Columns: []Column{{"n", "long"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Execute(ctx, db, slow)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a QueryTimeout wrapping context.DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err = Execute(ctx, db, slow)
	if !errors.As(err, &e) || e.Code != CodeCanceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want QueryCanceled", err)
	}
}

func TestExecuteRefusesWrites(t *testing.T) {
	db := seed(t, testNow)
	for _, s := range []string{"DELETE FROM AzureDiagnostics", "  insert into T values (1)", "DROP TABLE AzureMetrics", "PRAGMA user_version = 5",
		"WITH a AS (SELECT 1) DELETE FROM AzureDiagnostics", "SELECT 1; DELETE FROM AzureDiagnostics", "", "with x as (select 1) insert into T select * from x"} {
		_, err := Execute(context.Background(), db, &Plan{SQL: s})
		if err == nil || !strings.Contains(err.Error(), "not a query") {
			t.Errorf("Execute(%q) = %v, want a refusal", s, err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM AzureDiagnostics`).Scan(&n); err != nil || n != len(fixture) {
		t.Errorf("rows after refused writes = %d, %v", n, err)
	}
}

func TestLimits(t *testing.T) {
	for _, c := range []struct{ name, q, code, want string }{
		{"length", "AzureDiagnostics | where Category == \"" + strings.Repeat("x", MaxQueryLength) + "\"", CodeLimitExceeded, "the limit is"},
		{"operators", "AzureDiagnostics" + strings.Repeat(" | take 1", MaxOperators+1), CodeLimitExceeded, "operators; the limit is"},
		{"depth", "AzureDiagnostics | where " + strings.Repeat("(", 100) + "true" + strings.Repeat(")", 100), CodeLimitExceeded, "nests too deeply"},
		{"in list", "AzureDiagnostics | where Category in (" + strings.Repeat("\"a\", ", MaxInList) + "\"b\")", CodeLimitExceeded, "the limit is"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.q, Options{Now: testNow})
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Message, c.want) {
				t.Errorf("err = %v, want %s containing %q", err, c.code, c.want)
			}
		})
	}
}

func TestParseTimespan(t *testing.T) {
	for _, c := range []struct {
		s          string
		start, end string
	}{
		{"PT1H", "2026-11-25T11:00:00Z", "2026-11-25T12:00:00Z"},
		{"P1D", "2026-11-24T12:00:00Z", "2026-11-25T12:00:00Z"},
		{"P7DT12H", "2026-11-18T00:00:00Z", "2026-11-25T12:00:00Z"},
		{"PT30M", "2026-11-25T11:30:00Z", "2026-11-25T12:00:00Z"},
		{"P1W", "2026-11-18T12:00:00Z", "2026-11-25T12:00:00Z"},
		{"2026-11-20T00:00:00Z/2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"},
		{"2026-11-20T00:00:00Z/PT6H", "2026-11-20T00:00:00Z", "2026-11-20T06:00:00Z"},
		{"PT6H/2026-11-20T06:00:00Z", "2026-11-20T00:00:00Z", "2026-11-20T06:00:00Z"},
	} {
		r, err := ParseTimespan(c.s, testNow)
		if err != nil {
			t.Errorf("ParseTimespan(%q): %v", c.s, err)
			continue
		}
		if got := r.Start.Format(time.RFC3339) + " " + r.End.Format(time.RFC3339); got != c.start+" "+c.end {
			t.Errorf("ParseTimespan(%q) = %s, want %s %s", c.s, got, c.start, c.end)
		}
	}
	for _, s := range []string{"", "1h", "P", "PT", "P1M", "P1Y", "PT1X", "2026-11-21T00:00:00Z/2026-11-20T00:00:00Z", "garbage/PT1H"} {
		if _, err := ParseTimespan(s, testNow); err == nil {
			t.Errorf("ParseTimespan(%q) succeeded", s)
		}
	}
}
