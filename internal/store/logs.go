package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// The logs file's schema: its embedded migration folder. It has its own
// embed.FS (migrationFiles in migrate.go lists the other two folders).
const logsSchema = "migrations-logs"

// DefaultResourceID is the Azure resource ID the hub logs under when
// Options.ResourceID is empty.
const DefaultResourceID = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/TETHER/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/TETHER"

// DefaultLocation is the location column when Options.Location is empty.
const DefaultLocation = "local"

// MetricSample is one row of the AzureMetrics table: one metric over one
// time grain.
type MetricSample struct {
	Time      time.Time // the start of the grain (TimeGenerated)
	Name      string    // MetricName, such as "d2c.telemetry.ingress.success"
	Total     float64
	Count     int64 // the number of samples; stored as REAL, as in Azure
	Min       float64
	Max       float64
	Average   float64
	TimeGrain string // such as "PT1M"
	Unit      string // UnitName: "Count", "Bytes", "Milliseconds", …
}

// logsBatch is how many rows one INSERT statement of WriteLogs and
// WriteMetrics carries: fewer statement executions per batch.
const logsBatch = 64

// The tables, and the columns the inserts bind per row (as many as the
// params constants say); the hub-wide columns (the *HubColumns) are
// literals in the statements, see logStore.prepare.
const (
	diagnosticsTable = "AzureDiagnostics"
	logColumns       = `TimeGenerated, Category, OperationName, Level, ResultType, ResultDescription,
		DurationMs, properties_s, _DeviceId, _Reason`
	logParams     = 10
	logHubColumns = `Type, TenantId, SourceSystem, ResourceId, _ResourceId, SubscriptionId, ResourceGroup,
		Resource, ResourceProvider, ResourceType, location`

	metricsTable     = "AzureMetrics"
	metricColumns    = `TimeGenerated, MetricName, Total, Count, Minimum, Maximum, Average, TimeGrain, UnitName`
	metricParams     = 9
	metricHubColumns = `Type, TenantId, SourceSystem, ResourceId, _ResourceId, SubscriptionId, ResourceGroup,
		Resource, ResourceProvider`
)

// logStore is the logs file: its write connection, its read-only pool,
// the hub-wide column values and the prepared inserts.
type logStore struct {
	path string
	w, r *sql.DB
	hub  hubColumns
	// insertLog[n] inserts n rows into AzureDiagnostics, for n = 1 and
	// logsBatch; likewise insertMetric.
	insertLog    map[int]*sql.Stmt
	insertMetric map[int]*sql.Stmt
}

// hubColumns are the values of the columns that are the same in every
// row the hub writes.
type hubColumns struct {
	resourceID string // upper case, as Azure writes it
	sub, rg    string
	name       string
	location   string
}

// newHubColumns parses the resource ID and fills in the defaults.
func newHubColumns(resourceID, location string) (hubColumns, error) {
	if resourceID == "" {
		resourceID = DefaultResourceID
	}
	if location == "" {
		location = DefaultLocation
	}
	sub, rg, name, err := ParseResourceID(resourceID)
	if err != nil {
		return hubColumns{}, err
	}
	return hubColumns{
		resourceID: "/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/" + rg + "/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/" + name,
		sub:        sub, rg: rg, name: name, location: location,
	}, nil
}

// ParseResourceID parses an IoT hub's Azure resource ID,
// /SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/<rg>/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/<name>,
// and returns its parts in upper case, as Log Analytics shows them in the
// SubscriptionId, ResourceGroup and Resource columns. The keywords match
// in any case, so the lower-case form that az prints
// (/subscriptions/…/resourceGroups/…/providers/Microsoft.Devices/IotHubs/…)
// is accepted too.
//
// The subscription must be a GUID; the resource group 1 to 90 letters,
// digits, '_', '-', '.', '(' or ')', not ending in '.'; the hub name 3 to
// 50 letters, digits or '-', not ending in '-'.
func ParseResourceID(s string) (sub, rg, name string, err error) {
	const form = "/SUBSCRIPTIONS/<subscription-guid>/RESOURCEGROUPS/<group>/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/<hub>"
	bad := func(why string) (string, string, string, error) {
		return "", "", "", fmt.Errorf("resource ID %q: %s; want %s", s, why, form)
	}
	if !strings.HasPrefix(s, "/") {
		return bad("it must start with '/'")
	}
	parts := strings.Split(s[1:], "/")
	if len(parts) != 8 {
		return bad(fmt.Sprintf("it has %d path segments, not 8", len(parts)))
	}
	for i, kw := range [...]string{0: "SUBSCRIPTIONS", 2: "RESOURCEGROUPS", 4: "PROVIDERS", 6: "IOTHUBS"} {
		if kw != "" && !strings.EqualFold(parts[i], kw) {
			return bad(fmt.Sprintf("segment %d is %q, not %s", i+1, parts[i], kw))
		}
	}
	if !strings.EqualFold(parts[5], "MICROSOFT.DEVICES") {
		return bad(fmt.Sprintf("the provider is %q, not MICROSOFT.DEVICES", parts[5]))
	}
	sub, rg, name = parts[1], parts[3], parts[7]
	if !isGUID(sub) {
		return bad(fmt.Sprintf("the subscription %q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", sub))
	}
	if err := checkName(rg, 1, 90, "_-.()", "."); err != "" {
		return bad("the resource group " + err)
	}
	if err := checkName(name, 3, 50, "-", "-"); err != "" {
		return bad("the hub name " + err)
	}
	return strings.ToUpper(sub), strings.ToUpper(rg), strings.ToUpper(name), nil
}

// isGUID reports whether s is a GUID in its 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// checkName checks an Azure resource name: minLen to maxLen ASCII letters,
// digits and the extra characters, not ending in any of noEnd. It returns
// what is wrong, or "".
func checkName(s string, minLen, maxLen int, extra, noEnd string) string {
	if len(s) < minLen || len(s) > maxLen {
		return fmt.Sprintf("%q must be %d to %d characters long", s, minLen, maxLen)
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.ContainsRune(extra, c)) {
			return fmt.Sprintf("%q contains %q; only letters, digits and %q are allowed", s, c, extra)
		}
	}
	if strings.ContainsRune(noEnd, rune(s[len(s)-1])) {
		return fmt.Sprintf("%q must not end in %q", s, s[len(s)-1:])
	}
	return ""
}

// openLogs opens (creating and migrating) the logs file at path.
func openLogs(ctx context.Context, path string, hub hubColumns, logger *slog.Logger) (*logStore, error) {
	l := &logStore{path: path, hub: hub}
	var err error
	if l.w, l.r, err = openLogsFile(ctx, path, logger); err != nil {
		return nil, err
	}
	if err := l.prepare(ctx); err != nil {
		l.close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return l, nil
}

// prepare prepares the inserts. The hub-wide columns are the same in every
// row, so they are SQL literals in the statements rather than parameters,
// which would more than double the values bound per row (ten of the
// record's, eleven of the hub's).
func (l *logStore) prepare(ctx context.Context) error {
	h := l.hub
	logHub := strings.Join([]string{sqlQuote(diagnosticsTable), "''", "'Azure'", sqlQuote(h.resourceID),
		sqlQuote(strings.ToLower(h.resourceID)), sqlQuote(h.sub), sqlQuote(h.rg), sqlQuote(h.name),
		"'MICROSOFT.DEVICES'", "'IOTHUBS'", sqlQuote(h.location)}, ", ")
	metricHub := strings.Join([]string{sqlQuote(metricsTable), "''", "'Azure'", sqlQuote(h.resourceID),
		sqlQuote(strings.ToLower(h.resourceID)), sqlQuote(h.sub), sqlQuote(h.rg), sqlQuote(h.name),
		"'MICROSOFT.DEVICES'"}, ", ")
	l.insertLog = map[int]*sql.Stmt{}
	l.insertMetric = map[int]*sql.Stmt{}
	for _, n := range []int{1, logsBatch} {
		q := insertRows(diagnosticsTable, logColumns, logHubColumns, logHub, logParams, n)
		stmt, err := l.w.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		l.insertLog[n] = stmt
		q = insertRows(metricsTable, metricColumns, metricHubColumns, metricHub, metricParams, n)
		if stmt, err = l.w.PrepareContext(ctx, q); err != nil {
			return err
		}
		l.insertMetric[n] = stmt
	}
	return nil
}

// insertRows returns an INSERT of n rows into table: each row has params
// parameters for columns, then the literals hubValues for hubColumns.
//
// It is INSERT OR FAIL: a plain (OR ABORT) INSERT of several rows keeps a
// statement journal, to undo its own earlier rows should a later one
// fail, and writing that journal cost a third of WriteLogs' time. The
// writers roll back the whole transaction on any error instead.
func insertRows(table, columns, hubColumns, hubValues string, params, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT OR FAIL INTO %s (%s, %s) VALUES ", table, columns, hubColumns)
	row := "(" + strings.Repeat("?, ", params) + hubValues + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// sqlQuote returns s as an SQL string literal.
func sqlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// close closes the statements and both pools.
func (l *logStore) close() error {
	var errs []error
	for _, m := range []map[int]*sql.Stmt{l.insertLog, l.insertMetric} {
		for _, stmt := range m {
			errs = append(errs, stmt.Close())
		}
	}
	for _, db := range []*sql.DB{l.r, l.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// WriteLogs appends recs to the AzureDiagnostics table in one transaction.
// A record's Time becomes TimeGenerated, truncated to Kusto's 100 ns tick;
// a record with the zero Time gets the time of the write, as Log
// Analytics fills in a missing TimeGenerated with the ingestion time. The
// hub-wide columns come from Options.ResourceID and Options.Location.
// Once WriteLogs returns nil the records survive the process being killed
// (see the package documentation).
func (s *Store) WriteLogs(ctx context.Context, recs []tether.LogRecord) error {
	if len(recs) == 0 {
		return nil
	}
	l := s.logs
	now := time.Now()
	args := make([]any, 0, logsBatch*logParams)
	err := writeTx(ctx, l.w, func(tx *sql.Tx) error {
		for len(recs) > 0 {
			n := 1
			if len(recs) >= logsBatch {
				n = logsBatch
			}
			args = args[:0]
			for i := range recs[:n] {
				r := &recs[i]
				var dur any
				if r.DurationMs != nil {
					dur = *r.DurationMs
				}
				args = append(args, logTime(r.Time, now), r.Category, r.OperationName, r.Level,
					r.ResultType, r.ResultDescription, dur, r.Properties, r.DeviceID, string(r.Reason))
			}
			if _, err := tx.StmtContext(ctx, l.insertLog[n]).ExecContext(ctx, args...); err != nil {
				return err
			}
			recs = recs[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	return nil
}

// WriteMetrics appends ms to the AzureMetrics table in one transaction.
// Times are stored as in WriteLogs.
func (s *Store) WriteMetrics(ctx context.Context, ms []MetricSample) error {
	if len(ms) == 0 {
		return nil
	}
	l := s.logs
	now := time.Now()
	args := make([]any, 0, logsBatch*metricParams)
	err := writeTx(ctx, l.w, func(tx *sql.Tx) error {
		for len(ms) > 0 {
			n := 1
			if len(ms) >= logsBatch {
				n = logsBatch
			}
			args = args[:0]
			for i := range ms[:n] {
				m := &ms[i]
				args = append(args, logTime(m.Time, now), m.Name, nullReal(m.Total), float64(m.Count),
					nullReal(m.Min), nullReal(m.Max), nullReal(m.Average), m.TimeGrain, m.Unit)
			}
			if _, err := tx.StmtContext(ctx, l.insertMetric[n]).ExecContext(ctx, args...); err != nil {
				return err
			}
			ms = ms[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// nullReal returns f for a REAL column: NULL for NaN, which SQLite would
// store as NULL anyway.
func nullReal(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	return f
}

// logTick is Kusto's datetime resolution.
const logTick = 100

// logTime returns t as TimeGenerated: Unix nanoseconds rounded down to a
// whole tick, or now for the zero time.
func logTime(t, now time.Time) int64 {
	if t.IsZero() {
		t = now
	}
	n := t.UnixNano()
	return n - mod(n, logTick)
}

// mod returns n modulo m in [0, m), also for negative n.
func mod(n, m int64) int64 {
	r := n % m
	if r < 0 {
		r += m
	}
	return r
}

// TrimLogs deletes the AzureDiagnostics and AzureMetrics rows whose
// TimeGenerated is before olderThan and returns how many it deleted. It
// deletes in chunks of trimChunk rows, each its own transaction, so that
// WriteLogs is not held up for long.
func (s *Store) TrimLogs(ctx context.Context, olderThan time.Time) (int64, error) {
	cut := olderThan.UnixNano()
	var deleted int64
	for _, table := range []string{diagnosticsTable, metricsTable, alertsTable} {
		q := fmt.Sprintf(`DELETE FROM %[1]s WHERE rowid IN
			(SELECT rowid FROM %[1]s WHERE TimeGenerated < ? ORDER BY TimeGenerated LIMIT ?)`, table)
		for {
			var n int64
			err := writeTx(ctx, s.logs.w, func(tx *sql.Tx) error {
				res, err := tx.ExecContext(ctx, q, cut, trimChunk)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return deleted, fmt.Errorf("trim logs: %w", err)
			}
			deleted += n
			if n < trimChunk {
				break
			}
		}
	}
	return deleted, nil
}

// CountLogs returns the number of rows in AzureDiagnostics. It counts
// them (through the smallest index), so it takes time in proportion to
// the table's size: tens of milliseconds per million rows.
func (s *Store) CountLogs(ctx context.Context) (int64, error) {
	var n int64
	if err := s.logs.r.QueryRowContext(ctx, `SELECT count(*) FROM AzureDiagnostics`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count logs: %w", err)
	}
	return n, nil
}

// LogsDB returns the read-only connection pool of the logs file, holding
// the AzureDiagnostics and AzureMetrics tables, for the KQL executor. It
// is opened with mode=ro, so a write through it fails; callers must not
// try, nor close it: [Store.Close] does. It never waits for WriteLogs.
func (s *Store) LogsDB() *sql.DB { return s.logs.r }

// openLogsFile opens the logs file at path as openFile opens the other
// two: a write connection (WAL, synchronous=NORMAL, BEGIN IMMEDIATE) and a
// read-only pool. It differs in that its migrations come from
// migrations-logs, and in two settings of the writer: a 16 MiB page
// cache, which keeps more of the device index's pages at hand, and a
// checkpoint every 64 MiB of WAL rather than every 4 MiB, so that a page
// of that index, which every batch changes, is copied into the database
// once per several batches rather than after every one.
func openLogsFile(ctx context.Context, path string, logger *slog.Logger) (w, r *sql.DB, err error) {
	if err := checkPath(path); err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w, err = sql.Open("sqlite", dsn(abs,
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=cache_size(-16384)",        // KiB
		"_pragma=wal_autocheckpoint(16384)", // pages: 64 MiB
		"_txlock=immediate"))
	if err != nil {
		return nil, nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, nil, openError(path, err)
	}
	from, to, err := migrate(ctx, w, path, logsSchema)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	r, err = sql.Open("sqlite", dsn(abs,
		"mode=ro",
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis)))
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, nil, openError(path, err)
	}
	if from != to {
		logger.Info("store schema migrated", "path", path, "from", from, "to", to)
	}
	logger.Info("store opened", "path", path, "schema", to)
	return w, r, nil
}
