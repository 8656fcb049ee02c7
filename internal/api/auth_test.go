package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
)

func TestAuthorization(t *testing.T) {
	h := hubtest.Start(t)
	owner := h.Owner
	now := time.Now()
	other := owner
	other.HostName = "other-hub.azure-devices.net"
	forged := owner
	forged.Key = tether.Secret("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	unknown := owner
	unknown.KeyName = "nobody"
	for _, tc := range []struct {
		name   string
		token  string
		method string
		path   string
		status int
		detail string
	}{
		{"missing header", "", "GET", "/devices", 401, "Authorization header missing"},
		{"not a SAS token", "Basic dXNlcjpwYXNz", "GET", "/devices", 401, "malformed"},
		{"bearer", "Bearer eyJ0eXAi", "GET", "/devices", 401, "Bearer"},
		{"expired", token(t, owner, now.Add(-10*time.Minute)), "GET", "/devices", 401, "expired at"},
		{"within skew", token(t, owner, now.Add(-2*time.Minute)), "GET", "/devices", 200, ""},
		{"forged", token(t, forged, now.Add(time.Hour)), "GET", "/devices", 401, "signature"},
		{"other hub", token(t, other, now.Add(time.Hour)), "GET", "/devices", 401, "other-hub"},
		{"unknown policy", token(t, unknown, now.Add(time.Hour)), "GET", "/devices", 401, "nobody"},
		{"registryRead reads", token(t, h.Policy(t, "registryRead"), now.Add(time.Hour)), "GET", "/devices", 200, ""},
		{"registryRead cannot write", token(t, h.Policy(t, "registryRead"), now.Add(time.Hour)), "PUT", "/devices/x", 401, "RegistryWrite"},
		{"registryReadWrite writes", token(t, h.Policy(t, "registryReadWrite"), now.Add(time.Hour)), "PUT", "/devices/x", 200, ""},
		{"service cannot read registry", token(t, h.Policy(t, "service"), now.Add(time.Hour)), "GET", "/devices", 401, "RegistryRead"},
		{"service reads twins", token(t, h.Policy(t, "service"), now.Add(time.Hour)), "GET", "/twins/x", 200, ""},
		{"registryRead cannot read twins", token(t, h.Policy(t, "registryRead"), now.Add(time.Hour)), "GET", "/twins/x", 401, "ServiceConnect"},
		{"device policy has no service rights", token(t, h.Policy(t, "device"), now.Add(time.Hour)), "GET", "/devices", 401, "RegistryRead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "PUT" {
				body = "{}"
			}
			r := do(t, h, request{method: tc.method, path: tc.path + apiVersion, token: tc.token, body: body})
			mustStatus(t, r, tc.status)
			if tc.status == http.StatusUnauthorized {
				if got := r.errorCode(t); got != "IotHubUnauthorizedAccess" {
					t.Errorf("error = %s, want IotHubUnauthorizedAccess", got)
				}
				if msg, _ := r.body["Message"].(string); !strings.Contains(msg, tc.detail) {
					t.Errorf("error %q does not mention %q", msg, tc.detail)
				}
			}
		})
	}
}

func TestSecondaryKeyAccepted(t *testing.T) {
	h := hubtest.Start(t)
	p, err := h.Server.PolicyConnectionString(t.Context(), "iothubowner")
	if err != nil {
		t.Fatal(err)
	}
	// Sign with the secondary key, as after a rotation.
	pols, err := h.Server.Policies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range pols {
		if pol.Name == "iothubowner" {
			p.Key = pol.SecondaryKey
		}
	}
	r := do(t, h, request{method: "GET", path: "/devices" + apiVersion, token: token(t, p, time.Now().Add(time.Hour))})
	mustStatus(t, r, 200)
}

func TestAPIVersion(t *testing.T) {
	h := hubtest.Start(t)
	for _, path := range []string{"/devices", "/devices?api-version=latest"} {
		r := do(t, h, request{method: "GET", path: path, token: ownerToken(t, h)})
		mustStatus(t, r, 400)
		if got := r.errorCode(t); got != "InvalidProtocolVersion" {
			t.Errorf("GET %s: %s, want InvalidProtocolVersion", path, got)
		}
	}
	for _, v := range []string{"2021-04-12", "2020-09-30", "2018-06-30", "2017-11-08-preview"} {
		r := do(t, h, request{method: "GET", path: "/devices?api-version=" + v, token: ownerToken(t, h)})
		mustStatus(t, r, 200)
	}
	r := do(t, h, request{method: "GET", path: "/nope" + apiVersion, token: ownerToken(t, h)})
	mustStatus(t, r, 404)
}
