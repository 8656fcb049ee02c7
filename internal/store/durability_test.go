package store

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// killDirEnv, when set, makes TestTelemetrySurvivesKill the child process
// that appends to the store in that folder until it is killed.
const killDirEnv = "TETHER_STORE_KILL_DIR"

// TestTelemetrySurvivesKill appends in a child process, kills it with
// SIGKILL in the middle of its appends, and checks that every append the
// child saw committed is in the stream.
func TestTelemetrySurvivesKill(t *testing.T) {
	if dir := os.Getenv(killDirEnv); dir != "" {
		appendUntilKilled(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTelemetrySurvivesKill$")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed int64
	lines := bufio.NewScanner(out)
	for committed < 5000 && lines.Scan() {
		if n, err := strconv.ParseInt(lines.Text(), 10, 64); err == nil {
			committed = n
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if committed < 5000 {
		t.Fatalf("the child committed only %d messages before it ended", committed)
	}

	s := mustOpenPath(t, filepath.Join(dir, "tether.db"))
	last, err := s.LastTelemetrySeq(context.Background())
	if err != nil || last < committed {
		t.Fatalf("after kill -9, LastTelemetrySeq() = %d, %v, want at least %d", last, err, committed)
	}
	got := mustRead(t, s, TelemetryQuery{After: committed - 1})
	if len(got) == 0 || got[0].Seq != committed {
		t.Errorf("after kill -9, message %d is missing", committed)
	}
}

// appendUntilKilled appends batches to the store in dir and prints the
// last committed Seq after each, until the process is killed.
func appendUntilKilled(t *testing.T, dir string) {
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	msgs := benchMessages(100)
	w := bufio.NewWriter(os.Stdout)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		got, err := s.AppendTelemetry(context.Background(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString(strconv.FormatInt(got[len(got)-1].Seq, 10) + "\n")
		w.Flush()
	}
}
