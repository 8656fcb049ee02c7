package portal_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

// user is a browser-like client of the portal: a cookie jar and the
// CSRF token of its session.
type user struct {
	t    *testing.T
	h    *hubtest.Hub
	c    *http.Client
	csrf string
}

func newUser(t *testing.T, h *hubtest.Hub) *user {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &user{t: t, h: h, c: &http.Client{Transport: h.HTTP.Transport, Jar: jar}}
	var s struct{ CSRF string }
	u.do("GET", "/portal/api/session", "", nil, &s)
	u.csrf = s.CSRF
	return u
}

// do sends a request with the CSRF token (when non-empty) and returns
// the status; out, when set, receives the JSON body.
func (u *user) do(method, path, csrf string, body any, out any) int {
	u.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, u.h.URL+path, r)
	if err != nil {
		u.t.Fatal(err)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := u.c.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			u.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// login logs in with body and returns the status and the answer.
func (u *user) login(body map[string]string) (int, map[string]any) {
	u.t.Helper()
	var out map[string]any
	code := u.do("POST", "/portal/api/login", u.csrf, body, &out)
	if code == http.StatusOK {
		u.csrf = out["csrf"].(string)
	}
	return code, out
}

func mustLogin(t *testing.T, h *hubtest.Hub, policy string) *user {
	t.Helper()
	u := newUser(t, h)
	if code, out := u.login(map[string]string{"connectionString": h.Policy(t, policy).String()}); code != http.StatusOK {
		t.Fatalf("login as %s = %d %v, want 200", policy, code, out)
	}
	return u
}

func TestSecurityHeaders(t *testing.T) {
	h := hubtest.Start(t)
	for _, path := range []string{"/", "/portal/assets/app.js", "/portal/api/session", "/portal/api/svc/devices?api-version=2021-04-12"} {
		resp, err := h.HTTP.Get(h.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline or eval", path, csp)
		}
		if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q, want DENY", path, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", path, got)
		}
		if path == "/" {
			page := string(body)
			if strings.Contains(page, "<script>") || strings.Contains(page, "style=") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
				t.Errorf("GET /: the page has inline script or style, or an outside URL:\n%s", page)
			}
		}
	}
	// The service API and the MQTT WebSocket endpoint are still there.
	resp, err := h.HTTP.Get(h.URL + "/devices?api-version=2021-04-12")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /devices without a token = %d, want 401 from the service API", resp.StatusCode)
	}
}

func TestCookieFlags(t *testing.T) {
	h := hubtest.Start(t)
	u := newUser(t, h)
	req, _ := http.NewRequest("POST", h.URL+"/portal/api/login", strings.NewReader(`{"connectionString":"`+h.Owner.String()+`"}`))
	req.Header.Set("X-CSRF-Token", u.csrf)
	resp, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login = %d, want 200", resp.StatusCode)
	}
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name != "__Host-tether-session" {
			continue
		}
		found = true
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict, Path=/ and no Domain", c)
		}
		if len(c.Value) < 40 {
			t.Errorf("session cookie value %q is short; want 256 random bits", c.Value)
		}
	}
	if !found {
		t.Errorf("login set no __Host-tether-session cookie; cookies %v", resp.Cookies())
	}
}

func TestLogin(t *testing.T) {
	h := hubtest.Start(t)
	owner := h.Owner
	wrongKey := owner
	wrongKey.Key = h.Policy(t, "service").Key
	cases := []struct {
		name string
		body map[string]string
		want int
	}{
		{"owner", map[string]string{"connectionString": owner.String()}, 200},
		{"registryRead", map[string]string{"connectionString": h.Policy(t, "registryRead").String()}, 200},
		{"wrong key", map[string]string{"connectionString": wrongKey.String()}, 401},
		{"unknown policy", map[string]string{"connectionString": strings.Replace(owner.String(), "iothubowner", "nobody", 1)}, 401},
		{"device string", map[string]string{"connectionString": "HostName=localhost;DeviceId=d1;SharedAccessKey=" + owner.Key.Reveal()}, 400},
		{"DeviceConnect only", map[string]string{"connectionString": h.Policy(t, "device").String()}, 403},
		{"garbage", map[string]string{"connectionString": "hello"}, 400},
		{"nothing", map[string]string{}, 400},
		{"wrong password", map[string]string{"password": "not-the-password"}, 401},
		{"admin password", map[string]string{"password": h.PortalPassword()}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := newUser(t, h)
			code, out := u.login(c.body)
			if code != c.want {
				t.Fatalf("login = %d %v, want %d", code, out, c.want)
			}
			if code == 200 && out["loggedIn"] != true {
				t.Errorf("login answer %v, want loggedIn", out)
			}
			if code != 200 && (out["message"] == nil || out["message"] == "") {
				t.Errorf("refused login without a message: %v", out)
			}
		})
	}
}

func TestLoginNeedsToken(t *testing.T) {
	h := hubtest.Start(t)
	u := newUser(t, h)
	body := map[string]string{"connectionString": h.Owner.String()}
	if code := u.do("POST", "/portal/api/login", "", body, nil); code != http.StatusForbidden {
		t.Errorf("login without the CSRF token = %d, want 403", code)
	}
	if code := u.do("POST", "/portal/api/login", "forged", body, nil); code != http.StatusForbidden {
		t.Errorf("login with a wrong CSRF token = %d, want 403", code)
	}
}

func TestLoginThrottled(t *testing.T) {
	h := hubtest.Start(t)
	u := newUser(t, h)
	var code int
	for i := 0; i < 11; i++ {
		code, _ = u.login(map[string]string{"password": "wrong-password-" + string(rune('a'+i))})
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("11th failed login = %d, want 429", code)
	}
	// Even the right password waits out the lockout.
	if code, _ := u.login(map[string]string{"password": h.PortalPassword()}); code != http.StatusTooManyRequests {
		t.Errorf("right password during lockout = %d, want 429", code)
	}
}

func TestCSRF(t *testing.T) {
	h := hubtest.Start(t)
	owner := h.Client(t, h.Owner)
	for _, id := range []string{"d1", "d2"} {
		if _, err := owner.CreateDevice(context.Background(), wire.Device{DeviceID: id}); err != nil {
			t.Fatal(err)
		}
	}
	u := mustLogin(t, h, "iothubowner")
	del := "/portal/api/svc/devices/d1?api-version=2021-04-12"
	if code := u.do("DELETE", del, "", nil, nil); code != http.StatusForbidden {
		t.Errorf("DELETE without the CSRF token = %d, want 403", code)
	}
	if code := u.do("DELETE", del, "x"+u.csrf, nil, nil); code != http.StatusForbidden {
		t.Errorf("DELETE with a wrong CSRF token = %d, want 403", code)
	}
	req, _ := http.NewRequest("DELETE", h.URL+del, nil)
	req.Header.Set("X-CSRF-Token", u.csrf)
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := u.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE from another origin = %v %v, want 403", resp.StatusCode, err)
	}
	if _, err := owner.Device(context.Background(), "d1"); err != nil {
		t.Fatalf("d1 after refused deletes: %v", err)
	}
	if code := u.do("DELETE", del, u.csrf, nil, nil); code != http.StatusNoContent {
		t.Errorf("DELETE with the CSRF token = %d, want 204", code)
	}
	// Logout is a mutation too.
	if code := u.do("POST", "/portal/api/logout", "", nil, nil); code != http.StatusForbidden {
		t.Errorf("logout without the CSRF token = %d, want 403", code)
	}
	if code := u.do("POST", "/portal/api/logout", u.csrf, nil, nil); code != http.StatusOK {
		t.Errorf("logout = %d, want 200", code)
	}
	if code := u.do("GET", "/portal/api/svc/devices?api-version=2021-04-12", "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("GET after logout = %d, want 401", code)
	}
}

func TestPermissionsFollowPolicy(t *testing.T) {
	h := hubtest.Start(t)
	owner := h.Client(t, h.Owner)
	if _, err := owner.CreateDevice(context.Background(), wire.Device{DeviceID: "d1"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		policy, method, path string
		body                 any
		want                 int
	}{
		{"registryRead", "GET", "/portal/api/svc/devices?api-version=2021-04-12", nil, 200},
		{"registryRead", "DELETE", "/portal/api/svc/devices/d1?api-version=2021-04-12", nil, 401},
		{"registryRead", "PUT", "/portal/api/svc/devices/d2?api-version=2021-04-12", map[string]string{"deviceId": "d2"}, 401},
		{"registryRead", "GET", "/portal/api/svc/twins/d1?api-version=2021-04-12", nil, 401},
		{"registryRead", "GET", "/portal/api/overview", nil, 403},
		{"registryRead", "GET", "/portal/api/devices/d1/timeline", nil, 403},
		{"service", "GET", "/portal/api/svc/devices?api-version=2021-04-12", nil, 401},
		{"service", "GET", "/portal/api/svc/twins/d1?api-version=2021-04-12", nil, 200},
		{"service", "GET", "/portal/api/overview?range=1h", nil, 200},
		{"registryReadWrite", "PUT", "/portal/api/svc/devices/d3?api-version=2021-04-12", map[string]string{"deviceId": "d3"}, 200},
	}
	users := map[string]*user{}
	for _, c := range cases {
		t.Run(c.policy+" "+c.method+" "+c.path, func(t *testing.T) {
			u := users[c.policy]
			if u == nil {
				u = mustLogin(t, h, c.policy)
				users[c.policy] = u
			}
			var out any
			if code := u.do(c.method, c.path, u.csrf, c.body, &out); code != c.want {
				t.Errorf("%s %s as %s = %d %v, want %d", c.method, c.path, c.policy, code, out, c.want)
			}
		})
	}
	if _, err := owner.Device(context.Background(), "d1"); err != nil {
		t.Errorf("d1 after a registryRead delete: %v, want it kept", err)
	}
}

func TestAdminPasswordReset(t *testing.T) {
	h := hubtest.Start(t)
	old := h.PortalPassword()
	if len(old) < 16 {
		t.Fatalf("first start's admin password %q: want a long random one", old)
	}
	fresh, err := server.ResetPortalPassword(h.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := newUser(t, h).login(map[string]string{"password": old}); code != http.StatusUnauthorized {
		t.Errorf("old password after reset = %d, want 401", code)
	}
	u := newUser(t, h)
	code, out := u.login(map[string]string{"password": fresh})
	if code != http.StatusOK || out["admin"] != true || out["policy"] != "iothubowner" {
		t.Fatalf("new password = %d %v, want 200 as admin (iothubowner)", code, out)
	}
	if code := u.do("PUT", "/portal/api/svc/devices/made-by-admin?api-version=2021-04-12", u.csrf, map[string]string{"deviceId": "made-by-admin"}, nil); code != http.StatusOK {
		t.Errorf("admin creates a device = %d, want 200", code)
	}
}

func TestOverviewAndTimeline(t *testing.T) {
	h := hubtest.Start(t)
	ctx := context.Background()
	owner := h.Client(t, h.Owner)
	d, err := owner.CreateDevice(ctx, wire.Device{DeviceID: "flaky"})
	if err != nil {
		t.Fatal(err)
	}
	nc, code := connectDevice(t, h, "flaky", tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey))
	if code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	nc.Close()
	waitFor(t, "the disconnect", func() bool {
		d, err := owner.Device(ctx, "flaky")
		return err == nil && d.LastDisconnect != nil
	})
	h.FlushLogs(ctx)
	u := mustLogin(t, h, "service")
	var ov struct {
		Outcomes []struct {
			Operation, ResultType, Reason string
			Count                         int
		}
		Failing []struct {
			DeviceID, ResultType, Reason string
			Errors                       int
		}
		Health   *struct{ StoreBytes map[string]int64 }
		Activity struct{ T, Connects, Disconnects, Refused []int64 }
	}
	if code := u.do("GET", "/portal/api/overview?range=1h", "", nil, &ov); code != 200 {
		t.Fatalf("overview = %d", code)
	}
	var sawDisconnect bool
	for _, o := range ov.Outcomes {
		if o.Operation == "deviceDisconnect" && o.ResultType == "404104" && o.Reason == "connection_lost" && o.Count == 1 {
			sawDisconnect = true
		}
	}
	if !sawDisconnect {
		t.Errorf("overview outcomes %+v lack one deviceDisconnect 404104 connection_lost", ov.Outcomes)
	}
	if len(ov.Failing) != 1 || ov.Failing[0].DeviceID != "flaky" || ov.Failing[0].Reason != "connection_lost" {
		t.Errorf("failing devices %+v, want flaky with connection_lost", ov.Failing)
	}
	sum := func(v []int64) (n int64) {
		for _, x := range v {
			n += x
		}
		return n
	}
	if a := ov.Activity; len(a.T) < 100 || len(a.Connects) != len(a.T) || sum(a.Connects) != 1 || sum(a.Disconnects) != 1 || sum(a.Refused) != 0 {
		t.Errorf("activity %d buckets, %d connects, %d disconnects, %d refused; want every bucket of the hour, 1, 1, 0",
			len(a.T), sum(a.Connects), sum(a.Disconnects), sum(a.Refused))
	}
	if ov.Health == nil || ov.Health.StoreBytes["logs.db"] == 0 {
		t.Errorf("health %+v, want the store's sizes", ov.Health)
	}
	var tl struct {
		Connections []struct{ OperationName, Reason, ResultType string }
		Recent      []struct{ Category string }
	}
	if code := u.do("GET", "/portal/api/devices/flaky/timeline?range=1h", "", nil, &tl); code != 200 {
		t.Fatalf("timeline = %d", code)
	}
	if len(tl.Connections) != 2 || tl.Connections[0].OperationName != "deviceConnect" || tl.Connections[1].Reason != "connection_lost" {
		t.Errorf("timeline connections %+v, want a connect then a connection_lost disconnect, oldest first", tl.Connections)
	}
	for _, bad := range []string{"/portal/api/overview?range=2y", "/portal/api/devices/bad%23id/timeline", "/portal/api/devices/flaky/timeline?range=x"} {
		var e map[string]string
		if code := u.do("GET", bad, "", nil, &e); code != http.StatusBadRequest || e["message"] == "" {
			t.Errorf("GET %s = %d %v, want 400 with a message", bad, code, e)
		}
	}
}
