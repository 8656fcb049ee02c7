package sas

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// DefaultSkew is how long after its expiry a token is still accepted, to
// allow for devices whose clocks are a little behind. Azure uses the same.
const DefaultSkew = 5 * time.Minute

// prefix starts every token.
const prefix = "SharedAccessSignature "

// ResourceURI returns the unescaped resource a token is signed for:
// "host/devices/<deviceID>" for a device, with "/modules/<moduleID>"
// appended for a module, or host alone when deviceID is empty (a
// hub-level token, as the service SDKs use).
func ResourceURI(host, deviceID, moduleID string) string {
	if deviceID == "" {
		return host
	}
	r := host + "/devices/" + deviceID
	if moduleID != "" {
		r += "/modules/" + moduleID
	}
	return r
}

// keyBytes is the length in bytes of a key made by [GenerateKey], the
// length Azure uses.
const keyBytes = 32

// GenerateKey returns a new symmetric key: 32 bytes read from r,
// base64-encoded. A nil r means crypto/rand.
func GenerateKey(r io.Reader) (tether.Secret, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, keyBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("sas: generate key: %w", err)
	}
	return tether.Secret(base64.StdEncoding.EncodeToString(b)), nil
}

// Token is a whole SAS token, "SharedAccessSignature sr=…&sig=…&se=…",
// as sent in an MQTT password or an Authorization header.
type Token string

// String returns the whole token, signature included, because that is
// what goes on the wire; fmt's %v and %s print it too. Loggers use
// [Token.LogValue], which hides the signature.
func (t Token) String() string { return string(t) }

// LogValue shows the token's resource, expiry and policy name, with the
// signature replaced by "REDACTED". A token that does not parse logs as
// "REDACTED" alone, since its parts cannot be told apart safely.
func (t Token) LogValue() slog.Value {
	p, err := ParseToken(string(t))
	if err != nil {
		return slog.StringValue("REDACTED")
	}
	attrs := []slog.Attr{
		slog.String("sr", p.Resource),
		slog.String("sig", "REDACTED"),
		slog.Time("se", p.Expiry),
	}
	if p.KeyName != "" {
		attrs = append(attrs, slog.String("skn", p.KeyName))
	}
	return slog.GroupValue(attrs...)
}

// Sign returns a token for resource (unescaped, as made by
// [ResourceURI]) that expires at expiry, truncated to the second. key is
// the base64 key of a device, module or policy; keyName is the policy's
// name, or "" for a device's or module's own key.
//
// The token is the one the Azure IoT Node.js SDK makes: resource,
// signature and key name escaped like JavaScript's encodeURIComponent
// plus ! ' ( ) *, the signature being base64(HMAC-SHA256(key, sr + "\n" +
// se)) over the escaped resource, and the fields in the order sr, sig,
// skn, se.
func Sign(resource string, key tether.Secret, keyName string, expiry time.Time) (Token, error) {
	if resource == "" {
		return "", tether.Errorf(tether.ArgumentInvalid, "sas: sign: the resource is empty")
	}
	se := expiry.Unix()
	if se < 0 {
		return "", tether.Errorf(tether.ArgumentInvalid, "sas: sign: expiry %s is before 1970", expiry.UTC().Format(time.RFC3339))
	}
	k, err := tether.DecodeKey(key.Reveal())
	if err != nil {
		return "", tether.Errorf(tether.ArgumentInvalid, "sas: sign: %s", tether.ErrorMessage(err))
	}
	sr := escape(resource)
	rawSe := strconv.FormatInt(se, 10)
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString("sr=" + sr)
	b.WriteString("&sig=" + escape(base64.StdEncoding.EncodeToString(mac(k, sr, rawSe))))
	if keyName != "" {
		b.WriteString("&skn=" + escape(keyName))
	}
	b.WriteString("&se=" + rawSe)
	return Token(b.String()), nil
}

// mac returns HMAC-SHA256(key, sr + "\n" + se), the signature of a token.
func mac(key []byte, sr, se string) []byte {
	h := hmac.New(sha256.New, key)
	io.WriteString(h, sr+"\n"+se)
	return h.Sum(nil)
}
