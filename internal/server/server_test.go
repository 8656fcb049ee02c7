package server

import (
	"context"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func testConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.MQTTAddr = "127.0.0.1:0"
	return cfg
}

func TestNewErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	fileDir := filepath.Join(t.TempDir(), "afile")
	os.WriteFile(fileDir, []byte("x"), 0o600)
	corrupt := t.TempDir()
	os.WriteFile(filepath.Join(corrupt, "tether.db"), []byte("this is not a database, it is a text file that is long enough"), 0o600)
	newer := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(newer, "tether.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"port in use", func(c *Config) { c.HTTPSAddr = busy.Addr().String() }, []string{"--https-addr", "already in use"}},
		{"bad address", func(c *Config) { c.HTTPSAddr = "443" }, []string{"--https-addr", "host:port"}},
		{"data is a file", func(c *Config) { c.DataDir = fileDir }, []string{fileDir, "--data"}},
		{"corrupt store", func(c *Config) { c.DataDir = corrupt }, []string{"tether.db", "not a readable Tether database", "move it aside"}},
		{"newer store", func(c *Config) { c.DataDir = newer }, []string{"newer Tether", "999"}},
		{"cert without key", func(c *Config) { c.TLSCert = "x.pem" }, []string{"--tls-key"}},
		{"hostname with port", func(c *Config) { c.Hostname = "localhost:443" }, []string{"--hostname"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.change(&cfg)
			s, err := New(context.Background(), cfg)
			if err == nil {
				s.close()
				t.Fatal("New succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPermissionDeniedAdvice(t *testing.T) {
	err := listenAdvice("--https-addr", ":443", permissionError{})
	for _, w := range []string{"CAP_NET_BIND_SERVICE", "setcap", "--https-addr"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("permission advice %q does not mention %q", err, w)
		}
	}
}

func TestFirstStartCreatesPoliciesOnce(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.CreatedPolicies(), ","); got != "iothubowner,service,device,registryRead,registryReadWrite" {
		t.Errorf("first start created policies %s", got)
	}
	first, _ := s.PolicyConnectionString(ctx, "iothubowner")
	s.close()
	s, err = New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if len(s.CreatedPolicies()) != 0 {
		t.Errorf("second start created policies %v", s.CreatedPolicies())
	}
	again, _ := s.PolicyConnectionString(ctx, "iothubowner")
	if first.Key != again.Key {
		t.Error("owner key changed between starts")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "tls", "ca.pem")); err != nil {
		t.Errorf("no CA after first start: %v", err)
	}
}

// permissionError is what binding a low port without the capability gives.
type permissionError struct{}

func (permissionError) Error() string { return "bind: permission denied" }
func (permissionError) Unwrap() error { return os.ErrPermission }
