package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/kql"
	"github.com/tether-iot/tether/internal/store"
)

// The KQL log-search benchmarks of docs/benchmarks.md: the documented
// queries over 1,000,000 generated Connections rows spanning 24 hours,
// in a real logs.db, through the read-only pool the API queries. Run
// them (the machine to itself) with
//
//	flock /tmp/tether-bench.lock go test ./internal/server -run '^$' -bench KQL -benchtime 20x
//
// The file is generated once (about 20 s) and kept in
// $TMPDIR/tether-kqlbench-v1-1000000; delete it to make it again.

const benchRows = 1_000_000

// benchEnd is "now" for the benchmark's queries: the rows span the 24
// hours before it, the default time range.
var benchEnd = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

var kqlBenchQueries = []struct{ name, query string }{
	// The troubleshooting guide's query (Q10), target 300 ms.
	{"SeedSearch", "search *\n| where ( Type == \"AzureDiagnostics\" and ResourceType == \"IOTHUBS\")\n| where ( Category == \"Connections\" and Level == \"Error\")"},
	// One device's rows, target 50 ms: the direct form and Q07's form.
	{"DeviceDynamic", "AzureDiagnostics\n| where parse_json(properties_s).deviceId == \"dev-01234\""},
	{"DeviceToString", "AzureDiagnostics\n| where tostring(parse_json(properties_s).deviceId) == \"dev-01234\""},
	{"DeviceQ07", "AzureDiagnostics\n| where ResourceProvider == \"MICROSOFT.DEVICES\" and ResourceType == \"IOTHUBS\"\n| where Category == \"Connections\"\n| extend DeviceId = tostring(parse_json(properties_s).deviceId)\n| where DeviceId == \"dev-01234\""},
	// Errors per code per hour, target 500 ms.
	{"SummarizeByHour", "AzureDiagnostics\n| summarize count() by ResultType, bin(TimeGenerated, 1h)"},
	// Q01, the same rows as the seed query from the table.
	{"Q01", "AzureDiagnostics\n| where ResourceProvider == \"MICROSOFT.DEVICES\" and ResourceType == \"IOTHUBS\"\n| where Category == \"Connections\" and Level == \"Error\""},
}

// mustBenchLogs opens (generating once) the 1M-row store.
func mustBenchLogs(b *testing.B) *store.Store {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("tether-kqlbench-v1-%d", benchRows))
	if _, err := os.Stat(filepath.Join(dir, "complete")); err != nil {
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		os.RemoveAll(dir)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(ctx, store.Options{Path: filepath.Join(tmp, "tether.db")})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		g := connectionLogs{Devices: 5000, Start: benchEnd.Add(-24 * time.Hour), Span: 24 * time.Hour, Seed: 42}
		errs, err := g.write(ctx, st, benchRows)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d Connections rows (%d errors, 5000 devices) in %v", benchRows, errs, time.Since(start).Round(time.Millisecond))
		if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "tether.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func BenchmarkKQL(b *testing.B) {
	st := mustBenchLogs(b)
	db := st.LogsDB()
	opts := kql.Options{Now: benchEnd}
	for _, q := range kqlBenchQueries {
		b.Run(q.name, func(b *testing.B) {
			if p, err := kql.Compile(q.query, opts); err == nil {
				b.Logf("SQL: %s\nplan:\n%s", p.SQL, explain(b, st, p))
			}
			ctx := context.Background()
			rows := 0
			for b.Loop() {
				res, err := kql.Query(ctx, db, q.query, opts)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(res.Rows)
			}
			b.ReportMetric(float64(rows), "rows/op")
		})
	}
}

// explain returns SQLite's plan for p.
func explain(b *testing.B, st *store.Store, p *kql.Plan) string {
	rs, err := st.LogsDB().Query("EXPLAIN QUERY PLAN "+p.SQL, p.Args...)
	if err != nil {
		return err.Error()
	}
	defer rs.Close()
	var sb strings.Builder
	for rs.Next() {
		var id, parent, unused int
		var detail string
		if err := rs.Scan(&id, &parent, &unused, &detail); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&sb, "  %d/%d %s\n", id, parent, detail)
	}
	return sb.String()
}
