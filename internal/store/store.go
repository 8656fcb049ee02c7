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
	Path   string       // the SQLite file, such as DIR/tether.db; required
	Logger *slog.Logger // nil discards
}

// Store is the embedded SQLite store. See the package documentation for
// its concurrency contract.
type Store struct {
	path   string
	logger *slog.Logger
	w      *sql.DB // one connection, BEGIN IMMEDIATE: all writes
	r      *sql.DB // read-only pool: all reads outside a write transaction
}

// Open opens the store at opts.Path, creating the file and its folder if
// they are missing, and brings its schema up to date.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("open store: Options.Path is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := checkPath(opts.Path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", opts.Path, err)
	}
	s := &Store{path: opts.Path, logger: logger}
	s.w, err = sql.Open("sqlite", dsn(abs,
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", opts.Path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		s.w.Close()
		return nil, openError(opts.Path, err)
	}
	from, to, err := migrate(ctx, s.w, opts.Path)
	if err != nil {
		s.w.Close()
		return nil, err
	}
	s.r, err = sql.Open("sqlite", dsn(abs,
		"mode=ro",
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis)))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", opts.Path, err)
	}
	s.r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s.r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, openError(opts.Path, err)
	}
	if from != to {
		logger.Info("store schema migrated", "path", opts.Path, "from", from, "to", to)
	}
	logger.Info("store opened", "path", opts.Path, "schema", to)
	return s, nil
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
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the store's file, as given to [Open].
func (s *Store) Path() string { return s.path }

// write runs fn in a write transaction and commits it. An error from fn
// rolls back and is returned unchanged.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
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
