package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tether-iot/tether/internal/hubtest"
)

func TestDeviceLifecycle(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)

	r := do(t, h, request{method: "PUT", path: "/devices/d1" + apiVersion, token: tok,
		body: `{"deviceId":"d1","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}}`})
	mustStatus(t, r, http.StatusOK)
	if got := r.header.Get("ETag"); got != `"MA=="` {
		t.Errorf("create ETag header = %s, want \"MA==\"", got)
	}
	auth := r.body["authentication"].(map[string]any)
	keys := auth["symmetricKey"].(map[string]any)
	for _, k := range []string{"primaryKey", "secondaryKey"} {
		v, _ := keys[k].(string)
		if b, err := base64.StdEncoding.DecodeString(v); err != nil || len(b) != 32 {
			t.Errorf("generated %s = %q, want 32 random bytes in base64", k, v)
		}
	}
	if keys["primaryKey"] == keys["secondaryKey"] {
		t.Error("generated primary and secondary keys are equal")
	}
	for k, want := range map[string]any{"deviceId": "d1", "status": "enabled", "connectionState": "Disconnected",
		"statusReason": nil, "lastActivityTime": "0001-01-01T00:00:00Z", "cloudToDeviceMessageCount": 0.0} {
		if r.body[k] != want {
			t.Errorf("created device %s = %#v, want %#v", k, r.body[k], want)
		}
	}

	r = do(t, h, request{method: "PUT", path: "/devices/d1" + apiVersion, token: tok, body: `{"deviceId":"d1"}`})
	mustStatus(t, r, http.StatusConflict)
	if got := r.errorCode(t); got != "DeviceAlreadyExists" {
		t.Errorf("duplicate create: error %s, want DeviceAlreadyExists", got)
	}

	// Disable through update with the quoted star the SDKs send.
	r = do(t, h, request{method: "PUT", path: "/devices/d1" + apiVersion, token: tok, ifMatch: `"*"`,
		body: `{"deviceId":"d1","status":"disabled","statusReason":"lost","authentication":{"symmetricKey":{"primaryKey":"` + keys["primaryKey"].(string) + `"}}}`})
	mustStatus(t, r, http.StatusOK)
	if r.body["status"] != "disabled" || r.body["statusReason"] != "lost" || r.header.Get("ETag") != `"MQ=="` {
		t.Errorf("after disable: status %v reason %v etag %s", r.body["status"], r.body["statusReason"], r.header.Get("ETag"))
	}
	if got := r.body["authentication"].(map[string]any)["symmetricKey"].(map[string]any); got["primaryKey"] != keys["primaryKey"] || got["secondaryKey"] != keys["secondaryKey"] {
		t.Errorf("update changed keys: %v, want %v", got, keys)
	}

	// A stale ETag is refused and changes nothing.
	r = do(t, h, request{method: "PUT", path: "/devices/d1" + apiVersion, token: tok, ifMatch: `"MA=="`, body: `{"deviceId":"d1","status":"enabled"}`})
	mustStatus(t, r, http.StatusPreconditionFailed)
	if got := r.errorCode(t); got != "PreconditionFailed" {
		t.Errorf("stale etag: %s, want PreconditionFailed", got)
	}
	r = do(t, h, request{method: "GET", path: "/devices/d1" + apiVersion, token: tok})
	mustStatus(t, r, http.StatusOK)
	if r.body["status"] != "disabled" {
		t.Errorf("stale update changed status to %v", r.body["status"])
	}

	// The current ETag, unquoted, is accepted.
	r = do(t, h, request{method: "PUT", path: "/devices/d1" + apiVersion, token: tok, ifMatch: "MQ==", body: `{"status":"enabled"}`})
	mustStatus(t, r, http.StatusOK)

	r = do(t, h, request{method: "GET", path: "/devices/" + apiVersion, token: tok})
	mustStatus(t, r, http.StatusOK)
	if len(r.list) != 1 {
		t.Errorf("list = %d devices, want 1", len(r.list))
	}

	r = do(t, h, request{method: "DELETE", path: "/devices/d1" + apiVersion, token: tok, ifMatch: `"MA=="`})
	mustStatus(t, r, http.StatusPreconditionFailed)
	r = do(t, h, request{method: "DELETE", path: "/devices/d1" + apiVersion, token: tok, ifMatch: `"*"`})
	mustStatus(t, r, http.StatusNoContent)
	r = do(t, h, request{method: "GET", path: "/devices/d1" + apiVersion, token: tok})
	mustStatus(t, r, http.StatusNotFound)
	if got := r.errorCode(t); got != "DeviceNotFound" {
		t.Errorf("after delete: %s, want DeviceNotFound", got)
	}
	r = do(t, h, request{method: "GET", path: "/twins/d1" + apiVersion, token: tok})
	mustStatus(t, r, http.StatusNotFound)
}

func TestDeviceBadInput(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)
	for _, tc := range []struct {
		name, path, body string
		status           int
		code, detail     string
	}{
		{"id too long", "/devices/" + strings.Repeat("a", 129), `{}`, 400, "ArgumentInvalid", "129 characters"},
		{"id with bad char", "/devices/a%20b", `{}`, 400, "ArgumentInvalid", "' '"},
		{"id with wildcard", "/devices/a%23b", `{}`, 400, "ArgumentInvalid", "wildcards"},
		{"not json", "/devices/d1", `status=enabled`, 400, "ArgumentInvalid", "malformed JSON"},
		{"empty body", "/devices/d1", ``, 400, "ArgumentInvalid", "empty"},
		{"wrong type", "/devices/d1", `{"status":5}`, 400, "ArgumentInvalid", `"status" must be a string`},
		{"bad status", "/devices/d1", `{"status":"asleep"}`, 400, "ArgumentInvalid", "asleep"},
		{"id mismatch", "/devices/d1", `{"deviceId":"d2"}`, 400, "ArgumentInvalid", "does not match"},
		{"key not base64", "/devices/d1", `{"authentication":{"symmetricKey":{"primaryKey":"!!!"}}}`, 400, "ArgumentInvalid", "base64"},
		{"key too short", "/devices/d1", `{"authentication":{"symmetricKey":{"primaryKey":"` + base64.StdEncoding.EncodeToString([]byte("short")) + `"}}}`, 400, "ArgumentInvalid", "5 bytes"},
		{"bad auth type", "/devices/d1", `{"authentication":{"type":"password"}}`, 400, "ArgumentInvalid", "password"},
		{"reason too long", "/devices/d1", `{"statusReason":"` + strings.Repeat("x", 129) + `"}`, 400, "ArgumentInvalid", "statusReason"},
		{"body too large", "/devices/d1", `{"statusReason":"` + strings.Repeat("x", 300*1024) + `"}`, 413, "MessageTooLarge", "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, request{method: "PUT", path: tc.path + apiVersion, token: tok, body: tc.body})
			mustStatus(t, r, tc.status)
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("error = %s, want %s", got, tc.code)
			}
			if msg, _ := r.body["Message"].(string); !strings.Contains(msg, tc.detail) {
				t.Errorf("error %q does not mention %q", msg, tc.detail)
			}
		})
	}
	r := do(t, h, request{method: "GET", path: "/devices" + apiVersion, token: tok})
	if len(r.list) != 0 {
		t.Errorf("bad requests created %d devices", len(r.list))
	}
	r = do(t, h, request{method: "GET", path: "/devices?top=5000&api-version=2021-04-12", token: tok})
	mustStatus(t, r, 400)
}

func TestDeviceConcurrentCreates(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)
	var wg sync.WaitGroup
	codes := make([]int, 40)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c%d", i%20) // every ID twice: one create wins
			codes[i] = do(t, h, request{method: "PUT", path: "/devices/" + id + apiVersion, token: tok, body: `{}`}).status
		}()
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 409:
			conflict++
		default:
			t.Errorf("concurrent create answered %d", c)
		}
	}
	if ok != 20 || conflict != 20 {
		t.Errorf("concurrent creates: %d ok, %d conflicts; want 20 and 20", ok, conflict)
	}
}

func TestStatistics(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)
	do(t, h, request{method: "PUT", path: "/devices/a" + apiVersion, token: tok, body: `{}`})
	do(t, h, request{method: "PUT", path: "/devices/b" + apiVersion, token: tok, body: `{"status":"disabled"}`})
	r := do(t, h, request{method: "GET", path: "/statistics/devices" + apiVersion, token: tok})
	mustStatus(t, r, 200)
	if r.body["totalDeviceCount"] != 2.0 || r.body["enabledDeviceCount"] != 1.0 || r.body["disabledDeviceCount"] != 1.0 {
		t.Errorf("statistics = %v, want 2 total, 1 enabled, 1 disabled", r.body)
	}
}
