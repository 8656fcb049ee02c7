package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql migrations-telemetry/*.sql migrations-logs/*.sql
var migrationFiles embed.FS

// migration is one embedded schema step, which takes the database from
// version-1 to version.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the registry file's embedded migrations in order.
func migrations() ([]migration, error) { return readMigrations(registrySchema) }

// readMigrations returns the embedded migrations in the folder dir, in
// order. Their names start with their version, 0001 upwards with no gaps.
func readMigrations(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for i, e := range entries { // ReadDir sorts by name
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting %04d_", e.Name(), i+1)
		}
		b, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	return ms, nil
}

// migrate brings the database at path up to the newest schema of the
// migration folder dir, in one write transaction, and returns the versions
// before and after.
func migrate(ctx context.Context, db *sql.DB, path, dir string) (from, to int, err error) {
	ms, err := readMigrations(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("open store %s: %w", path, err)
	}
	to = len(ms)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, openError(path, err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&from); err != nil {
		return 0, 0, openError(path, err)
	}
	if from > to {
		return from, to, newerSchemaError(path, from, to)
	}
	// Reading the schema also finds a corrupt first page.
	var objects int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
		return 0, 0, openError(path, err)
	}
	if from == 0 && objects > 0 {
		return 0, 0, corruptError(path, fmt.Errorf("it is SQLite with %d schema objects but no Tether schema version", objects))
	}
	if from == to {
		return from, to, nil
	}
	for _, m := range ms[from:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return 0, 0, openError(path, fmt.Errorf("migration %s: %w", m.name, err))
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", to)); err != nil {
		return 0, 0, openError(path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, openError(path, err)
	}
	return from, to, nil
}
