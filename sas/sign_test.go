package sas

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/tether-iot/tether"
)

// mustSign signs or fails the test.
func mustSign(tb testing.TB, resource string, key tether.Secret, keyName string, expiry time.Time) Token {
	tb.Helper()
	tok, err := Sign(resource, key, keyName, expiry)
	if err != nil {
		tb.Fatalf("Sign(%q, key, %q, %v) = %v", resource, keyName, expiry, err)
	}
	return tok
}

func TestResourceURI(t *testing.T) {
	tests := []struct{ host, device, module, want string }{
		{"h", "", "", "h"},
		{"h", "", "m", "h"},
		{"h", "d1", "", "h/devices/d1"},
		{"h", "d1", "m1", "h/devices/d1/modules/m1"},
		{"localhost:8883", "a:b", "", "localhost:8883/devices/a:b"},
	}
	for _, tt := range tests {
		if got := ResourceURI(tt.host, tt.device, tt.module); got != tt.want {
			t.Errorf("ResourceURI(%q, %q, %q) = %q, want %q", tt.host, tt.device, tt.module, got, tt.want)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"h/devices/d1", "h%2Fdevices%2Fd1"},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"!'()*", "%21%27%28%29%2a"}, // as the Node SDK: lower-case hex for '*'
		{":%;,=@$?&+ #", "%3A%25%3B%2C%3D%40%24%3F%26%2B%20%23"},
		{"ü", "%C3%BC"},
		{"a+b/c=", "a%2Bb%2Fc%3D"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSign(t *testing.T) {
	exp := time.Unix(1795600800, 0)
	tok := mustSign(t, "localhost/devices/d1", testKey, "", exp)
	if string(tok) != testSig {
		t.Errorf("Sign = %q, want %q", tok, testSig)
	}
	if tok.String() != testSig {
		t.Errorf("Token.String() = %q, want the whole token %q", tok.String(), testSig)
	}
	// Sub-second parts of the expiry are dropped.
	if got := mustSign(t, "localhost/devices/d1", testKey, "", exp.Add(999*time.Millisecond)); got != tok {
		t.Errorf("Sign with expiry +999ms = %q, want %q", got, tok)
	}
	pol := mustSign(t, "h", testKey, "my policy", exp)
	if !strings.Contains(string(pol), "&skn=my%20policy&se=1795600800") {
		t.Errorf("Sign with keyName = %q, want skn escaped and before se", pol)
	}
}

func TestSignErrors(t *testing.T) {
	exp := time.Unix(1795600800, 0)
	tests := []struct {
		name     string
		resource string
		key      tether.Secret
		expiry   time.Time
		want     string
	}{
		{"bad key", "h", "%%%", exp, "sas: sign: key is not valid base64"},
		{"short key", "h", "c2hvcnQ=", exp, "sas: sign: key is 5 bytes long once decoded"},
		{"no key", "h", "", exp, "sas: sign: key is 0 bytes long"},
		{"no resource", "", testKey, exp, "sas: sign: the resource is empty"},
		{"before 1970", "h", testKey, time.Unix(-1, 0), "sas: sign: expiry 1969-12-31T23:59:59Z is before 1970"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Sign(tt.resource, tt.key, "", tt.expiry)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Sign(%q, %q, \"\", %v) = %q, %v, want %v", tt.resource, tt.key.Reveal(), tt.expiry, tok, err, tt.want)
			}
			if tether.ErrorCode(err) != tether.ArgumentInvalid {
				t.Errorf("Sign error code = %v, want ArgumentInvalid", tether.ErrorCode(err))
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	fixed := bytes.Repeat([]byte{0xAB}, 40)
	k, err := GenerateKey(bytes.NewReader(fixed))
	if want := tether.Secret("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="); err != nil || k != want {
		t.Fatalf("GenerateKey(fixed) = %q, %v, want %q", k.Reveal(), err, want.Reveal())
	}
	if b, err := tether.DecodeKey(k.Reveal()); err != nil || len(b) != 32 {
		t.Errorf("DecodeKey(GenerateKey()) = %d bytes, %v, want 32 bytes", len(b), err)
	}

	a, err1 := GenerateKey(nil)
	b, err2 := GenerateKey(nil)
	if err1 != nil || err2 != nil || a == b {
		t.Errorf("GenerateKey(nil) twice = %q, %v and %q, %v, want two different keys", a.Reveal(), err1, b.Reveal(), err2)
	}

	if _, err := GenerateKey(bytes.NewReader(fixed[:31])); err == nil {
		t.Errorf("GenerateKey(31 bytes) = nil error, want one")
	}
	boom := errors.New("boom")
	if _, err := GenerateKey(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("GenerateKey(failing reader) = %v, want it to wrap %v", err, boom)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
