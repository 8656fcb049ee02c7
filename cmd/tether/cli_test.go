package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/sas"
)

// run executes the CLI with args and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("tether %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestDeviceCreateAndConnectionString(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "--data", data, "device", "create", "d1")
	out := mustRun(t, "--data", data, "device", "connection-string", "d1")
	cs, err := sas.ParseConnectionString(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("device connection-string printed %q: %v", out, err)
	}
	if cs.Kind() != sas.KindDevice || cs.DeviceID != "d1" || cs.HostName != "localhost" {
		t.Errorf("connection string = %+v, want a device string for d1 at localhost", cs)
	}
	var dev struct {
		Authentication struct {
			SymmetricKey struct{ PrimaryKey, SecondaryKey string }
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "--data", data, "device", "show", "d1", "-o", "json")), &dev); err != nil {
		t.Fatal(err)
	}
	if cs.Key.Reveal() != dev.Authentication.SymmetricKey.PrimaryKey {
		t.Error("connection string key is not the device's primary key")
	}
	sec := mustRun(t, "--data", data, "device", "connection-string", "d1", "--key", "secondary")
	if !strings.Contains(sec, dev.Authentication.SymmetricKey.SecondaryKey) {
		t.Error("--key secondary does not print the secondary key")
	}

	// The device token verifies against the device's keys.
	tok := strings.TrimSpace(mustRun(t, "--data", data, "token", "generate", "--device", "d1", "--duration", "10m"))
	_, err = sas.Verify(sas.Request{Token: tok, Now: time.Now(), Target: "localhost/devices/d1",
		Device: func() (sas.Credential, error) {
			return sas.Credential{Name: "d1", PrimaryKey: cs.Key}, nil
		}})
	if err != nil {
		t.Errorf("token generate --device: %v", err)
	}
	p, _ := sas.ParseToken(tok)
	if d := time.Until(p.Expiry); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("--duration 10m made a token expiring in %v", d)
	}
}

func TestDeviceCommands(t *testing.T) {
	data := t.TempDir()
	key := "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
	mustRun(t, "--data", data, "device", "create", "a", "--primary-key", key, "--status", "disabled", "--status-reason", "new")
	mustRun(t, "--data", data, "device", "create", "b")
	list := mustRun(t, "--data", data, "device", "list")
	for _, want := range []string{"DEVICE", "a ", "disabled", "new", "b "} {
		if !strings.Contains(list, want) {
			t.Errorf("device list does not show %q:\n%s", want, list)
		}
	}
	out := mustRun(t, "--data", data, "device", "enable", "a")
	if !strings.Contains(out, "enabled") {
		t.Errorf("device enable printed:\n%s", out)
	}
	if strings.Contains(out, key) {
		t.Error("device enable prints the key in table output")
	}
	mustRun(t, "--data", data, "device", "disable", "a", "--status-reason", "stolen")
	var d struct{ Status, StatusReason string }
	json.Unmarshal([]byte(mustRun(t, "--data", data, "device", "show", "a", "-o", "json")), &d)
	if d.Status != "disabled" || d.StatusReason != "stolen" {
		t.Errorf("after disable: %+v", d)
	}
	mustRun(t, "--data", data, "device", "update", "a", "--status", "enabled")
	mustRun(t, "--data", data, "device", "delete", "a")
	_, err := run(t, "--data", data, "device", "show", "a")
	if tether.ErrorCode(err) != tether.DeviceNotFound {
		t.Errorf("show after delete: %v, want DeviceNotFound", err)
	}
}

func TestUsageErrors(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"device", "create"}, "needs a device ID"},
		{[]string{"device", "update", "x"}, "at least one change"},
		{[]string{"-o", "yaml", "device", "list"}, "table or json"},
		{[]string{"token", "generate"}, "exactly one of"},
		{[]string{"token", "generate", "--device", "x", "--policy", "y"}, "exactly one of"},
		{[]string{"--connection-string", "HostName=h;DeviceId=d;SharedAccessKey=AAAAAAAAAAAAAAAAAAAAAA==", "device", "list"}, "policy connection string"},
		{[]string{"--connection-string", "nonsense", "device", "list"}, "connection string"},
	} {
		_, err := run(t, append([]string{"--data", data}, tc.args...)...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("tether %v = %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	_, err := run(t, "--data", data, "device", "create", "bad id")
	if tether.ErrorCode(err) != tether.ArgumentInvalid {
		t.Errorf("create 'bad id' = %v, want ArgumentInvalid", err)
	}
	_, err = run(t, "--data", data, "hub", "connection-string", "--policy", "nobody")
	if err == nil || !strings.Contains(err.Error(), "iothubowner") {
		t.Errorf("unknown policy = %v, want an error listing the policies", err)
	}
}

func TestEnvironmentVariables(t *testing.T) {
	data := t.TempDir()
	t.Setenv("TETHER_DATA", data)
	t.Setenv("TETHER_OUTPUT", "json")
	mustRun(t, "device", "create", "e1")
	out := mustRun(t, "hub", "connection-string", "--policy", "service")
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil || !strings.Contains(v["connectionString"], "SharedAccessKeyName=service") {
		t.Errorf("TETHER_DATA/TETHER_OUTPUT not applied: %q (%v)", out, err)
	}
	t.Setenv("TETHER_OUTPUT", "xml")
	if _, err := run(t, "device", "list"); err == nil || !strings.Contains(err.Error(), "table or json") {
		t.Errorf("TETHER_OUTPUT=xml: %v", err)
	}
}

func TestRemoteHub(t *testing.T) {
	h := hubtest.Start(t)
	remote := []string{"--connection-string", h.Owner.String(), "--api-url", h.URL, "--ca", filepath.Join(h.Config.DataDir, "tls", "ca.pem"), "--data", t.TempDir()}
	mustRun(t, append(remote, "device", "create", "r1")...)
	out := mustRun(t, append(remote, "device", "connection-string", "r1")...)
	if !strings.HasPrefix(out, "HostName=localhost;DeviceId=r1;SharedAccessKey=") {
		t.Errorf("remote connection-string = %q", out)
	}
	tok := mustRun(t, append(remote, "token", "generate", "--policy", "iothubowner")...)
	if !strings.Contains(tok, "skn=iothubowner") {
		t.Errorf("remote policy token = %q", tok)
	}
	if _, err := run(t, append(remote, "token", "generate", "--policy", "service")...); err == nil {
		t.Error("remote token for another policy succeeded; the hub does not reveal policy keys")
	}
	if _, err := run(t, append(remote, "hub", "connection-string")...); err == nil {
		t.Error("remote hub connection-string succeeded")
	}
	reader := h.Policy(t, "registryRead")
	_, err := run(t, "--connection-string", reader.String(), "--api-url", h.URL, "--ca", filepath.Join(h.Config.DataDir, "tls", "ca.pem"), "device", "create", "r2")
	if tether.ErrorCode(err) != tether.IoTHubUnauthorizedAccess || !strings.Contains(err.Error(), "RegistryWrite") {
		t.Errorf("create with registryRead = %v, want IotHubUnauthorizedAccess naming RegistryWrite", err)
	}
}
