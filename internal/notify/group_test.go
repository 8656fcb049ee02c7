package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestCreateGroupValidation(t *testing.T) {
	f := mustNewFixture(t)
	f.mustCreate(t, "taken", webhook("https://ops.example/hook"))
	for _, c := range []struct {
		name string
		in   wire.ActionGroup
		kind tether.Kind
		want string
	}{
		{"no name", wire.ActionGroup{Receivers: []wire.Receiver{webhook("https://a.example")}}, tether.KindInvalid, "needs a name"},
		{"bad name", wire.ActionGroup{Name: "ops team", Receivers: []wire.Receiver{webhook("https://a.example")}}, tether.KindInvalid, `name "ops team"`},
		{"empty group", wire.ActionGroup{Name: "ops"}, tether.KindInvalid, "has no receivers"},
		{"ftp scheme", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{webhook("ftp://a.example/x")}}, tether.KindInvalid, `scheme "ftp" is not supported`},
		{"no scheme", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{webhook("a.example/hook")}}, tether.KindInvalid, "has no scheme"},
		{"not a URL", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{webhook("http://[::1")}}, tether.KindInvalid, "is not a valid URL"},
		{"no host", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{alertmanager("http:///api")}}, tether.KindInvalid, "has no host"},
		{"empty URL", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{webhook("")}}, tether.KindInvalid, "the URL is empty"},
		{"bad email", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{email("ops at example")}}, tether.KindInvalid, "is not valid"},
		{"email without domain", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{email("ops@example")}}, tether.KindInvalid, "has no domain"},
		{"unknown type", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{{Type: "sms", Address: "+100"}}}, tether.KindInvalid, `type "sms"`},
		{"webhook with address", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{{Type: "webhook", Address: "a@b.example"}}}, tether.KindInvalid, "takes a url"},
		{"twice", wire.ActionGroup{Name: "ops", Receivers: []wire.Receiver{webhook("https://a.example/h?k=1"), webhook("https://a.example/h?k=1")}}, tether.KindInvalid, "twice"},
		{"duplicate name", wire.ActionGroup{Name: "taken", Receivers: []wire.Receiver{webhook("https://a.example")}}, tether.KindConflict, "already exists"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.d.CreateGroup(context.Background(), c.in)
			if err == nil || tether.ErrorKind(err) != c.kind || !strings.Contains(err.Error(), c.want) {
				t.Errorf("CreateGroup(%+v) = %v (%v), want %v containing %q", c.in, err, tether.ErrorKind(err), c.kind, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "k=1") {
				t.Errorf("error %q shows a query value", err)
			}
		})
	}
}

func TestCreateGroupShowsSecretOnceAndRedacts(t *testing.T) {
	f := mustNewFixture(t)
	g := f.mustCreate(t, "ops", webhook("https://user:pw@ops.example/hook?sig=abc&api-version=1"),
		alertmanager("http://127.0.0.1:9093"), email("On Call <oncall@example.com>"))
	if len(g.Secret) < 40 {
		t.Errorf("created group's secret = %q, want a generated one", g.Secret)
	}
	again, err := f.d.Group(context.Background(), "ops")
	if err != nil {
		t.Fatal(err)
	}
	if again.Secret != "" {
		t.Errorf("Group() shows the secret %q; only the create answer may", again.Secret)
	}
	want := []wire.Receiver{
		webhook("https://user:REDACTED@ops.example/hook?api-version=REDACTED&sig=REDACTED"),
		alertmanager("http://127.0.0.1:9093"),
		email("oncall@example.com"),
	}
	for i, r := range again.Receivers {
		if r != want[i] {
			t.Errorf("receiver %d = %+v, want %+v", i, r, want[i])
		}
	}
	list, err := f.d.GroupList(context.Background())
	if err != nil || len(list) != 1 || list[0].Receivers[0] != want[0] {
		t.Errorf("GroupList() = %+v, %v; want the redacted group", list, err)
	}
	if err := f.d.DeleteGroup(context.Background(), "ops"); err != nil {
		t.Fatal(err)
	}
	if err := f.d.DeleteGroup(context.Background(), "ops"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("second DeleteGroup = %v, want not found", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://ops.example/hook":                        "https://ops.example/hook",
		"https://ops.example/hook?code=abc":               "https://ops.example/hook?code=REDACTED",
		"https://u:p@ops.example/":                        "https://u:REDACTED@ops.example/",
		"https://ops.example/a?x=1&x=2&b=3#frag":          "https://ops.example/a?b=REDACTED&x=REDACTED",
		"oncall@example.com":                              "oncall@example.com",
		"http://[::1?token=abc":                           "(unparseable URL, redacted)",
		"https://prod-00.westus.logic.azure.com/x?sig=Zz": "https://prod-00.westus.logic.azure.com/x?sig=REDACTED",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTestReportsEachReceiver(t *testing.T) {
	f := mustNewFixture(t)
	ok := mustStartReceiver(t)
	failing := mustStartReceiver(t, 500)
	closed := mustStartReceiver(t)
	closed.Close() // nothing listens there any more
	f.mustCreate(t, "ops", webhook(ok.URL), webhook(failing.URL+"/x?key=secret"), webhook(closed.URL), email("oncall@example.com"))
	res, err := f.d.Test(context.Background(), []string{"ops"}, TestAlert("ops", t0))
	if err != nil {
		t.Fatalf("Test() = %v", err)
	}
	if res.Delivered != 1 || res.Failed != 3 || len(res.Results) != 4 {
		t.Fatalf("Test() = %+v, want 1 delivered, 3 failed", res)
	}
	if r := res.Results[1]; r.StatusCode != 500 || r.Outcome != OutcomeFailed || strings.Contains(r.Target, "secret") {
		t.Errorf("failing receiver's result = %+v, want 500, failed, redacted", r)
	}
	if r := res.Results[2]; r.StatusCode != 0 || !strings.Contains(r.Error, "connection refused") {
		t.Errorf("unreachable receiver's result = %+v, want no status and connection refused", r)
	}
	if r := res.Results[3]; !strings.Contains(r.Error, "email is not configured") {
		t.Errorf("email receiver without SMTP = %+v, want 'email is not configured'", r)
	}
	if h := f.mustHistory(t, "ops"); len(h) != 4 {
		t.Errorf("history after a test = %d attempts, want 4", len(h))
	}
	f.mustDispatch(t, t0.Add(time.Hour))
	if n := len(failing.requests()); n != 1 {
		t.Errorf("a failed test was retried: %d requests, want 1", n)
	}
	if _, err := f.d.Test(context.Background(), []string{"nope"}, TestAlert("nope", t0)); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("Test(unknown group) = %v, want not found", err)
	}
}
