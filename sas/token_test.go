package sas

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

const sig = "x0%2B%2FNbZHLFpACthc%2FDkRm4wnl7niVFGYHA0cYOqa0CM%3D" // of testSig

func TestParseToken(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Parsed
	}{
		{"node order", testSig, Parsed{RawResource: "localhost%2Fdevices%2Fd1", Resource: "localhost/devices/d1",
			RawExpiry: "1795600800", Expiry: time.Unix(1795600800, 0).UTC()}},
		{"any order, any case", "SharedAccessSignature SE=1795600800&Skn=iothubowner&SIG=" + sig + "&sr=h",
			Parsed{RawResource: "h", Resource: "h", RawExpiry: "1795600800", Expiry: time.Unix(1795600800, 0).UTC(), KeyName: "iothubowner"}},
		{"lower-case escapes", "SharedAccessSignature sr=h%2fdevices%2fd1&sig=" + sig + "&se=0",
			Parsed{RawResource: "h%2fdevices%2fd1", Resource: "h/devices/d1", RawExpiry: "0", Expiry: time.Unix(0, 0).UTC()}},
		{"double encoded", "SharedAccessSignature sr=h%2Fdevices%2Fa%253Ab&sig=" + sig + "&se=1",
			Parsed{RawResource: "h%2Fdevices%2Fa%253Ab", Resource: "h/devices/a:b", RawExpiry: "1", Expiry: time.Unix(1, 0).UTC()}},
		{"plus stays plus", "SharedAccessSignature sr=h%2Fa+b&sig=" + sig + "&se=1",
			Parsed{RawResource: "h%2Fa+b", Resource: "h/a+b", RawExpiry: "1", Expiry: time.Unix(1, 0).UTC()}},
		{"escaped skn", "SharedAccessSignature sr=h&sig=" + sig + "&skn=my%20policy&se=01",
			Parsed{RawResource: "h", Resource: "h", RawExpiry: "01", Expiry: time.Unix(1, 0).UTC(), KeyName: "my policy"}},
		{"unpadded sig escapes", "SharedAccessSignature sr=h&sig=x0+/NbZHLFpACthc/DkRm4wnl7niVFGYHA0cYOqa0CM=&se=1",
			Parsed{RawResource: "h", Resource: "h", RawExpiry: "1", Expiry: time.Unix(1, 0).UTC()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseToken(tt.in)
			if err != nil {
				t.Fatalf("ParseToken(%q) = %v", tt.in, err)
			}
			if p.RawResource != tt.want.RawResource || p.Resource != tt.want.Resource || p.RawExpiry != tt.want.RawExpiry ||
				!p.Expiry.Equal(tt.want.Expiry) || p.KeyName != tt.want.KeyName {
				t.Errorf("ParseToken(%q) = %+v, want %+v", tt.in, *p, tt.want)
			}
			if len(p.Signature) != 32 || p.Signature[0] != 0xc7 {
				t.Errorf("ParseToken(%q).Signature = %x, want the decoded sig", tt.in, p.Signature)
			}
		})
	}
}

func TestParseTokenErrors(t *testing.T) {
	const se = "&se=1795600800"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "the token is empty"},
		{"too long", "SharedAccessSignature sr=" + strings.Repeat("a", 4096) + "&sig=" + sig + se, "the token is 4192 bytes long; the limit is 4096"},
		{"no prefix", "sr=h&sig=" + sig + se, `it does not start with "SharedAccessSignature "`},
		{"bearer", "Bearer abc", `it does not start with "SharedAccessSignature "`},
		{"prefix case", "sharedaccesssignature sr=h&sig=" + sig + se, `it must start with exactly "SharedAccessSignature" followed by one space`},
		{"no space", "SharedAccessSignature&sr=h&sig=" + sig + se, `it must start with exactly "SharedAccessSignature" followed by one space`},
		{"two spaces", "SharedAccessSignature  sr=h&sig=" + sig + se, "the fields contain whitespace"},
		{"space inside", "SharedAccessSignature sr=h&sig=" + sig + " " + se, "the fields contain whitespace"},
		{"nothing after prefix", "SharedAccessSignature ", "no fields follow"},
		{"field without =", "SharedAccessSignature sr=h&sig" + se, "field 2 has no '='"},
		{"trailing &", "SharedAccessSignature sr=h&sig=" + sig + se + "&", "field 4 has no '='"},
		{"unknown field", "SharedAccessSignature sr=h&sig=" + sig + se + "&foo=1", `unknown field "foo" (want sr, sig, se and optionally skn)`},
		{"duplicate field", "SharedAccessSignature sr=h&SR=g&sig=" + sig + se, "field sr appears twice"},
		{"empty sr", "SharedAccessSignature sr=&sig=" + sig + se, "field sr is empty"},
		{"empty skn", "SharedAccessSignature sr=h&skn=&sig=" + sig + se, "field skn is empty"},
		{"missing sr", "SharedAccessSignature sig=" + sig + se, "field sr is missing"},
		{"missing sig", "SharedAccessSignature sr=h" + se, "field sig is missing"},
		{"missing se", "SharedAccessSignature sr=h&sig=" + sig, "field se is missing"},
		{"se not a number", "SharedAccessSignature sr=h&sig=" + sig + "&se=soon", `se "soon" is not a number of seconds`},
		{"se fraction", "SharedAccessSignature sr=h&sig=" + sig + "&se=1.5", `se "1.5" is not a number of seconds`},
		{"se plus", "SharedAccessSignature sr=h&sig=" + sig + "&se=%2B1", `se "%2B1" is not a number of seconds`},
		{"se negative", "SharedAccessSignature sr=h&sig=" + sig + "&se=-5", `se "-5" is negative`},
		{"se huge", "SharedAccessSignature sr=h&sig=" + sig + "&se=99999999999999999999", `se "99999999999999999999" is out of range`},
		{"sr bad escape", "SharedAccessSignature sr=h%2&sig=" + sig + se, `sr "h%2" is not validly URL-encoded`},
		{"sig bad escape", "SharedAccessSignature sr=h&sig=abc%zz" + se, "sig is not validly URL-encoded"},
		{"sig not base64", "SharedAccessSignature sr=h&sig=not-base64!" + se, "sig is not base64 after URL-decoding"},
		{"sig short", "SharedAccessSignature sr=h&sig=AAAA" + se, "sig is 3 bytes long once decoded; an HMAC-SHA256 is 32"},
		{"skn bad escape", "SharedAccessSignature sr=h&skn=a%g&sig=" + sig + se, `skn "a%g" is not validly URL-encoded`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseToken(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseToken(%q) = %+v, %v, want %v", tt.in, p, err, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseToken(%q) = %v, want it to wrap ErrMalformed", tt.in, err)
			}
			if strings.Contains(err.Error(), "NbZHLFp") {
				t.Errorf("ParseToken(%q) = %q, which reveals the signature", tt.in, err)
			}
		})
	}
}

func TestParseTokenLengthLimit(t *testing.T) {
	short := "SharedAccessSignature sr=h&sig=" + sig + "&se=1"
	at := strings.Replace(short, "sr=h", "sr=h"+strings.Repeat("a", MaxTokenLength-len(short)), 1)
	if _, err := ParseToken(at); len(at) != MaxTokenLength || err != nil {
		t.Errorf("ParseToken(%d bytes) = %v, want nil", len(at), err)
	}
	if _, err := ParseToken(at + "0"); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseToken(%d bytes) = %v, want ErrMalformed", len(at)+1, err)
	}
}

func TestCheckSignature(t *testing.T) {
	p, err := ParseToken(testSig)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckSignature(testKey); err != nil {
		t.Errorf("CheckSignature(right key) = %v, want nil", err)
	}
	if err := p.CheckSignature("", "bad", testKey2, testKey); err != nil {
		t.Errorf("CheckSignature(empty, bad, wrong, right) = %v, want nil", err)
	}
	tests := []struct {
		name string
		keys []string
		want string
	}{
		{"one", []string{testKey2}, "sas: signature mismatch: the token does not match the key"},
		{"two", []string{testKey2, "dGV0aGVyLXNhcy10ZXN0Pw=="}, "sas: signature mismatch: the token matches neither the primary nor the secondary key"},
		{"none", []string{"", "%%"}, "sas: signature mismatch: the token cannot be checked: there is no valid key"},
	}
	for _, tt := range tests {
		var keys []tether.Secret
		for _, k := range tt.keys {
			keys = append(keys, tether.Secret(k))
		}
		err := p.CheckSignature(keys...)
		if !errors.Is(err, ErrSignatureMismatch) || err.Error() != tt.want {
			t.Errorf("CheckSignature(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
	// The HMAC is over sr as sent: the same resource escaped differently
	// does not verify with the signature made for the other spelling.
	lower, err := ParseToken(strings.Replace(testSig, "%2F", "%2f", 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := lower.CheckSignature(testKey); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("CheckSignature on a re-escaped sr = %v, want ErrSignatureMismatch", err)
	}
}

func TestCheckExpiry(t *testing.T) {
	exp := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := &Parsed{Expiry: exp}
	tests := []struct {
		now  time.Time
		skew time.Duration
		ok   bool
	}{
		{exp.Add(-time.Hour), 0, true},
		{exp, 0, true},
		{exp.Add(time.Nanosecond), 0, false},
		{exp.Add(5 * time.Minute), DefaultSkew, true},
		{exp.Add(5*time.Minute + time.Second), DefaultSkew, false},
		{exp.Add(time.Second), -time.Minute, false},
		{exp, -time.Minute, true},
	}
	for _, tt := range tests {
		err := p.CheckExpiry(tt.now, tt.skew)
		if (err == nil) != tt.ok {
			t.Errorf("CheckExpiry(%v, %v) = %v, want ok=%v", tt.now, tt.skew, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrExpired) {
			t.Errorf("CheckExpiry(%v, %v) = %v, want it to match ErrExpired", tt.now, tt.skew, err)
		}
	}
	err := p.CheckExpiry(exp.Add(7*time.Minute+12*time.Second), DefaultSkew)
	want := "sas: token expired at 2026-11-25T10:00:00Z (server time 2026-11-25T10:07:12Z, allowed clock skew 5m0s)"
	var ee *ExpiredError
	if err == nil || err.Error() != want || !errors.As(err, &ee) || ee.Skew != DefaultSkew {
		t.Errorf("CheckExpiry = %v, want %v", err, want)
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		resource, target string
		want             bool
	}{
		{"h", "h", true},
		{"h", "h/devices/d1", true},
		{"H.Example", "h.example/devices/d1", true},
		{"h/", "h/devices/d1", true},
		{"h/devices", "h/devices/d1", true},
		{"h/devices/d1", "h/devices/d1", true},
		{"h/devices/d1/", "h/devices/d1", true},
		{"h/devices/d1", "h/devices/d1/modules/m", true},
		{"h/devices/d1", "h/devices/d10", false},
		{"h/devices/d1", "h/devices/D1", false},
		{"h/devices/d1", "h", false},
		{"h/devices/d1/modules/m", "h/devices/d1", false},
		{"h", "g/devices/d1", false},
		{"h", "hh", false},
		{"a/devices/x", "localhost/devices/x", false},
		{"/", "h", false},
		{"", "h", false},
	}
	for _, tt := range tests {
		p := &Parsed{Resource: tt.resource}
		if got := p.Covers(tt.target); got != tt.want {
			t.Errorf("Parsed{Resource: %q}.Covers(%q) = %v, want %v", tt.resource, tt.target, got, tt.want)
		}
	}
}

func TestCoversPercentInDeviceID(t *testing.T) {
	// Device "a%41b" (legal: '%' is allowed) escaped once by Node, and
	// twice by C#. Full decoding turns it into "aAb"; Covers still
	// matches the real ID, and not the one decoding makes up.
	for _, sr := range []string{"h%2Fdevices%2Fa%2541b", "h%2Fdevices%2Fa%252541b"} {
		p, err := ParseToken("SharedAccessSignature sr=" + sr + "&sig=" + sig + "&se=1")
		if err != nil {
			t.Fatal(err)
		}
		if !p.Covers("h/devices/a%41b") {
			t.Errorf("ParseToken(sr=%s).Covers(%q) = false, want true", sr, "h/devices/a%41b")
		}
		if p.Covers("h/devices/a%41") {
			t.Errorf("ParseToken(sr=%s).Covers(%q) = true, want false", sr, "h/devices/a%41")
		}
	}
}
