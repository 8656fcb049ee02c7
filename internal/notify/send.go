package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook request.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the
	// body keyed with the action group's secret.
	SignatureHeader = "X-Tether-Signature"
	// AlertIDHeader carries the alert's ID, the same for Fired and
	// Resolved, so a receiver can deduplicate retries.
	AlertIDHeader = "X-Tether-Alert-Id"
)

// Sign returns the X-Tether-Signature value of body keyed with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is body's signature with secret.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(strings.TrimSpace(signature)))
}

// result is the outcome of one send.
type result struct {
	status     int           // HTTP or SMTP status; 0 when there was no answer
	final      bool          // the failure will not go away by retrying
	retryAfter time.Duration // a 429 or 503's Retry-After
	err        error         // nil: delivered
}

// send delivers a to r, within ctx's deadline.
func (d *Dispatcher) send(ctx context.Context, g Group, r Receiver, a Alert, now time.Time) result {
	switch r.Kind {
	case KindWebhook:
		p, err := CommonSchema(a, d.o.ResourceID)
		if err != nil {
			return result{final: true, err: err}
		}
		body, err := marshal(p)
		if err != nil {
			return result{final: true, err: err}
		}
		return d.post(ctx, r.Target, body, g.Secret.Reveal(), a)
	case KindAlertmanager:
		body, err := marshal(alertmanagerAlerts(a, d.o.ResourceID, now, d.o.AlertmanagerHold))
		if err != nil {
			return result{final: true, err: err}
		}
		return d.post(ctx, alertmanagerURL(r.Target), body, "", a)
	case KindEmail:
		status, final, err := sendEmail(ctx, d.o.SMTP, r.Target, a, d.o.ResourceID, now)
		return result{status: status, final: final, err: err}
	}
	return result{final: true, err: fmt.Errorf("unknown receiver kind %q", r.Kind)}
}

// marshal is json.Marshal without HTML escaping: receivers see "<", not
// "\u003c", in conditions.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// maxErrorBody is how much of a failed answer is kept in the record.
const maxErrorBody = 200

// post sends body to target and classifies the answer: 2xx is delivered;
// 408, 429, 5xx and no answer are retried; other answers (a redirect, a
// 4xx) are final.
func (d *Dispatcher) post(ctx context.Context, target string, body []byte, secret string, a Alert) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return result{final: true, err: fmt.Errorf("build request: %v", redactErr(err, target))}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "tether-notify")
	req.Header.Set(AlertIDHeader, a.ID())
	if secret != "" {
		req.Header.Set(SignatureHeader, Sign(secret, body))
	}
	resp, err := d.o.Client.Do(req)
	if err != nil {
		return result{err: redactErr(err, target)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	s := resp.StatusCode
	if s >= 200 && s < 300 {
		return result{status: s}
	}
	msg := "HTTP " + strconv.Itoa(s)
	if s >= 300 && s < 400 {
		msg += ": redirected to " + Redact(resp.Header.Get("Location")) + "; configure the final URL"
	} else if t := strings.Join(strings.Fields(strings.ToValidUTF8(string(snippet), "")), " "); t != "" {
		msg += ": " + t
	}
	r := result{status: s, err: fmt.Errorf("%s", msg)}
	r.final = s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
	if s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable {
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
			r.retryAfter = time.Duration(secs) * time.Second
		}
	}
	return r
}

// redactErr hides target's secrets in an error from the HTTP client,
// which quotes the whole URL.
func redactErr(err error, target string) error {
	msg := err.Error()
	if target != "" {
		msg = strings.ReplaceAll(msg, target, Redact(target))
		msg = strings.ReplaceAll(msg, strconv.Quote(target), strconv.Quote(Redact(target)))
	}
	return fmt.Errorf("%s", msg)
}
