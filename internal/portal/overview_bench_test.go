package portal

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// mustLogsDB makes a logs.db with the store's real schema (its migration
// files) and rows Connections rows spread over the last 7 days from 1000
// devices: connects, disconnects, and one refused attempt in ten.
func mustLogsDB(tb testing.TB, rows int, now time.Time) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", filepath.Join(tb.TempDir(), "logs.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	files, _ := filepath.Glob(filepath.Join("..", "store", "migrations-logs", "*.sql"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := db.Exec(string(b)); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO AzureDiagnostics (TimeGenerated, Category, OperationName, Level, ResultType, _DeviceId, _Reason)
		VALUES (?, 'Connections', ?, ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	start := now.Add(-7 * 24 * time.Hour).UnixNano()
	step := (7 * 24 * time.Hour).Nanoseconds() / int64(rows)
	for i := 0; i < rows; i++ {
		op, level, code, reason := "deviceConnect", "Information", "", ""
		switch i % 10 {
		case 1, 3, 5, 7:
			op, level, code, reason = "deviceDisconnect", "Error", "404104", "connection_lost"
		case 9:
			level, code, reason = "Error", "401003", "auth_failed"
		}
		t := (start + int64(i)*step) / 100 * 100
		if _, err := st.Exec(t, op, level, code, fmt.Sprintf("dev-%04d", i%1000), reason); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return db
}

// BenchmarkOverview7d measures the overview's queries over a week of
// 300,000 connection rows (the "Last 7d" button).
func BenchmarkOverview7d(b *testing.B) {
	now := time.Now()
	db := mustLogsDB(b, 300_000, now)
	p := &Portal{o: Options{Logs: db}}
	b.ResetTimer()
	for b.Loop() {
		a := overviewAnswer{Bucket: int64(7*24*time.Hour/time.Second) / points}
		if err := p.fillOverview(context.Background(), &a, now.Add(-7*24*time.Hour), now); err != nil {
			b.Fatal(err)
		}
		if len(a.Failing) != 10 {
			b.Fatalf("failing devices %d, want 10", len(a.Failing))
		}
	}
}

// BenchmarkTimeline7d measures one device's timeline over the same week
// (300 rows of its own among 300,000).
func BenchmarkTimeline7d(b *testing.B) {
	now := time.Now()
	db := mustLogsDB(b, 300_000, now)
	p := &Portal{o: Options{Logs: db, Now: func() time.Time { return now }}}
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/portal/api/devices/dev-0001/timeline?range=7d", nil)
		req.SetPathValue("id", "dev-0001")
		w := httptest.NewRecorder()
		p.timeline(w, req, nil)
		if w.Code != 200 {
			b.Fatalf("timeline %d: %s", w.Code, w.Body)
		}
	}
}

// TestTimelineUsesDeviceIndex checks that SQLite reads one device's rows
// through the device index, not every device's through the category or
// time index (a week of a big fleet would take seconds).
func TestTimelineUsesDeviceIndex(t *testing.T) {
	db := mustLogsDB(t, 1000, time.Now())
	for _, where := range []string{timelineWhere, recentWhere} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+deviceRowsSQL(where), "dev-0001", int64(0), 10)
		if where == recentWhere {
			rows, err = db.Query("EXPLAIN QUERY PLAN "+deviceRowsSQL(where), "dev-0001", 10)
		}
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.Contains(plan[0], "INDEX AzureDiagnostics_device") {
			t.Errorf("plan of %q = %q, want one search of AzureDiagnostics_device and no sort", where, plan)
		}
	}
}
