package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tether-iot/tether/internal/hubtest"
)

func TestTwin(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)
	mustStatus(t, do(t, h, request{method: "PUT", path: "/devices/t1" + apiVersion, token: tok, body: `{}`}), 200)

	r := do(t, h, request{method: "GET", path: "/twins/t1" + apiVersion, token: tok})
	mustStatus(t, r, http.StatusOK)
	if r.body["deviceId"] != "t1" || r.body["version"] != 1.0 || r.body["etag"] != "AAAAAAAAAAE=" {
		t.Errorf("new twin = deviceId %v version %v etag %v; want t1, 1, AAAAAAAAAAE=", r.body["deviceId"], r.body["version"], r.body["etag"])
	}
	desired := r.body["properties"].(map[string]any)["desired"].(map[string]any)
	if desired["$version"] != 1.0 || desired["$metadata"] == nil {
		t.Errorf("new twin desired = %v, want $version 1 and $metadata", desired)
	}
	etag := r.header.Get("ETag")

	r = do(t, h, request{method: "PATCH", path: "/twins/t1" + apiVersion, token: tok, ifMatch: etag,
		body: `{"tags":{"site":"north"},"properties":{"desired":{"interval":30,"cfg":{"a":1,"b":2}}}}`})
	mustStatus(t, r, http.StatusOK)
	desired = r.body["properties"].(map[string]any)["desired"].(map[string]any)
	if desired["interval"] != 30.0 || desired["$version"] != 2.0 || r.body["tags"].(map[string]any)["site"] != "north" {
		t.Errorf("after patch: desired %v tags %v", desired, r.body["tags"])
	}
	meta := desired["$metadata"].(map[string]any)
	if _, ok := meta["interval"].(map[string]any)["$lastUpdated"]; !ok {
		t.Errorf("desired.$metadata.interval has no $lastUpdated: %v", meta)
	}

	// Stale ETag: refused, nothing changes.
	r = do(t, h, request{method: "PATCH", path: "/twins/t1" + apiVersion, token: tok, ifMatch: etag, body: `{"properties":{"desired":{"interval":5}}}`})
	mustStatus(t, r, http.StatusPreconditionFailed)

	// Null deletes, nested objects merge.
	r = do(t, h, request{method: "PATCH", path: "/twins/t1" + apiVersion, token: tok, ifMatch: `"*"`,
		body: `{"properties":{"desired":{"interval":null,"cfg":{"b":null,"c":3}}}}`})
	mustStatus(t, r, http.StatusOK)
	desired = r.body["properties"].(map[string]any)["desired"].(map[string]any)
	cfg, _ := desired["cfg"].(map[string]any)
	if _, ok := desired["interval"]; ok || cfg["a"] != 1.0 || cfg["c"] != 3.0 || cfg["b"] != nil || desired["$version"] != 3.0 {
		t.Errorf("after null patch: desired = %v", desired)
	}

	// PUT replaces tags and desired.
	r = do(t, h, request{method: "PUT", path: "/twins/t1" + apiVersion, token: tok, ifMatch: `*`,
		body: `{"tags":{"x":1},"properties":{"desired":{"only":true}}}`})
	mustStatus(t, r, http.StatusOK)
	desired = r.body["properties"].(map[string]any)["desired"].(map[string]any)
	if _, ok := desired["cfg"]; ok || desired["only"] != true || r.body["tags"].(map[string]any)["site"] != nil {
		t.Errorf("after replace: desired %v tags %v", desired, r.body["tags"])
	}
	if r.body["version"] != 4.0 {
		t.Errorf("twin version after 3 writes = %v, want 4", r.body["version"])
	}
}

func TestTwinBadInput(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)
	mustStatus(t, do(t, h, request{method: "PUT", path: "/devices/t1" + apiVersion, token: tok, body: `{}`}), 200)
	deep := `{"a":` + strings.Repeat(`{"a":`, 11) + `1` + strings.Repeat(`}`, 12)
	for _, tc := range []struct{ name, body, detail string }{
		{"reported by service", `{"properties":{"reported":{"x":1}}}`, "device only"},
		{"dollar key", `{"properties":{"desired":{"$bad":1}}}`, "$bad"},
		{"dotted key", `{"tags":{"a.b":1}}`, "a.b"},
		{"too deep", `{"properties":{"desired":` + deep + `}}`, "nested"},
		{"long string", `{"properties":{"desired":{"s":"` + strings.Repeat("x", 5000) + `"}}}`, "4096"},
		{"not json", `{"properties":`, "malformed"},
		{"wrong type", `{"tags":[1,2]}`, `"tags" must be an object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, request{method: "PATCH", path: "/twins/t1" + apiVersion, token: tok, ifMatch: "*", body: tc.body})
			mustStatus(t, r, 400)
			if msg, _ := r.body["Message"].(string); !strings.Contains(msg, tc.detail) {
				t.Errorf("error %q does not mention %q", msg, tc.detail)
			}
		})
	}
	r := do(t, h, request{method: "GET", path: "/twins/t1" + apiVersion, token: tok})
	if r.body["version"] != 1.0 {
		t.Errorf("refused patches changed the twin to version %v", r.body["version"])
	}
	r = do(t, h, request{method: "GET", path: "/twins/nope" + apiVersion, token: tok})
	mustStatus(t, r, 404)
	if got := r.errorCode(t); got != "DeviceNotFound" {
		t.Errorf("missing twin: %s", got)
	}
}

func TestMethodsWithoutGateway(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)
	mustStatus(t, do(t, h, request{method: "PUT", path: "/devices/m1" + apiVersion, token: tok, body: `{}`}), 200)
	for _, tc := range []struct {
		name, id, body string
		status         int
		code           string
	}{
		{"offline device", "m1", `{"methodName":"reboot","payload":{"delay":1}}`, 404, "DeviceNotOnline"},
		{"missing device", "nope", `{"methodName":"reboot"}`, 404, "DeviceNotFound"},
		{"no name", "m1", `{"payload":1}`, 400, "ArgumentInvalid"},
		{"bad name", "m1", `{"methodName":"re boot"}`, 400, "ArgumentInvalid"},
		{"timeout too long", "m1", `{"methodName":"x","responseTimeoutInSeconds":301}`, 400, "ArgumentInvalid"},
		{"timeout too short", "m1", `{"methodName":"x","responseTimeoutInSeconds":4}`, 400, "ArgumentInvalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, request{method: "POST", path: "/twins/" + tc.id + "/methods" + apiVersion, token: tok, body: tc.body})
			mustStatus(t, r, tc.status)
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("error %s, want %s", got, tc.code)
			}
		})
	}
}
