package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

// openLogsStore opens a store in a new temporary folder with opts (Path
// filled in) and closes it when the test ends.
func openLogsStore(tb testing.TB, opts Options) *Store {
	tb.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(tb.TempDir(), "tether.db")
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		tb.Fatalf("Open(%+v) = %v", opts, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func mustWriteLogs(tb testing.TB, s *Store, recs []tether.LogRecord) {
	tb.Helper()
	if err := s.WriteLogs(context.Background(), recs); err != nil {
		tb.Fatalf("WriteLogs(%d records) = %v", len(recs), err)
	}
}

func mustCountLogs(tb testing.TB, s *Store) int64 {
	tb.Helper()
	n, err := s.CountLogs(context.Background())
	if err != nil {
		tb.Fatalf("CountLogs() = %v", err)
	}
	return n
}

// queryRows runs query on db and returns every row, each value as
// database/sql gives it.
func queryRows(tb testing.TB, db *sql.DB, query string, args ...any) (cols []string, rows [][]any) {
	tb.Helper()
	rs, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	if cols, err = rs.Columns(); err != nil {
		tb.Fatal(err)
	}
	for rs.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		rows = append(rows, row)
	}
	if err := rs.Err(); err != nil {
		tb.Fatal(err)
	}
	return cols, rows
}

func TestLogsSchema(t *testing.T) {
	s := mustOpen(t)
	// The declared names and types, in order, exactly as Log Analytics
	// names the columns.
	want := map[string][]string{
		"AzureDiagnostics": {
			"TimeGenerated INTEGER", "Type TEXT", "TenantId TEXT", "SourceSystem TEXT", "ResourceId TEXT",
			"_ResourceId TEXT", "SubscriptionId TEXT", "ResourceGroup TEXT", "Resource TEXT",
			"ResourceProvider TEXT", "ResourceType TEXT", "Category TEXT", "OperationName TEXT", "Level TEXT",
			"ResultType TEXT", "ResultDescription TEXT", "DurationMs INTEGER", "properties_s TEXT",
			"location TEXT", "_DeviceId TEXT", "_Reason TEXT", "CorrelationId TEXT",
		},
		"AzureMetrics": {
			"TimeGenerated INTEGER", "Type TEXT", "TenantId TEXT", "SourceSystem TEXT", "ResourceId TEXT",
			"_ResourceId TEXT", "SubscriptionId TEXT", "ResourceGroup TEXT", "Resource TEXT",
			"ResourceProvider TEXT", "MetricName TEXT", "Total REAL", "Count REAL", "Minimum REAL",
			"Maximum REAL", "Average REAL", "TimeGrain TEXT", "UnitName TEXT",
		},
	}
	for table, cols := range want {
		_, rows := queryRows(t, s.LogsDB(), `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`, table)
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprint(r[0], " ", r[1]))
		}
		if diff := cmp.Diff(cols, got); diff != "" {
			t.Errorf("columns of %s (-want +got):\n%s", table, diff)
		}
	}
	// The indexes the KQL compiler can count on.
	_, rows := queryRows(t, s.LogsDB(), `SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name`)
	got := fmt.Sprint(rows)
	for _, idx := range []string{"AzureDiagnostics_time", "AzureDiagnostics_hour", "AzureDiagnostics_device", "AzureDiagnostics_category",
		"AzureMetrics_time", "AzureMetrics_name"} {
		if !strings.Contains(got, idx) {
			t.Errorf("index %s is missing; have %s", idx, got)
		}
	}
}

func TestWriteLogsColumns(t *testing.T) {
	ctx := context.Background()
	s := openLogsStore(t, Options{
		// az's form: mixed case, as `az iot hub show --query id` prints it.
		ResourceID: "/subscriptions/91d12660-3dec-467a-be2a-213b5544ddc0/resourceGroups/My-RG.1/providers/Microsoft.Devices/IotHubs/contoso-hub",
		Location:   "westeurope",
	})
	t0 := time.Date(2024, 6, 26, 10, 11, 12, 123456789, time.FixedZone("CEST", 2*3600))
	dur := int64(42)
	recs := []tether.LogRecord{
		{
			Time: t0, Category: tether.CategoryConnections, OperationName: "deviceDisconnect",
			Level: tether.LevelError, ResultType: "404104", ResultDescription: "DeviceConnectionClosedRemotely",
			Properties: `{"deviceId":"dev-1","protocol":"Mqtt","statusCode":"404"}`,
			DeviceID:   "dev-1", Reason: tether.ReasonKeepAliveTimeout,
		},
		{
			Time: t0.Add(time.Second), Category: tether.CategoryD2CTwinOperations, OperationName: "read",
			Level: tether.LevelInformation, DurationMs: &dur, Properties: `{"deviceId":"dev-2"}`, DeviceID: "dev-2",
		},
	}
	mustWriteLogs(t, s, recs)

	cols, rows := queryRows(t, s.LogsDB(), `SELECT * FROM AzureDiagnostics ORDER BY TimeGenerated`)
	if len(rows) != 2 {
		t.Fatalf("AzureDiagnostics has %d rows, want 2", len(rows))
	}
	const (
		rid  = "/SUBSCRIPTIONS/91D12660-3DEC-467A-BE2A-213B5544DDC0/RESOURCEGROUPS/MY-RG.1/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/CONTOSO-HUB"
		lrid = "/subscriptions/91d12660-3dec-467a-be2a-213b5544ddc0/resourcegroups/my-rg.1/providers/microsoft.devices/iothubs/contoso-hub"
	)
	hub := map[string]any{
		"Type": "AzureDiagnostics", "TenantId": "", "SourceSystem": "Azure",
		"ResourceId": rid, "_ResourceId": lrid, "SubscriptionId": "91D12660-3DEC-467A-BE2A-213B5544DDC0",
		"ResourceGroup": "MY-RG.1", "Resource": "CONTOSO-HUB", "ResourceProvider": "MICROSOFT.DEVICES",
		"ResourceType": "IOTHUBS", "location": "westeurope",
	}
	want := []map[string]any{
		{
			// Truncated to Kusto's 100 ns tick.
			"TimeGenerated": t0.UnixNano() - 89, "Category": "Connections", "OperationName": "deviceDisconnect",
			"Level": "Error", "ResultType": "404104", "ResultDescription": "DeviceConnectionClosedRemotely",
			"DurationMs": nil, "properties_s": recs[0].Properties, "_DeviceId": "dev-1", "_Reason": "keepalive_timeout",
			"CorrelationId": "",
		},
		{
			"TimeGenerated": t0.Add(time.Second).UnixNano() - 89, "Category": "D2CTwinOperations",
			"OperationName": "read", "Level": "Information", "ResultType": "", "ResultDescription": "",
			"DurationMs": int64(42), "properties_s": recs[1].Properties, "_DeviceId": "dev-2", "_Reason": "",
			"CorrelationId": "",
		},
	}
	for i, row := range rows {
		got := map[string]any{}
		for j, c := range cols {
			got[c] = row[j]
		}
		for k, v := range hub {
			want[i][k] = v
		}
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
	}

	// The time reads back as the instant written, in UTC.
	var ns int64
	if err := s.LogsDB().QueryRowContext(ctx, `SELECT TimeGenerated FROM AzureDiagnostics ORDER BY TimeGenerated LIMIT 1`).Scan(&ns); err != nil {
		t.Fatal(err)
	}
	if got, want := time.Unix(0, ns).UTC(), t0.UTC().Truncate(100*time.Nanosecond); !got.Equal(want) {
		t.Errorf("TimeGenerated = %v, want %v", got, want)
	}
	// The SQL the KQL compiler will write: typed comparisons and bin().
	var bucket, count int64
	err := s.LogsDB().QueryRowContext(ctx, `SELECT TimeGenerated / ? * ?, count(*) FROM AzureDiagnostics
		WHERE ResourceType = 'IOTHUBS' AND TimeGenerated >= ? AND DurationMs > 10 GROUP BY 1`,
		int64(time.Hour), int64(time.Hour), t0.UnixNano()).Scan(&bucket, &count)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Truncate(time.Hour).UnixNano(); bucket != want || count != 1 {
		t.Errorf("bin(TimeGenerated, 1h), count() = %d, %d; want %d, 1", bucket, count, want)
	}
	if n := mustCountLogs(t, s); n != 2 {
		t.Errorf("CountLogs() = %d, want 2", n)
	}
}

func TestWriteLogsZeroTime(t *testing.T) {
	s := mustOpen(t)
	before := time.Now()
	mustWriteLogs(t, s, []tether.LogRecord{{Category: tether.CategoryConnections}})
	after := time.Now()
	var ns int64
	if err := s.LogsDB().QueryRow(`SELECT TimeGenerated FROM AzureDiagnostics`).Scan(&ns); err != nil {
		t.Fatal(err)
	}
	if ns < before.UnixNano()-100 || ns > after.UnixNano() {
		t.Errorf("a record without a time got TimeGenerated %v, want the write's time (%v to %v)",
			time.Unix(0, ns), before, after)
	}
}

func TestWriteLogsBatchSizes(t *testing.T) {
	s := mustOpen(t)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var total int64
	for _, n := range []int{0, 1, logsBatch - 1, logsBatch, logsBatch + 1, 3*logsBatch + 7} {
		recs := benchLogs(n, t0)
		mustWriteLogs(t, s, recs)
		total += int64(n)
		if got := mustCountLogs(t, s); got != total {
			t.Fatalf("after writing %d more, CountLogs() = %d, want %d", n, got, total)
		}
	}
	// Every record is there once, in the order written.
	_, rows := queryRows(t, s.LogsDB(), `SELECT properties_s FROM AzureDiagnostics
		WHERE rowid > (SELECT max(rowid) FROM AzureDiagnostics) - ? ORDER BY rowid`, 3*logsBatch+7)
	recs := benchLogs(3*logsBatch+7, t0)
	for i, r := range rows {
		if r[0] != recs[i].Properties {
			t.Fatalf("row %d of the last batch is %v, want %s", i, r[0], recs[i].Properties)
		}
	}
}

func TestWriteMetrics(t *testing.T) {
	s := mustOpen(t)
	t0 := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	ms := []MetricSample{
		{Time: t0, Name: "d2c.telemetry.ingress.success", Total: 120, Count: 120, Min: 1, Max: 1, Average: 1, TimeGrain: "PT1M", Unit: "Count"},
		{Time: t0, Name: "connectedDeviceCount", Total: 30, Count: 2, Min: 14, Max: 16, Average: 15, TimeGrain: "PT1M", Unit: "Count"},
	}
	for range logsBatch {
		ms = append(ms, MetricSample{Time: t0.Add(time.Minute), Name: "c2d.methods.requestSize", Total: 1.5, Count: 1,
			Min: 1.5, Max: 1.5, Average: 1.5, TimeGrain: "PT1M", Unit: "Bytes"})
	}
	if err := s.WriteMetrics(context.Background(), ms); err != nil {
		t.Fatalf("WriteMetrics() = %v", err)
	}
	cols, rows := queryRows(t, s.LogsDB(), `SELECT * FROM AzureMetrics ORDER BY rowid LIMIT 2`)
	got := map[string]any{}
	for j, c := range cols {
		got[c] = rows[1][j]
	}
	want := map[string]any{
		"TimeGenerated": t0.UnixNano(), "Type": "AzureMetrics", "TenantId": "", "SourceSystem": "Azure",
		"ResourceId": DefaultResourceID, "_ResourceId": strings.ToLower(DefaultResourceID),
		"SubscriptionId": "00000000-0000-0000-0000-000000000000", "ResourceGroup": "TETHER", "Resource": "TETHER",
		"ResourceProvider": "MICROSOFT.DEVICES", "MetricName": "connectedDeviceCount",
		"Total": 30.0, "Count": 2.0, "Minimum": 14.0, "Maximum": 16.0, "Average": 15.0,
		"TimeGrain": "PT1M", "UnitName": "Count",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AzureMetrics row (-want +got):\n%s", diff)
	}
	var n int
	if err := s.LogsDB().QueryRow(`SELECT count(*) FROM AzureMetrics`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("AzureMetrics has %d rows (%v), want %d", n, err, len(ms))
	}
}

func TestParseResourceID(t *testing.T) {
	good := []struct{ in, sub, rg, name string }{
		{DefaultResourceID, "00000000-0000-0000-0000-000000000000", "TETHER", "TETHER"},
		{"/SUBSCRIPTIONS/91D12660-3DEC-467A-BE2A-213B5544DDC0/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB-01",
			"91D12660-3DEC-467A-BE2A-213B5544DDC0", "RG", "HUB-01"},
		{"/subscriptions/91d12660-3dec-467a-be2a-213b5544ddc0/resourceGroups/my_rg(test).v2/providers/Microsoft.Devices/IotHubs/contoso",
			"91D12660-3DEC-467A-BE2A-213B5544DDC0", "MY_RG(TEST).V2", "CONTOSO"},
		{"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/" + strings.Repeat("h", 50),
			"00000000-0000-0000-0000-000000000000", "R", strings.Repeat("H", 50)},
	}
	for _, c := range good {
		sub, rg, name, err := ParseResourceID(c.in)
		if err != nil || sub != c.sub || rg != c.rg || name != c.name {
			t.Errorf("ParseResourceID(%q) = %q, %q, %q, %v; want %q, %q, %q, nil", c.in, sub, rg, name, err, c.sub, c.rg, c.name)
		}
	}
	const (
		sub = "00000000-0000-0000-0000-000000000000"
		pre = "/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/"
	)
	bad := []struct{ in, why string }{
		{"", "must start with '/'"},
		{"SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", "must start with '/'"},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB/", "9 path segments"},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS", "7 path segments"},
		{"/SUBSCRIPTION/" + sub + "/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", `segment 1 is "SUBSCRIPTION"`},
		{"/SUBSCRIPTIONS/" + sub + "/GROUPS/RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", `segment 3 is "GROUPS"`},
		{pre + "RG/PROVIDER/MICROSOFT.DEVICES/IOTHUBS/HUB", `segment 5 is "PROVIDER"`},
		{pre + "RG/PROVIDERS/MICROSOFT.EVENTHUB/IOTHUBS/HUB", `provider is "MICROSOFT.EVENTHUB"`},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/PROVISIONINGSERVICES/HUB", `segment 7 is "PROVISIONINGSERVICES"`},
		{"/SUBSCRIPTIONS/not-a-guid/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", "not a GUID"},
		{"/SUBSCRIPTIONS/00000000-0000-0000-0000-00000000000g/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", "not a GUID"},
		{"/SUBSCRIPTIONS/00000000000000000000000000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", "not a GUID"},
		{pre + "/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", "resource group \"\" must be 1 to 90"},
		{pre + strings.Repeat("R", 91) + "/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", "1 to 90"},
		{pre + "RG./PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", `must not end in "."`},
		{pre + "R G/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB", `contains ' '`},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HU", "hub name \"HU\" must be 3 to 50"},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/" + strings.Repeat("H", 51), "3 to 50"},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB-", `must not end in "-"`},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB_1", `contains '_'`},
		{pre + "RG/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HÜB", `contains 'Ü'`},
	}
	for _, c := range bad {
		_, _, _, err := ParseResourceID(c.in)
		if err == nil {
			t.Errorf("ParseResourceID(%q) = nil error, want one saying %q", c.in, c.why)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.why) || !strings.Contains(msg, "/SUBSCRIPTIONS/<subscription-guid>/") {
			t.Errorf("ParseResourceID(%q) = %q; want it to say %q and show the expected form", c.in, msg, c.why)
		}
	}
}

func TestOpenRejectsBadResourceID(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), Options{Path: filepath.Join(dir, "tether.db"), ResourceID: "/SUBSCRIPTIONS/x"})
	if err == nil || !strings.Contains(err.Error(), "resource ID") {
		t.Fatalf("Open with a malformed ResourceID = %v, want an error about the resource ID", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Open with a malformed ResourceID left files behind: %v", entries)
	}
}

func TestLogsPath(t *testing.T) {
	dir := t.TempDir()
	mustOpenPath(t, filepath.Join(dir, "tether.db"))
	if _, err := os.Stat(filepath.Join(dir, "logs.db")); err != nil {
		t.Errorf("default logs file: %v", err)
	}
	other := filepath.Join(t.TempDir(), "sub", "diag.db")
	s := openLogsStore(t, Options{Path: filepath.Join(dir, "b", "tether.db"), LogsPath: other})
	mustWriteLogs(t, s, benchLogs(3, time.Now()))
	if _, err := os.Stat(other); err != nil {
		t.Errorf("Options.LogsPath: %v", err)
	}
	var mode string
	if err := s.LogsDB().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode of the logs file = %q, %v; want wal", mode, err)
	}
}

func TestLogsDBIsReadOnly(t *testing.T) {
	s := mustOpen(t)
	mustWriteLogs(t, s, benchLogs(1, time.Now()))
	for _, q := range []string{
		`INSERT INTO AzureDiagnostics (TimeGenerated) VALUES (1)`,
		`DELETE FROM AzureDiagnostics`,
		`CREATE TABLE x (a)`,
	} {
		if _, err := s.LogsDB().Exec(q); err == nil {
			t.Errorf("LogsDB().Exec(%q) succeeded; want a read-only error", q)
		}
	}
	if n := mustCountLogs(t, s); n != 1 {
		t.Errorf("CountLogs() = %d, want 1", n)
	}
}

func TestTrimLogs(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	// More old rows than one trim chunk, written out of time order, with
	// new rows in between, so that trimming is by time, not by position.
	old := benchLogs(trimChunk+2345, t0) // t0 … t0+12.3 s
	recent := benchLogs(1000, t0.Add(time.Hour))
	mustWriteLogs(t, s, recent[:500])
	mustWriteLogs(t, s, old[:7000])
	mustWriteLogs(t, s, recent[500:])
	mustWriteLogs(t, s, old[7000:])
	ms := []MetricSample{{Time: t0, Name: "old"}, {Time: t0.Add(time.Hour), Name: "new"}}
	if err := s.WriteMetrics(ctx, ms); err != nil {
		t.Fatal(err)
	}

	n, err := s.TrimLogs(ctx, t0.Add(30*time.Minute))
	if want := int64(len(old) + 1); err != nil || n != want {
		t.Fatalf("TrimLogs() = %d, %v; want %d, nil", n, err, want)
	}
	if got := mustCountLogs(t, s); got != int64(len(recent)) {
		t.Errorf("after trimming, CountLogs() = %d, want %d", got, len(recent))
	}
	var oldest int64
	if err := s.LogsDB().QueryRow(`SELECT min(TimeGenerated) FROM AzureDiagnostics`).Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	if oldest != t0.Add(time.Hour).UnixNano() {
		t.Errorf("the oldest record left is from %v, want %v", time.Unix(0, oldest).UTC(), t0.Add(time.Hour))
	}
	_, rows := queryRows(t, s.LogsDB(), `SELECT MetricName FROM AzureMetrics`)
	if fmt.Sprint(rows) != "[[new]]" {
		t.Errorf("after trimming, AzureMetrics holds %v, want [[new]]", rows)
	}

	// The cut is exclusive: a record exactly at olderThan stays.
	if n, err := s.TrimLogs(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("TrimLogs(the oldest record's time) = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.TrimLogs(ctx, time.Now()); err != nil || n != int64(len(recent))+1 {
		t.Errorf("TrimLogs(now) = %d, %v; want %d, nil", n, err, len(recent)+1)
	}
	if got := mustCountLogs(t, s); got != 0 {
		t.Errorf("after trimming everything, CountLogs() = %d", got)
	}
}

func TestTrimLogsLetsWritersIn(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 6 {
		mustWriteLogs(t, s, benchLogs(10_000, t0.Add(time.Duration(i)*time.Minute)))
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.TrimLogs(ctx, t0.Add(time.Hour))
		done <- err
	}()
	// Writes go on while the trim runs; each waits at most for one chunk.
	var writes int
	for trimming := true; trimming; writes++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("TrimLogs() = %v", err)
			}
			trimming = false
		default:
		}
		mustWriteLogs(t, s, benchLogs(10, t0.Add(2*time.Hour)))
	}
	t.Logf("%d writes went in while TrimLogs deleted 60000 rows", writes-1)
	if got := mustCountLogs(t, s); got != int64(10*writes) {
		t.Errorf("CountLogs() = %d after %d writes of 10 during the trim, want %d", got, writes, 10*writes)
	}
}

func TestWriteLogsConcurrent(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	const (
		writers = 8
		batches = 25
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				recs := benchLogs(1+(w*batches+b)%150, time.Now())
				for i := range recs {
					recs[i].DeviceID = fmt.Sprintf("writer-%d", w)
				}
				if err := s.WriteLogs(ctx, recs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Readers count all along; they never wait for a writer.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.CountLogs(ctx); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, rows := queryRows(t, s.LogsDB(), `SELECT _DeviceId, count(*) FROM AzureDiagnostics GROUP BY _DeviceId ORDER BY 1`)
	if len(rows) != writers {
		t.Fatalf("rows from %d writers, want %d: %v", len(rows), writers, rows)
	}
	for w, r := range rows {
		var want int64
		for b := range batches {
			want += int64(1 + (w*batches+b)%150)
		}
		if r[0] != fmt.Sprintf("writer-%d", w) || r[1] != want {
			t.Errorf("writer %d: got %v rows for %v, want %d", w, r[1], r[0], want)
		}
	}
}

func TestLogsReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tether.db")
	t0 := time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	mustWriteLogs(t, s, benchLogs(100, t0))
	mustClose(t, s)

	// Reopened under another resource ID: old rows keep the one they were
	// written under.
	const rid = "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/PROD/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/PLANT-7"
	s = openLogsStore(t, Options{Path: path, ResourceID: rid})
	if n := mustCountLogs(t, s); n != 100 {
		t.Fatalf("after reopening, CountLogs() = %d, want 100", n)
	}
	mustWriteLogs(t, s, benchLogs(50, t0.Add(time.Hour)))
	_, rows := queryRows(t, s.LogsDB(), `SELECT ResourceId, Resource, count(*) FROM AzureDiagnostics GROUP BY 1, 2 ORDER BY 3 DESC`)
	want := fmt.Sprint([][]any{{DefaultResourceID, "TETHER", int64(100)}, {rid, "PLANT-7", int64(50)}})
	if got := fmt.Sprint(rows); got != want {
		t.Errorf("rows by resource = %s, want %s", got, want)
	}
	var version int
	ms, _ := readMigrations(logsSchema)
	if err := s.LogsDB().QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != len(ms) {
		t.Errorf("user_version of the logs file = %d, %v; want %d", version, err, len(ms))
	}
}

func TestLogsFileNewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpenPath(t, filepath.Join(dir, "tether.db"))
	if _, err := s.logs.w.ExecContext(ctx, `PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	_, err := Open(ctx, Options{Path: filepath.Join(dir, "tether.db")})
	if err == nil || !strings.Contains(err.Error(), "logs.db") {
		t.Fatalf("Open with a newer logs.db = %v, want an error naming logs.db", err)
	}
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open with a newer logs.db = %v, want ErrNewerSchema", err)
	}
}

// logsKillDirEnv, when set, makes TestLogsSurvivesKill the child process
// that writes logs to the store in that folder until it is killed.
const logsKillDirEnv = "TETHER_STORE_LOGS_KILL_DIR"

// logsKillBatch is how many records the child writes per WriteLogs.
const logsKillBatch = 300

// TestLogsSurvivesKill writes logs in a child process, kills it with
// SIGKILL while it writes, and checks that every batch whose WriteLogs
// returned is there, whole, and that no batch is there in part.
func TestLogsSurvivesKill(t *testing.T) {
	if dir := os.Getenv(logsKillDirEnv); dir != "" {
		writeLogsUntilKilled(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLogsSurvivesKill$")
	cmd.Env = append(os.Environ(), logsKillDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed int64 // the last batch the child saw committed
	lines := bufio.NewScanner(out)
	for committed < 40 && lines.Scan() {
		if n, err := strconv.ParseInt(lines.Text(), 10, 64); err == nil {
			committed = n
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if committed < 40 {
		t.Fatalf("the child committed only %d batches before it ended", committed)
	}

	s := mustOpenPath(t, filepath.Join(dir, "tether.db"))
	_, rows := queryRows(t, s.LogsDB(), `SELECT _DeviceId, count(*) FROM AzureDiagnostics GROUP BY 1`)
	got := map[string]int64{}
	for _, r := range rows {
		got[r[0].(string)] = r[1].(int64)
	}
	for b := int64(1); b <= committed; b++ {
		if n := got[fmt.Sprintf("batch-%d", b)]; n != logsKillBatch {
			t.Errorf("after kill -9, batch %d (committed) has %d of its %d records", b, n, logsKillBatch)
		}
	}
	for dev, n := range got {
		if n != logsKillBatch {
			t.Errorf("after kill -9, %s has %d records: a batch was stored in part", dev, n)
		}
	}
	if len(got) > int(committed)+1 {
		t.Errorf("after kill -9, %d batches are stored; the child committed %d (at most one more may have been in flight)", len(got), committed)
	}
}

// writeLogsUntilKilled writes batches to the store in dir and prints the
// number of each batch once its WriteLogs has returned, until the process
// is killed.
func writeLogsUntilKilled(t *testing.T, dir string) {
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	recs := benchLogs(logsKillBatch, time.Now())
	w := bufio.NewWriter(os.Stdout)
	for b, deadline := 1, time.Now().Add(time.Minute); time.Now().Before(deadline); b++ {
		for i := range recs {
			recs[i].DeviceID = fmt.Sprintf("batch-%d", b)
		}
		if err := s.WriteLogs(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		w.WriteString(strconv.Itoa(b) + "\n")
		w.Flush()
	}
}
