package notify

import (
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// The kinds of receiver.
const (
	KindWebhook      = "webhook"      // POST of Azure's common alert schema JSON
	KindAlertmanager = "alertmanager" // Prometheus Alertmanager's POST /api/v2/alerts
	KindEmail        = "email"        // a plain-text email over SMTP
)

// MaxReceivers bounds the receivers of one action group.
const MaxReceivers = 32

// Receiver is one place an action group's notifications go.
type Receiver struct {
	Kind   string // KindWebhook, KindAlertmanager or KindEmail
	Target string // the URL, or the email address
}

// Group is an action group: a named list of receivers that alert rules
// share. (Its fields match store.ActionGroup, receivers aside.)
type Group struct {
	Name      string
	Receivers []Receiver
	Secret    tether.Secret // the HMAC key of the webhooks' X-Tether-Signature
	Created   time.Time
	Updated   time.Time
	Pending   int // read only
	Dead      int // read only
}

func invalid(format string, args ...any) error {
	return tether.Errorf(tether.ArgumentInvalid, format, args...)
}

// validateName checks an action group's name: 1 to 64 letters, digits,
// '-', '_' and '.', starting with a letter or digit.
func validateName(name string) error {
	if name == "" {
		return invalid("an action group needs a name")
	}
	if len(name) > 64 {
		return invalid("action group name %q is longer than 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok && (i == 0 || !strings.ContainsRune("-_.", r)) {
			return invalid("action group name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
		}
	}
	return nil
}

// normalize checks g's name and receivers and returns its receivers in
// canonical form (trimmed; an email as its bare address). Every mistake
// is an ArgumentInvalid error that names the receiver.
func normalize(g Group) ([]Receiver, error) {
	if err := validateName(g.Name); err != nil {
		return nil, err
	}
	if len(g.Receivers) == 0 {
		return nil, invalid("action group %q has no receivers: give at least one webhook, alertmanager or email receiver", g.Name)
	}
	if len(g.Receivers) > MaxReceivers {
		return nil, invalid("action group %q has %d receivers; the most is %d", g.Name, len(g.Receivers), MaxReceivers)
	}
	seen := map[Receiver]bool{}
	out := make([]Receiver, 0, len(g.Receivers))
	for _, r := range g.Receivers {
		r.Target = strings.TrimSpace(r.Target)
		var err error
		switch r.Kind {
		case KindWebhook, KindAlertmanager:
			err = checkURL(r.Kind, r.Target)
		case KindEmail:
			r.Target, err = checkAddress(r.Target)
		default:
			err = invalid("receiver kind %q: use webhook, alertmanager or email", r.Kind)
		}
		if err != nil {
			return nil, err
		}
		if seen[r] {
			return nil, invalid("action group %q lists the %s receiver %s twice", g.Name, r.Kind, Redact(r.Target))
		}
		seen[r] = true
		out = append(out, r)
	}
	return out, nil
}

// checkURL accepts an absolute http or https URL with a host.
func checkURL(kind, s string) error {
	if s == "" {
		return invalid("%s receiver: the URL is empty", kind)
	}
	u, err := url.Parse(s)
	if err != nil {
		return invalid("%s URL %s is not a valid URL: %v", kind, Redact(s), unwrapURLError(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return invalid("%s URL %s has no scheme: use an absolute http:// or https:// URL", kind, Redact(s))
	default:
		return invalid("%s URL %s: scheme %q is not supported; use http:// or https://", kind, Redact(s), u.Scheme)
	}
	if u.Hostname() == "" {
		return invalid("%s URL %s has no host", kind, Redact(s))
	}
	if u.Fragment != "" {
		return invalid("%s URL %s has a #fragment, which is never sent; remove it", kind, Redact(s))
	}
	return nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// checkAddress accepts one email address and returns it bare.
func checkAddress(s string) (string, error) {
	if s == "" {
		return "", invalid("email receiver: the address is empty")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", invalid("email address %q is not valid: %v", s, err)
	}
	if !strings.Contains(a.Address[strings.LastIndex(a.Address, "@")+1:], ".") && !strings.HasSuffix(a.Address, "@localhost") {
		return "", invalid("email address %q has no domain (such as ops@example.com)", s)
	}
	return a.Address, nil
}

// Redact returns a receiver's target safe for logs and output: a URL's
// password and query values become REDACTED (webhook URLs often carry
// their credentials there, as Azure's and Slack's do); an email address
// is left as it is.
func Redact(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		if strings.ContainsAny(target, ":?@") {
			return "(unparseable URL, redacted)"
		}
		return target
	}
	if u.Scheme == "" && u.RawQuery == "" && u.User == nil {
		return target // an email address, or a path
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	if u.RawQuery != "" {
		q := u.Query()
		parts := make([]string, 0, len(q))
		for _, k := range slices.Sorted(maps.Keys(q)) {
			parts = append(parts, url.QueryEscape(k)+"=REDACTED")
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	u.Fragment = ""
	return u.String()
}

// String describes r for people, redacted: "webhook https://ops.example/hook?code=REDACTED".
func (r Receiver) String() string { return r.Kind + " " + Redact(r.Target) }
