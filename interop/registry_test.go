package interop

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestRegistry runs the official azure-iothub Registry against tether
// serve on :443: create with and without keys, get, list, disable through
// update, twin get and update, delete, DeviceNotFound and a wrong key.
func TestRegistry(t *testing.T) {
	requireNode(t)
	h := startServe(t)
	out := h.node(t, 2*time.Minute, "registry.js")
	t.Log(out)
	for _, step := range []string{"create-without-keys", "create-with-keys", "create-duplicate", "get", "list",
		"disable-through-update", "twin-get", "twin-update", "delete", "missing-device", "wrong-key"} {
		if !strings.Contains(out, "ok "+step+"\n") {
			t.Errorf("registry.js did not report step %q ok; output:\n%s", step, out)
		}
	}
}

// TestSASVectors checks that the committed token vectors are what the
// official SDK's signing code makes today.
func TestSASVectors(t *testing.T) {
	requireNode(t)
	h := &hub{}
	out := h.node(t, time.Minute, "sas-vectors.js")
	committed, err := os.ReadFile("../sas/testdata/node-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("sas-vectors.js output is not JSON: %v\n%s", err, out)
	}
	if err := json.Unmarshal(committed, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sas/testdata/node-vectors.json is stale: regenerate with 'node interop/sas-vectors.js > sas/testdata/node-vectors.json'")
	}
}
