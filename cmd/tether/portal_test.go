package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-iot/tether/internal/portal"
)

func TestPortalResetPassword(t *testing.T) {
	data := t.TempDir()
	if out, err := run(t, "--data", data, "portal", "reset-password"); err == nil || !strings.Contains(err.Error(), "no tether.db") {
		t.Fatalf("reset-password on an empty folder = %v\n%s; want an error naming tether.db", err, out)
	}
	mustRun(t, "--data", data, "device", "create", "d1") // makes the hub's store
	out := mustRun(t, "--data", data, "portal", "reset-password")
	pw, ok := strings.CutPrefix(strings.TrimSpace(out), "new portal admin password: ")
	if !ok || len(pw) < 20 {
		t.Fatalf("reset-password printed %q, want the new password", out)
	}
	ok, err := portal.NewPasswords(filepath.Join(data, "portal", "admin-password"), 0).Check(pw)
	if err != nil || !ok {
		t.Errorf("the printed password does not match the stored hash: %v %v", ok, err)
	}
}
