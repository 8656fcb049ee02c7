package sas

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
)

func FuzzParseToken(f *testing.F) {
	f.Add(testSig)
	f.Add("SharedAccessSignature sr=localhost&sig=" + sig + "&skn=iothubowner&se=1795600800")
	f.Add("SharedAccessSignature SE=1&SIG=" + sig + "&SR=h%2fdevices%2fa%253Ab&SKN=a%20b")
	f.Add("SharedAccessSignature sr=h&sig=AAAA&se=-1")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseToken(s)
		_ = Token(s).LogValue().Resolve().String()
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseToken(%q) = %v, want ErrMalformed", s, err)
			}
			if p != nil {
				t.Fatalf("ParseToken(%q) = %+v and an error", s, p)
			}
			return
		}
		if len(s) > MaxTokenLength {
			t.Fatalf("ParseToken(%d bytes) succeeded, over the limit", len(s))
		}
		p.Covers(p.Resource)
		p.CheckSignature(testKey)

		// Re-formatting in Node's order, with Node's escaping of sig and
		// skn, parses to the same token.
		var b strings.Builder
		b.WriteString(prefix + "sr=" + p.RawResource + "&sig=" + escape(b64(p.Signature)))
		if p.KeyName != "" {
			b.WriteString("&skn=" + escape(p.KeyName))
		}
		b.WriteString("&se=" + p.RawExpiry)
		again := b.String()
		if len(again) > MaxTokenLength {
			return
		}
		q, err := ParseToken(again)
		if err != nil {
			t.Fatalf("ParseToken(%q) = %v; it re-formats %q", again, err, s)
		}
		if q.RawResource != p.RawResource || q.Resource != p.Resource || !bytes.Equal(q.Signature, p.Signature) ||
			q.RawExpiry != p.RawExpiry || !q.Expiry.Equal(p.Expiry) || q.KeyName != p.KeyName {
			t.Fatalf("ParseToken(%q) = %+v, want %+v", again, *q, *p)
		}
	})
}

func FuzzParseConnectionString(f *testing.F) {
	f.Add("HostName=localhost;DeviceId=d1;SharedAccessKey=" + testKey)
	f.Add("hostname=h;deviceid=edge-1;moduleid=$edgeHub;sharedaccesskey=" + testKey2 + ";GatewayHostName=g;")
	f.Add("HostName=h;DeviceId=d1;x509=true")
	f.Add("HostName=localhost;DeviceId=d1;SharedAccessSignature=" + testSig)
	f.Add("HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey=" + testKey)
	f.Add("HostName=h;DeviceId=d1;SharedAccesKey=" + testKey)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConnectionString(s)
		if err != nil {
			var te *tether.Error
			if !errors.As(err, &te) || te.Code != tether.ArgumentInvalid || !strings.HasPrefix(te.Message, "connection string: ") {
				t.Fatalf("ParseConnectionString(%q) = %#v, want an ArgumentInvalid *tether.Error about the connection string", s, err)
			}
			return
		}
		_ = c.LogValue().Resolve().String()
		again, err := ParseConnectionString(c.String())
		if err != nil || again != c {
			t.Fatalf("ParseConnectionString(%q) = %#v, %v, want %#v", c.String(), again, err, c)
		}
	})
}
