package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMillis bounds how long a connection waits for a lock that
// another process (or a checkpoint) holds.
const busyTimeoutMillis = 5000

// Options configures [Open].
type Options struct {
	Path string // the SQLite file, such as DIR/tether.db; required
	// TelemetryPath is the SQLite file of the telemetry stream; "" means
	// telemetry.db in Path's folder.
	TelemetryPath string
	// LogsPath is the SQLite file of the diagnostic logs and metrics (the
	// AzureDiagnostics and AzureMetrics tables); "" means logs.db in
	// Path's folder.
	LogsPath string
	// ResourceID is the hub's Azure resource ID, written in the logs'
	// ResourceId column and parsed (see [ParseResourceID]) into
	// SubscriptionId, ResourceGroup and Resource; "" means
	// [DefaultResourceID].
	ResourceID string
	// Location is the logs' location column; "" means [DefaultLocation].
	Location string
	Logger   *slog.Logger // nil discards
}

// Store is the embedded SQLite store. See the package documentation for
// its concurrency contract.
type Store struct {
	path   string
	logger *slog.Logger
	w      *sql.DB // one connection, BEGIN IMMEDIATE: all registry writes
	r      *sql.DB // read-only pool: all registry reads outside a write transaction
	tw     *sql.DB // the telemetry file's one write connection
	tr     *sql.DB // the telemetry file's read-only pool
	// appendStmt inserts one telemetry row; prepared once on tw.
	appendStmt *sql.Stmt
	logs       *logStore // the logs file
}

// The two files' schemas: the embedded migration folders.
const (
	registrySchema  = "migrations"
	telemetrySchema = "migrations-telemetry"
)

// Open opens the store at opts.Path, creating the files and their folders
// if they are missing, and brings their schemas up to date.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("open store: Options.Path is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tpath := opts.TelemetryPath
	if tpath == "" {
		tpath = filepath.Join(filepath.Dir(opts.Path), "telemetry.db")
	}
	hub, err := newHubColumns(opts.ResourceID, opts.Location)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	lpath := opts.LogsPath
	if lpath == "" {
		lpath = filepath.Join(filepath.Dir(opts.Path), "logs.db")
	}
	s := &Store{path: opts.Path, logger: logger}
	if s.w, s.r, err = openFile(ctx, opts.Path, registrySchema, "FULL", logger); err != nil {
		return nil, err
	}
	if s.tw, s.tr, err = openFile(ctx, tpath, telemetrySchema, "NORMAL", logger); err != nil {
		s.w.Close()
		s.r.Close()
		return nil, err
	}
	if s.appendStmt, err = s.tw.PrepareContext(ctx, insertTelemetry); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", tpath, err)
	}
	if s.logs, err = openLogs(ctx, lpath, hub, logger); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openFile opens one SQLite file of the store, migrates it to the newest
// schema in the embedded folder dir, and returns its write connection and
// read-only pool. synchronous is the write connection's PRAGMA
// synchronous: FULL or NORMAL.
func openFile(ctx context.Context, path, dir, synchronous string, logger *slog.Logger) (w, r *sql.DB, err error) {
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
		"_pragma=synchronous("+synchronous+")",
		"_pragma=foreign_keys(1)",
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
	from, to, err := migrate(ctx, w, path, dir)
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

// checkPath makes sure the folder exists and the file can be opened for
// reading and writing, so that a permission problem is reported in the
// operating system's words rather than SQLite's "unable to open".
func checkPath(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store %s: cannot create its folder: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("store %s is a directory, not a database file", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the message names the path already
		}
		return fmt.Errorf("store %s cannot be opened for reading and writing: %w", path, err)
	}
	return f.Close()
}

// dsn returns a modernc "file:" URI for the absolute path abs with the
// given query parameters. SQLite decodes %XX in the path, and '?' and '#'
// would end it, so those three are escaped.
func dsn(abs string, params ...string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume: file:/C:/…
	}
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	return "file:" + p + "?" + strings.Join(params, "&")
}

// Close closes the store. Calls in flight finish first.
func (s *Store) Close() error {
	var errs []error
	if s.appendStmt != nil {
		errs = append(errs, s.appendStmt.Close())
	}
	if s.logs != nil {
		errs = append(errs, s.logs.close())
	}
	for _, db := range []*sql.DB{s.tr, s.tw, s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the store's file, as given to [Open].
func (s *Store) Path() string { return s.path }

// write runs fn in a write transaction of the registry and commits it. An
// error from fn rolls back and is returned unchanged.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return writeTx(ctx, s.w, fn)
}

// writeTx runs fn in a write transaction on db and commits it.
func writeTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit; frees the connection if fn panics
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier is what the read helpers need: the read pool or a write
// transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}
