package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// publicRoutes need no token by design: health, Prometheus, and MQTT over
// WebSockets (which authenticates in CONNECT).
var publicRoutes = map[string]bool{"GET /healthz": true, "GET /metrics": true, "GET /$iothub/websocket": true}

// routeRequest turns a route pattern into a concrete request.
func routeRequest(pattern, base string) (method, url, body string) {
	method, path, _ := strings.Cut(pattern, " ")
	r := strings.NewReplacer("{id}", "permdev", "{name}", "permsub", "{$}", "", "{deviceId}", "permdev", "{moduleId}", "m1")
	path = r.Replace(path)
	for strings.Contains(path, "{") { // a wildcard this test does not know yet
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		path = path[:i] + "x" + path[j+1:]
	}
	if method == "PUT" || method == "POST" || method == "PATCH" {
		body = "{}"
	}
	return method, base + path + "?api-version=2021-04-12", body
}

type permClient struct {
	t    *testing.T
	hc   *http.Client
	base string
}

// status sends the request with the Authorization header auth and returns
// the status; a response that streams is cut off after its headers.
func (c permClient) status(pattern, auth string) int {
	c.t.Helper()
	method, url, body := routeRequest(pattern, c.base)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", pattern, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPermissionMatrix sends every route of the API's route table with a
// token of a policy of every combination of rights, and checks that
// exactly one right (never DeviceConnect) opens each route, and that no
// route answers without a valid token.
func TestPermissionMatrix(t *testing.T) {
	s := startTestServer(t, nil)
	ctx := context.Background()
	host := s.Hostname()
	pool := caPool(t, s)
	c := permClient{t: t, base: "https://" + s.HTTPSAddr().String(),
		hc: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}}
	key := tether.Secret("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	rights := []tether.Rights{tether.RegistryRead, tether.RegistryWrite, tether.ServiceConnect, tether.DeviceConnect}
	tokens := map[tether.Rights]string{}
	for set := tether.Rights(0); set <= tether.AllRights; set++ {
		name := fmt.Sprintf("perm%d", set)
		if err := s.st.PutPolicy(ctx, tether.Policy{Name: name, PrimaryKey: key, SecondaryKey: key, Rights: set}); err != nil {
			t.Fatal(err)
		}
		tok, err := sas.Sign(host, key, name, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		tokens[set] = tok.String()
	}
	routes := s.api.Routes()
	if len(routes) < 20 {
		t.Fatalf("the route table has %d routes: %v", len(routes), routes)
	}
	sort.Strings(routes)
	var matrix strings.Builder
	for _, route := range routes {
		if publicRoutes[route] {
			continue
		}
		if st := c.status(route, ""); st != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", route, st)
		}
		opens := map[tether.Rights]bool{}
		for set := tether.Rights(0); set <= tether.AllRights; set++ {
			opens[set] = c.status(route, tokens[set]) != http.StatusUnauthorized
		}
		var need tether.Rights
		for _, r := range rights {
			ok := true
			for set, open := range opens {
				if open != set.Has(r) {
					ok = false
				}
			}
			if ok {
				need = r
			}
		}
		switch {
		case need == 0:
			var open []string
			for set, o := range opens {
				if o {
					open = append(open, set.String())
				}
			}
			sort.Strings(open)
			t.Errorf("%s: no single right opens it; opened by %q", route, open)
		case need == tether.DeviceConnect:
			t.Errorf("%s is opened by DeviceConnect: a device policy must not reach the service API", route)
		}
		fmt.Fprintf(&matrix, "%-50s %s\n", route, need)
	}
	t.Logf("route → the one right that opens it:\n%s", matrix.String())
}

// TestForeignTokensRefused: a token for another hub, a device's token, an
// expired token and a forged signature are refused on every route.
func TestForeignTokensRefused(t *testing.T) {
	s := startTestServer(t, nil)
	ctx := context.Background()
	host := s.Hostname()
	pool := caPool(t, s)
	c := permClient{t: t, base: "https://" + s.HTTPSAddr().String(),
		hc: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}}
	owner, err := s.PolicyConnectionString(ctx, "iothubowner")
	if err != nil {
		t.Fatal(err)
	}
	devKey := tether.Secret("AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=")
	if _, err := s.st.CreateDevice(ctx, tether.Device{ID: "permdev", Status: tether.StatusEnabled,
		Auth: tether.Authentication{Type: tether.AuthSAS, PrimaryKey: devKey, SecondaryKey: devKey}}); err != nil {
		t.Fatal(err)
	}
	sign := func(resource string, key tether.Secret, name string, exp time.Time) string {
		tok, err := sas.Sign(resource, key, name, exp)
		if err != nil {
			t.Fatal(err)
		}
		return tok.String()
	}
	valid := sign(host, owner.Key, owner.KeyName, time.Now().Add(time.Hour))
	bad := map[string]string{
		"other hub":       sign("otherhub.example.com", owner.Key, owner.KeyName, time.Now().Add(time.Hour)),
		"device token":    sign(host+"/devices/permdev", devKey, "", time.Now().Add(time.Hour)),
		"device as owner": sign(host, devKey, "", time.Now().Add(time.Hour)),
		"expired":         sign(host, owner.Key, owner.KeyName, time.Now().Add(-time.Hour)),
		"forged":          valid[:strings.Index(valid, "sig=")+4] + "AAAA" + valid[strings.Index(valid, "sig=")+8:],
		"bearer":          "Bearer eyJhbGciOiJub25lIn0.e30.",
	}
	for _, route := range s.api.Routes() {
		if publicRoutes[route] {
			continue
		}
		for name, tok := range bad {
			if st := c.status(route, tok); st != http.StatusUnauthorized {
				t.Errorf("%s with a %s token: %d, want 401", route, name, st)
			}
		}
	}
	// The owner's valid token opens them (the test would pass vacuously otherwise).
	if st := c.status("GET /devices/{id}", valid); st != http.StatusOK {
		t.Errorf("GET /devices/permdev with the owner token: %d", st)
	}
}
