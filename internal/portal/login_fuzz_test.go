package portal

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tether-iot/tether"
)

// FuzzLogin sends arbitrary login bodies: the handler must answer with a
// JSON status, never panic, and log in only with the policy's real key.
func FuzzLogin(f *testing.F) {
	const key = "c2VjcmV0LWtleS1vZi10aGUtb3duZXItcG9saWN5IQ=="
	for _, s := range []string{
		`{"connectionString":"HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=` + key + `"}`,
		`{"connectionString":"HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=AAAA"}`,
		`{"connectionString":"HostName=localhost;DeviceId=d;SharedAccessKey=` + key + `"}`,
		`{"password":"x"}`, `{}`, `[]`, `null`, `{"connectionString":5}`, "", "{", `{"connectionString":";;;=;="}`,
	} {
		f.Add([]byte(s))
	}
	pol := tether.Policy{Name: "iothubowner", PrimaryKey: key, SecondaryKey: key, Rights: tether.AllRights}
	p, err := New(Options{Hostname: "localhost", API: http.NotFoundHandler(), Policy: func(_ context.Context, name string) (tether.Policy, error) {
		if name != pol.Name {
			return tether.Policy{}, tether.Errorf(tether.DeviceNotFound, "no policy %q", name)
		}
		return pol, nil
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p.limiter = newLimiter() // the fuzzer is one client; do not lock it out
		req := httptest.NewRequest("POST", "https://localhost/portal/api/login", bytes.NewReader(body))
		req.AddCookie(&http.Cookie{Name: loginCookie, Value: "tok"})
		req.Header.Set(csrfHeader, "tok")
		w := httptest.NewRecorder()
		p.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			if !bytes.Contains(body, []byte(key)) {
				t.Fatalf("logged in without the key: %q", body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			if !bytes.Contains(w.Body.Bytes(), []byte(`"message":"`)) {
				t.Fatalf("refusal without a message: %s", w.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
	})
}
