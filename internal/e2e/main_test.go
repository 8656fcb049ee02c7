package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The tether binary of the crash test, built once, on first use, so that
// the device processes of the kill -9 scenario (this binary re-executed)
// and runs of other tests do not build it.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// tetherBinary builds cmd/tether into a temporary folder.
func tetherBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "tether-e2e-bin"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tether")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/tether-iot/tether/cmd/tether").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/tether: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
