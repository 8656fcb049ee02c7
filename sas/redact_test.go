package sas

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
)

// logLine logs args with a text handler and returns the output.
func logLine(args ...any) string {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("test", args...)
	return buf.String()
}

func TestRedaction(t *testing.T) {
	tok := mustSign(t, "localhost/devices/d1", testKey, "device", exp)
	p, err := ParseToken(string(tok))
	if err != nil {
		t.Fatal(err)
	}
	rawSig := tok[strings.Index(string(tok), "sig=")+4 : strings.Index(string(tok), "&skn")]
	secrets := []string{testKey, testKey2, string(rawSig), b64(p.Signature)}

	cs, err := ParseConnectionString("HostName=localhost;DeviceId=d1;SharedAccessKeyName=device;SharedAccessKey=" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	sigCS := ConnectionString{HostName: "localhost", DeviceID: "d1", Signature: tether.Secret(tok)}

	tests := []struct {
		name string
		args []any
		want []string // must appear
	}{
		{"token", []any{"token", tok},
			[]string{"token.sr=localhost/devices/d1", "token.sig=REDACTED", "token.se=2026-11-25T11:00:00.000Z", "token.skn=device"}},
		{"malformed token", []any{"token", Token("SharedAccessSignature sig=" + string(rawSig))}, []string{"token=REDACTED"}},
		{"connection string", []any{"cs", cs},
			[]string{"cs.HostName=localhost", "cs.DeviceId=d1", "cs.SharedAccessKeyName=device", "cs.SharedAccessKey=REDACTED"}},
		{"connection string with token", []any{"cs", sigCS}, []string{"cs.SharedAccessSignature=REDACTED"}},
		{"secret", []any{"key", tether.Secret(testKey2)}, []string{"key=REDACTED"}},
		{"pointer to connection string", []any{"cs", &cs}, []string{"cs.SharedAccessKey=REDACTED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := logLine(tt.args...)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("log output %q reveals %q", out, s)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("log output %q lacks %q", out, w)
				}
			}
		})
	}

	// %#v reveals nothing either; String (and so %v), by design, does.
	if s := fmt.Sprintf("%#v", cs); strings.Contains(s, testKey) {
		t.Errorf("fmt.Sprintf(%%#v, cs) = %q, reveals the key", s)
	}
	if s := fmt.Sprint(cs); !strings.Contains(s, testKey) {
		t.Errorf("fmt.Sprint(cs) = %q, want it to carry the key", s)
	}
}
