package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/sas"
)

const apiVersion = "?api-version=2021-04-12"

// response is one HTTP answer, its body decoded when it is JSON.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
	list   []any
}

// errorCode returns the Azure error name of an error answer, checking the
// header and the body agree.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	msg, _ := r.body["Message"].(string)
	name, _, ok := strings.Cut(strings.TrimPrefix(msg, "ErrorCode:"), ";")
	if !ok || !strings.HasPrefix(msg, "ErrorCode:") {
		t.Fatalf("error body %s is not {\"Message\":\"ErrorCode:<name>;…\"}", r.raw)
	}
	if h := r.header.Get("iothub-errorcode"); h != name {
		t.Errorf("iothub-errorcode header = %q, body names %q", h, name)
	}
	return name
}

type request struct {
	method, path string
	token        string // "" sends no Authorization
	body         string
	ifMatch      string
}

func do(t *testing.T, h *hubtest.Hub, rq request) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, h.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.token != "" {
		req.Header.Set("Authorization", rq.token)
	}
	if rq.ifMatch != "" {
		req.Header.Set("If-Match", rq.ifMatch)
	}
	if rq.body != "" {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := h.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type = %q, want application/json", rq.method, rq.path, ct)
	}
	if len(b) > 0 {
		if b[0] == '[' {
			json.Unmarshal(b, &r.list)
		} else if err := json.Unmarshal(b, &r.body); err != nil {
			t.Errorf("%s %s: body is not JSON: %q", rq.method, rq.path, b)
		}
	}
	return r
}

// token signs a service token for policy cs.
func token(t *testing.T, cs sas.ConnectionString, expiry time.Time) string {
	t.Helper()
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, expiry)
	if err != nil {
		t.Fatal(err)
	}
	return tok.String()
}

func ownerToken(t *testing.T, h *hubtest.Hub) string {
	return token(t, h.Owner, time.Now().Add(time.Hour))
}

func mustStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.raw)
	}
}
