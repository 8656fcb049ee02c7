package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
)

func TestErrorsCommand(t *testing.T) {
	for _, q := range []string{"401003", "IoTHubUnauthorized", "iothubunauthorized"} {
		out := mustRun(t, "errors", q)
		for _, want := range []string{"401003 IoTHubUnauthorized", "Likely causes:", "What to do:", "NTP", "docs/errors.md#401003-iothubunauthorized"} {
			if !strings.Contains(out, want) {
				t.Errorf("tether errors %s lacks %q:\n%s", q, want, out)
			}
		}
	}
	var entry struct {
		Code      int
		Name      string
		Retryable bool
		Causes    []string
		Docs      string
	}
	if err := json.Unmarshal([]byte(mustRun(t, "errors", "404104", "-o", "json")), &entry); err != nil {
		t.Fatal(err)
	}
	if entry.Code != 404104 || entry.Name != "DeviceConnectionClosedRemotely" || !entry.Retryable || len(entry.Causes) == 0 || entry.Docs == "" {
		t.Errorf("tether errors 404104 -o json = %+v", entry)
	}
	table := mustRun(t, "errors")
	if n := strings.Count(table, "\n"); n != len(tether.Codes())+1 {
		t.Errorf("tether errors printed %d lines, want a header and %d codes", n, len(tether.Codes()))
	}
	_, err := run(t, "errors", "DeviceNotFund")
	if err == nil || !strings.Contains(err.Error(), "did you mean 404001 DeviceNotFound") {
		t.Errorf("tether errors DeviceNotFund: %v; want a suggestion", err)
	}
	if _, err := run(t, "errors", "1", "2"); err == nil {
		t.Error("tether errors 1 2 succeeded")
	}
}
