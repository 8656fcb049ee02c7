package notify

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzReceiver feeds arbitrary targets to the receiver checks and the
// redaction: they never panic, and a redacted URL never shows a query
// value or a password.
func FuzzReceiver(f *testing.F) {
	for _, s := range []string{
		"https://ops.example/hook?code=s3cret", "http://u:pw@127.0.0.1:9093", "ftp://x", "a.example/hook",
		"http://[::1", "https://h/p?a=1&a=2&b=%zz", "oncall@example.com", "On Call <oncall@example.com>",
		"http://h/?=v", "https://h#frag", "", "http://h/p?k=v;x=y", "HTTPS://H/?q=\u00e9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		for _, kind := range []string{KindWebhook, KindAlertmanager, KindEmail} {
			normalize(Group{Name: "g", Receivers: []Receiver{{Kind: kind, Target: target}}})
		}
		r := Redact(target)
		u, err := url.Parse(r)
		if err != nil {
			return // shown as it is (no ':', '?' or '@') or as "(unparseable URL, redacted)"
		}
		if _, ok := u.User.Password(); ok && u.User.String() != url.UserPassword(u.User.Username(), "REDACTED").String() {
			t.Errorf("Redact(%q) = %q shows a password", target, r)
		}
		for k, vs := range u.Query() {
			for _, v := range vs {
				if v != "REDACTED" {
					t.Errorf("Redact(%q) = %q shows %s=%q", target, r, k, v)
				}
			}
		}
		if u.Scheme != "" && strings.Contains(r, "#") {
			t.Errorf("Redact(%q) = %q keeps a fragment", target, r)
		}
	})
}

// FuzzAlert feeds arbitrary alerts to validation and, when valid, to
// every renderer: nothing panics, and what validation accepts renders.
func FuzzAlert(f *testing.F) {
	f.Add("devices-low", 2, "Fired", "Metric", "lt", "min", 15.0, 10.0, int64(5*time.Minute), "q", 3)
	f.Add("bad-keys", 1, "Resolved", "Log", "gt", "", 5.0, 0.0, int64(0), "AzureDiagnostics", 7)
	f.Add("", 9, "Firing", "", "about", "median", 0.0, 0.0, int64(-1), "", -1)
	f.Add("x\r\nBcc: a@b", 0, "Test", "", ">=", "sum", 1e308, -1e308, int64(1<<62), "\x00", 0)
	f.Fuzz(func(t *testing.T, rule string, sev int, state, signal, op, agg string, thr, val float64, win int64, query string, rows int) {
		a := Alert{RuleName: rule, Severity: sev, State: state, SignalType: signal, Operator: op, Aggregation: agg,
			Threshold: thr, MetricValue: val, WindowSize: time.Duration(win), Query: query, ResultCount: rows,
			FiredAt: t0, ResolvedAt: t0.Add(time.Minute), MetricName: "m"}
		if a.validate() != nil {
			return
		}
		if _, err := CommonSchema(a, DefaultResourceID); err != nil {
			t.Errorf("CommonSchema(%+v) = %v", a, err)
		}
		alertmanagerAlerts(a, DefaultResourceID, t0, time.Hour)
		msg := string(emailMessage("t@example.com", "o@example.com", a, DefaultResourceID, t0))
		head, _, _ := strings.Cut(msg, "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if !strings.Contains(line, ": ") || strings.ContainsAny(line, "\r\n") {
				t.Errorf("header line %q of %+v is not a header", line, a)
			}
		}
	})
}
