package pki

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"
)

func mustLoad(tb testing.TB, o Options) *Bundle {
	tb.Helper()
	b, err := Load(o)
	if err != nil {
		tb.Fatalf("Load(%+v): %v", o, err)
	}
	return b
}

func verify(t *testing.T, b *Bundle, name string) error {
	t.Helper()
	pem, err := os.ReadFile(b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", b.CAFile)
	}
	_, err = b.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: b.Leaf.NotBefore.Add(2 * time.Hour)})
	return err
}

func TestLoadCreatesAndReuses(t *testing.T) {
	dir := t.TempDir()
	b1 := mustLoad(t, Options{Dir: dir, Hostname: "hub.example"})
	if !b1.Generated {
		t.Error("first Load: Generated = false, want true")
	}
	for _, name := range []string{"hub.example", "localhost", "127.0.0.1", "::1"} {
		if err := verify(t, b1, name); err != nil {
			t.Errorf("server certificate does not verify for %q: %v", name, err)
		}
	}
	if err := verify(t, b1, "other.example"); err == nil {
		t.Error("server certificate verifies for other.example; want failure")
	}
	b2 := mustLoad(t, Options{Dir: dir, Hostname: "hub.example"})
	if b2.Generated {
		t.Error("second Load: Generated = true, want reuse")
	}
	if !b1.Leaf.Equal(b2.Leaf) {
		t.Error("second Load made a new server certificate")
	}
	st, err := os.Stat(dir + "/tls/ca-key.pem")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("ca-key.pem mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
}

func TestLoadRenews(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b1 := mustLoad(t, Options{Dir: dir, Hostname: "a.example", Now: now})
	b2 := mustLoad(t, Options{Dir: dir, Hostname: "b.example", Now: now})
	if !b2.Generated || verify(t, b2, "b.example") != nil {
		t.Error("changing the host name did not renew the server certificate")
	}
	b3 := mustLoad(t, Options{Dir: dir, Hostname: "b.example", Now: now.Add(ServerLifetime - 24*time.Hour)})
	if !b3.Generated {
		t.Error("a certificate one day from expiry was not renewed")
	}
	if b1.CAFile != b3.CAFile || verify(t, b3, "b.example") != nil {
		t.Error("renewal changed the CA")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	b := mustLoad(t, Options{Dir: dir})
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"cert without key", Options{Dir: dir, CertFile: dir + "/tls/server.pem"}, "go together"},
		{"missing files", Options{Dir: dir, CertFile: dir + "/nope.pem", KeyFile: dir + "/nope-key.pem"}, "nope.pem"},
		{"wrong host", Options{Dir: dir, Hostname: "elsewhere.example", CertFile: dir + "/tls/server.pem", KeyFile: dir + "/tls/server-key.pem"}, "does not cover"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want error containing %q", err, tc.want)
			}
		})
	}
	own := mustLoad(t, Options{Dir: dir, CertFile: dir + "/tls/server.pem", KeyFile: dir + "/tls/server-key.pem"})
	if own.CAFile != "" || !own.Leaf.Equal(b.Leaf) {
		t.Error("operator certificate not used as given")
	}
}
