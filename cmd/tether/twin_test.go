package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
)

func TestTwinShowAndUpdate(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "--data", data, "device", "create", "t1")
	out := mustRun(t, "--data", data, "twin", "update", "t1", "--desired", `{"interval":30}`, "--tags", `{"site":"north"}`)
	for _, want := range []string{"deviceId: t1", "version:  2", "tags:\n  {\n    \"site\": \"north\"\n  }",
		"desired ($version 2):", `"interval": 30`, "reported ($version 1):\n  {}"} {
		if !strings.Contains(out, want) {
			t.Errorf("twin update printed no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "$metadata") {
		t.Errorf("table output shows $metadata:\n%s", out)
	}

	raw := mustRun(t, "--data", data, "twin", "show", "t1", "-o", "json")
	var tw struct {
		ETag       string
		Tags       map[string]any
		Properties struct{ Desired map[string]any }
	}
	if err := json.Unmarshal([]byte(raw), &tw); err != nil {
		t.Fatalf("twin show -o json: %v\n%s", err, raw)
	}
	if tw.Tags["site"] != "north" || tw.Properties.Desired["interval"] != 30.0 || tw.Properties.Desired["$metadata"] == nil {
		t.Errorf("twin show -o json = %s", raw)
	}

	// null removes; a matching ETag passes, a stale one is refused.
	mustRun(t, "--data", data, "twin", "update", "t1", "--desired", `{"interval":null}`, "--etag", tw.ETag)
	_, err := run(t, "--data", data, "twin", "update", "t1", "--tags", `{"x":1}`, "--etag", tw.ETag)
	if tether.ErrorCode(err) != tether.PreconditionFailed {
		t.Errorf("update with a stale ETag = %v, want PreconditionFailed", err)
	}
	if out := mustRun(t, "--data", data, "twin", "show", "t1"); strings.Contains(out, "interval") || !strings.Contains(out, "desired ($version 3)") {
		t.Errorf("after removing interval:\n%s", out)
	}
	if _, err := run(t, "--data", data, "twin", "show", "nope"); tether.ErrorCode(err) != tether.DeviceNotFound {
		t.Errorf("twin show nope = %v, want DeviceNotFound", err)
	}
}

func TestTwinUsage(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"show"}, "needs a device ID"},
		{[]string{"frob"}, `unknown command "frob" for "tether twin"`},
		{nil, "tether twin needs a subcommand"},
		{[]string{"update", "t1"}, "--desired JSON or --tags JSON"},
		{[]string{"update", "t1", "--desired", `[1]`}, "--desired must be a JSON object"},
		{[]string{"update", "t1", "--desired", `[1]`}, "not an array"},
		{[]string{"update", "t1", "--tags", `"x"`}, "--tags must be a JSON object such as"},
		{[]string{"update", "t1", "--desired", `{"a":1,}`}, "--desired is not valid JSON"},
		{[]string{"update", "t1", "--desired", `{"a":1,}`}, `at byte 8 ({"a":1,}⟵ here)`},
		{[]string{"update", "t1", "--desired", `{"a":1`}, "ends at byte 6"},
		{[]string{"update", "t1", "--tags", ``}, "--tags is empty"},
	} {
		_, err := run(t, append([]string{"--data", data, "twin"}, tc.args...)...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("twin %q = %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestTwinRemoteRights(t *testing.T) {
	h := hubtest.Start(t)
	ca := filepath.Join(h.Config.DataDir, "tls", "ca.pem")
	mustRun(t, "--connection-string", h.Owner.String(), "--api-url", h.URL, "--ca", ca, "device", "create", "r1")
	out := mustRun(t, "--connection-string", h.Policy(t, "service").String(), "--api-url", h.URL, "--ca", ca, "twin", "update", "r1", "--desired", `{"x":1}`)
	if !strings.Contains(out, `"x": 1`) {
		t.Errorf("remote twin update:\n%s", out)
	}
	_, err := run(t, "--connection-string", h.Policy(t, "registryRead").String(), "--api-url", h.URL, "--ca", ca, "twin", "show", "r1")
	if tether.ErrorCode(err) != tether.IoTHubUnauthorizedAccess || !strings.Contains(err.Error(), "ServiceConnect") {
		t.Errorf("twin show with registryRead = %v, want IotHubUnauthorizedAccess naming ServiceConnect", err)
	}
}
