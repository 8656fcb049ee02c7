package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childEnv marks the test binary re-executed as a device process.
const childEnv = "TETHER_E2E_CHILD"

// TestHelperClient is the device process of the kill -9 scenario: run as
// a child of the test binary, it connects, says so on stdout and waits to
// be killed.
func TestHelperClient(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("the device process of the kill -9 scenario; runs only as a child of the tests")
	}
	c := dialTLS(t, os.Getenv("E2E_ADDR"), caPool(t, os.Getenv("E2E_CA")))
	c.mustConnect(os.Getenv("E2E_HOST"), os.Getenv("E2E_DEVICE"), os.Getenv("E2E_TOKEN"), true, 60)
	fmt.Printf("CONNECTED %s\n", c.local)
	time.Sleep(30 * time.Second)
	t.Fatal("not killed within 30s")
}

// killedClient starts a device process that connects as device id,
// SIGKILLs it once it is connected and returns its client address.
func killedClient(t *testing.T, addr, caFile, host, id, token string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperClient$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), childEnv+"=1", "E2E_ADDR="+addr, "E2E_CA="+caFile, "E2E_HOST="+host,
		"E2E_DEVICE="+id, "E2E_TOKEN="+token)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the device process: %v", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "CONNECTED "); ok {
				lines <- l
				return
			}
		}
		close(lines)
	}()
	var local string
	select {
	case l, ok := <-lines:
		if !ok {
			cmd.Wait()
			t.Fatalf("the device process ended without connecting; stderr:\n%s", stderr.String())
		}
		local = l
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the device process did not connect within 20s; stderr:\n%s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("device process ended with %v, want killed", err)
	}
	return local
}
