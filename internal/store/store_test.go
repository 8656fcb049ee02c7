package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

// mustOpen opens a store in a new temporary folder and closes it when the
// test ends.
func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "tether.db"))
}

// mustOpenPath opens the store at path and closes it when the test ends.
func mustOpenPath(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		tb.Fatalf("Open(%q) = %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return s
}

// mustClose closes s now.
func mustClose(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatalf("Close() = %v", err)
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations() = %v", err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
		t.Fatalf("migrations() starts with %v, want 0001_init.sql", ms)
	}
}

func TestOpenSetsPragmas(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"user_version", fmt.Sprint(mustSchemaVersion(t))},
	} {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s = %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	if _, err := s.r.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('k', 'v')`); err == nil {
		t.Errorf("write through the read pool succeeded, want a read-only error")
	}
}

func TestOpenOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new folder?#%20", "tether.db")
	s := mustOpenPath(t, path)
	if err := s.PutSetting(context.Background(), "k", "v"); err != nil {
		t.Fatalf("PutSetting = %v", err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("store file: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tether.db")
	s := mustOpenPath(t, path)
	d := testDevice("durable")
	if _, err := s.CreateDevice(ctx, d); err != nil {
		t.Fatalf("CreateDevice = %v", err)
	}
	if err := s.PutSetting(ctx, "admin", "secret"); err != nil {
		t.Fatalf("PutSetting = %v", err)
	}
	mustClose(t, s)

	s = mustOpenPath(t, path)
	got, err := s.Device(ctx, d.ID)
	if err != nil || !cmp.Equal(got, d) {
		t.Errorf("after reopening, Device(%q) = %v, %v, want %v", d.ID, got, err, d)
	}
	if v, ok, err := s.Setting(ctx, "admin"); v != "secret" || !ok || err != nil {
		t.Errorf(`after reopening, Setting("admin") = %q, %v, %v, want "secret", true, nil`, v, ok, err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	mustClose(t, mustOpenPath(t, path))
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(context.Background(), Options{Path: path})
	if err == nil {
		s.Close()
		t.Fatalf("Open(%q) = nil error, want ErrNewerSchema", path)
	}
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open(%q) = %v, want ErrNewerSchema", path, err)
	}
	want := "store " + path + fmt.Sprintf(" was written by a newer Tether (schema version 999; this build knows up to %d): ", mustSchemaVersion(t)) +
		"upgrade tether, or point --data at another folder"
	if err.Error() != want {
		t.Errorf("Open(%q) = %q, want %q", path, err, want)
	}
}

func TestOpenCorrupt(t *testing.T) {
	random := make([]byte, 8192)
	rand.NewChaCha8([32]byte{1}).Read(random)
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"random bytes", func(t *testing.T, path string) { mustWrite(t, path, random) }},
		{"text file", func(t *testing.T, path string) { mustWrite(t, path, []byte("device=dev1\nkey=abc\n")) }},
		{"damaged schema page", func(t *testing.T, path string) {
			mustClose(t, mustOpenPath(t, path))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := 100; i < 4096 && i < len(b); i++ {
				b[i] = 0xa5
			}
			mustWrite(t, path, b)
		}},
		{"another application's SQLite", func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tether.db")
			tc.write(t, path)
			s, err := Open(context.Background(), Options{Path: path})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error, want ErrCorrupt", path)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Open(%q) = %v, want ErrCorrupt", path, err)
			}
			prefix := "store " + path + " is not a readable Tether database (corrupt or not SQLite): "
			suffix := "; move it aside to start fresh"
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, suffix) {
				t.Errorf("Open(%q) = %q, want %q…%q", path, msg, prefix, suffix)
			}
		})
	}
}

func TestOpenUnusablePath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	mustWrite(t, file, []byte("x"))
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o000); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "readonly.db")
	mustWrite(t, readOnly, nil)
	if err := os.Chmod(readOnly, 0o400); err != nil {
		t.Fatal(err)
	}
	roDir := filepath.Join(dir, "readonly-folder")
	if err := os.Mkdir(roDir, 0o700); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(roDir, "tether.db"), nil) // SQLite still needs the folder for its -wal file
	if err := os.Chmod(roDir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(roDir, 0o700) }) // so that TempDir can remove it
	for _, tc := range []struct {
		name     string
		path     string
		want     string
		needUser bool // root ignores permissions
	}{
		{"empty", "", "Options.Path is required", false},
		{"a directory", dir, "is a directory", false},
		{"under a file", filepath.Join(file, "tether.db"), "not a directory", false},
		{"unreadable folder", filepath.Join(locked, "tether.db"), "permission denied", true},
		{"read-only file", readOnly, "permission denied", true},
		{"read-only folder", filepath.Join(roDir, "tether.db"), "cannot be opened for reading and writing", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needUser && os.Geteuid() == 0 {
				t.Skip("running as root, which ignores file permissions")
			}
			s, err := Open(context.Background(), Options{Path: tc.path})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error, want one saying %q", tc.path, tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.path) {
				t.Errorf("Open(%q) = %q, want it to name the path and say %q", tc.path, msg, tc.want)
			}
		})
	}
}

// mustSchemaVersion returns the registry's newest schema version.
func mustSchemaVersion(tb testing.TB) int {
	tb.Helper()
	ms, err := migrations()
	if err != nil {
		tb.Fatalf("migrations() = %v", err)
	}
	return len(ms)
}

func mustWrite(tb testing.TB, path string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// errorCode is tether.ErrorCode, or 0 for a nil error.
func errorCode(err error) tether.ResultCode {
	if err == nil {
		return 0
	}
	return tether.ErrorCode(err)
}
