package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tetherBin is the tether binary built once for the package's tests.
var tetherBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tether-interop-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tetherBin = filepath.Join(dir, "tether")
	build := exec.Command("go", "build", "-o", tetherBin, "github.com/tether-iot/tether/cmd/tether")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "interop: build tether:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireNode skips (or, with TETHER_REQUIRE_INTEROP set, fails) when
// node or the pinned npm packages are missing.
func requireNode(t *testing.T) {
	t.Helper()
	problem := ""
	if _, err := exec.LookPath("node"); err != nil {
		problem = "node is not installed (Debian: apt-get install nodejs npm)"
	} else if _, err := os.Stat("node_modules/azure-iothub"); err != nil {
		problem = "the pinned SDKs are not installed: run 'npm ci' in interop/ (make test does)"
	}
	if problem != "" {
		skipOrFail(t, problem)
	}
}

// requireCommand skips (or, with TETHER_REQUIRE_INTEROP set, fails) when
// the command is not on PATH; pkg is the Debian package that has it.
func requireCommand(t *testing.T, command, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(command); err != nil {
		skipOrFail(t, fmt.Sprintf("%s is not installed (Debian: apt-get install %s)", command, pkg))
	}
}

// skipOrFail skips the test because of problem, or fails it where
// TETHER_REQUIRE_INTEROP is set (as in CI).
func skipOrFail(t *testing.T, problem string) {
	t.Helper()
	if os.Getenv("TETHER_REQUIRE_INTEROP") != "" {
		t.Fatalf("interop: %s; TETHER_REQUIRE_INTEROP is set, so this is a failure", problem)
	}
	t.Skipf("interop: %s; set TETHER_REQUIRE_INTEROP=1 to make this a failure", problem)
}

// hub is a tether serve process on the SDKs' fixed ports.
type hub struct {
	data  string
	caPEM string
	owner string // iothubowner connection string
	http  *http.Client
	log   *syncBuffer
}

// syncBuffer is the hub's log: written by the process's output copier,
// read by the tests while the hub still runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs tether serve on :443 and :8883 until the test ends.
func startServe(t *testing.T) *hub {
	t.Helper()
	h := &hub{data: t.TempDir(), log: &syncBuffer{}}
	cmd := exec.Command(tetherBin, "serve", "--data", h.data, "--hostname", "localhost",
		"--https-addr", ":443", "--mqtt-addr", ":8883", "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tether serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("tether serve exited with %v after SIGTERM; log:\n%s", err, h.log)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("tether serve did not stop within 20s of SIGTERM")
		}
	})
	h.caPEM = filepath.Join(h.data, "tls", "ca.pem")
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("tether serve exited early (%v); log:\n%s", err, h.log)
		default:
		}
		if h.http == nil {
			if pem, err := os.ReadFile(h.caPEM); err == nil {
				pool := x509.NewCertPool()
				if pool.AppendCertsFromPEM(pem) {
					h.http = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
				}
			}
		}
		if h.http != nil {
			if resp, err := h.http.Get("https://localhost:443/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tether serve not healthy within 30s; log:\n%s", h.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := exec.Command(tetherBin, "hub", "connection-string", "--data", h.data).Output()
	if err != nil {
		t.Fatalf("tether hub connection-string: %v", err)
	}
	h.owner = strings.TrimSpace(string(out))
	return h
}

// node runs a script of this folder with the hub's CA trusted, failing
// the test when it does not exit 0 within the timeout.
func (h *hub) node(t *testing.T, timeout time.Duration, script string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), append(env, "NODE_EXTRA_CA_CERTS="+h.caPEM, "CONNECTION_STRING="+h.owner)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\noutput:\n%s\nhub log:\n%s", script, err, out, h.log)
	}
	return string(out)
}
