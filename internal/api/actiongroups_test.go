package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/hubtest"
)

func TestActionGroupRoutes(t *testing.T) {
	h := hubtest.Start(t)
	tok := ownerToken(t, h)
	got := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("X-Tether-Signature") + " " + string(b)
	}))
	defer hook.Close()

	r := do(t, h, request{method: "POST", path: "/v1/actionGroups", token: tok,
		body: `{"name":"ops","receivers":[{"type":"webhook","url":"` + hook.URL + `/h?code=s3cret"},{"type":"email","address":"oncall@example.com"}]}`})
	mustStatus(t, r, http.StatusCreated)
	if s, _ := r.body["secret"].(string); len(s) < 40 {
		t.Errorf("create answer secret = %q, want the generated secret", s)
	}
	if strings.Contains(r.raw, "s3cret") {
		t.Errorf("create answer shows the URL's query value: %s", r.raw)
	}

	for _, c := range []struct {
		name   string
		rq     request
		status int
		code   string
		want   string
	}{
		{"duplicate", request{method: "POST", path: "/v1/actionGroups", body: `{"name":"ops","receivers":[{"type":"webhook","url":"https://a.example"}]}`}, 409, "Conflict", "already exists"},
		{"empty group", request{method: "POST", path: "/v1/actionGroups", body: `{"name":"x","receivers":[]}`}, 400, "ArgumentInvalid", "has no receivers"},
		{"scheme", request{method: "POST", path: "/v1/actionGroups", body: `{"name":"x","receivers":[{"type":"webhook","url":"file:///etc/passwd"}]}`}, 400, "ArgumentInvalid", `scheme \"file\" is not supported`},
		{"unknown field", request{method: "POST", path: "/v1/actionGroups", body: `{"name":"x","hooks":[]}`}, 400, "ArgumentInvalid", "hooks"},
		{"no body", request{method: "POST", path: "/v1/actionGroups"}, 400, "ArgumentInvalid", "empty"},
		{"unknown group", request{method: "GET", path: "/v1/actionGroups/nope"}, 404, "NotFound", "No action group named 'nope'"},
		{"bad limit", request{method: "GET", path: "/v1/actionGroups/ops/history?limit=0"}, 400, "ArgumentInvalid", "limit"},
		{"test unknown rule", request{method: "POST", path: "/v1/alertRules/nope/test"}, 404, "", "nope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.rq.token = tok
			r := do(t, h, c.rq)
			mustStatus(t, r, c.status)
			if c.code != "" {
				if code := r.errorCode(t); code != c.code {
					t.Errorf("error code = %s, want %s", code, c.code)
				}
			}
			if !strings.Contains(r.raw, c.want) {
				t.Errorf("body %s does not contain %q", r.raw, c.want)
			}
		})
	}
	if r := do(t, h, request{method: "GET", path: "/v1/actionGroups"}); r.status != http.StatusUnauthorized {
		t.Errorf("GET /v1/actionGroups without a token = %d, want 401", r.status)
	}

	r = do(t, h, request{method: "POST", path: "/v1/actionGroups/ops/test", token: tok})
	mustStatus(t, r, http.StatusOK)
	if r.body["delivered"] != 1.0 || r.body["failed"] != 1.0 {
		t.Errorf("test answer = %s, want the webhook delivered and the email failed (no SMTP)", r.raw)
	}
	select {
	case b := <-got:
		if !strings.HasPrefix(b, "sha256=") || !strings.Contains(b, `"schemaId":"azureMonitorCommonAlertSchema"`) {
			t.Errorf("webhook got %q, want a signed common alert schema", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the webhook got nothing")
	}
	r = do(t, h, request{method: "GET", path: "/v1/actionGroups/ops/history?limit=10", token: tok})
	mustStatus(t, r, http.StatusOK)
	if len(r.list) != 2 || strings.Contains(r.raw, "s3cret") {
		t.Errorf("history = %s, want 2 redacted attempts", r.raw)
	}
	if r := do(t, h, request{method: "GET", path: "/v1/notificationHistory", token: tok}); len(r.list) != 2 {
		t.Errorf("notificationHistory = %s, want 2 attempts", r.raw)
	}
	resp, err := h.HTTP.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`tether_alert_notifications_total{outcome="delivered",receiver="webhook"} 1`,
		`tether_alert_notifications_total{outcome="failed",receiver="email"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A group that a rule notifies is not deleted without force; the
	// refusal names the rule.
	mustStatus(t, do(t, h, request{method: "PUT", path: "/v1/alertRules/devices-low", token: tok,
		body: `{"metric":"connectedDeviceCount","aggregation":"min","operator":"lt","threshold":15,"window":"5m","frequency":"1m","actionGroups":["ops"]}`}), http.StatusCreated)
	r = do(t, h, request{method: "DELETE", path: "/v1/actionGroups/ops", token: tok})
	mustStatus(t, r, http.StatusConflict)
	if !strings.Contains(r.raw, "used by alert rule(s) devices-low") || !strings.Contains(r.raw, "--force") {
		t.Errorf("in-use refusal = %s, want the rule named and the way out", r.raw)
	}
	mustStatus(t, do(t, h, request{method: "GET", path: "/v1/actionGroups/ops", token: tok}), http.StatusOK)
	mustStatus(t, do(t, h, request{method: "DELETE", path: "/v1/actionGroups/ops?force=maybe", token: tok}), http.StatusBadRequest)
	mustStatus(t, do(t, h, request{method: "DELETE", path: "/v1/actionGroups/ops?force=true", token: tok}), http.StatusNoContent)
	mustStatus(t, do(t, h, request{method: "DELETE", path: "/v1/actionGroups/ops", token: tok}), http.StatusNotFound)
}
