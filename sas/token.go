package sas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tether-iot/tether"
)

// MaxTokenLength is the longest token [ParseToken] reads, in bytes.
const MaxTokenLength = 4096

// Parsed is a token split into its fields. ParseToken fills it in
// without judging the signature, the expiry or the audience; its Check
// methods and [Parsed.Covers] do that.
type Parsed struct {
	RawResource string    // sr exactly as sent (still URL-encoded): the HMAC is computed over this
	Resource    string    // sr fully URL-decoded (see ParseToken)
	Signature   []byte    // sig, URL- and base64-decoded
	RawExpiry   string    // se exactly as sent
	Expiry      time.Time // se as a time, in UTC
	KeyName     string    // skn, URL-decoded; "" when signed with a device's or module's own key

	// decoded holds every distinct decoding of RawResource, the last
	// equal to Resource; see decodeResource.
	decoded []string
}

// ParseToken splits a token of the form
//
//	SharedAccessSignature sr=<resource>&sig=<signature>&se=<expiry>[&skn=<policy>]
//
// The prefix is case-sensitive and followed by exactly one space. The
// fields may come in any order and their names in any case; sr, sig and se
// are required. Every error wraps [ErrMalformed] and says what is wrong;
// none repeats the signature.
//
// Resource is decoded repeatedly while that changes it (at most three
// times), to undo the double encoding of device IDs by the C# SDK. A
// device ID that holds a literal '%' may so come out decoded once too
// often ("a%41b" as "aAb"): [Parsed.Covers] allows for that, and callers
// should take the identity from the connection, checked with Covers,
// rather than from Resource.
func ParseToken(s string) (*Parsed, error) {
	fields, err := splitToken(s)
	if err != nil {
		return nil, err
	}
	p := &Parsed{RawResource: fields["sr"], RawExpiry: fields["se"]}
	if p.decoded, err = decodeResource(p.RawResource); err != nil {
		return nil, fmt.Errorf("%w: sr %q is not validly URL-encoded", ErrMalformed, p.RawResource)
	}
	p.Resource = p.decoded[len(p.decoded)-1]
	if p.Expiry, err = parseExpiry(p.RawExpiry); err != nil {
		return nil, err
	}
	sig, err := url.PathUnescape(fields["sig"])
	if err != nil {
		return nil, fmt.Errorf("%w: sig is not validly URL-encoded", ErrMalformed)
	}
	if p.Signature, err = base64.StdEncoding.DecodeString(sig); err != nil {
		return nil, fmt.Errorf("%w: sig is not base64 after URL-decoding", ErrMalformed)
	}
	if len(p.Signature) != sha256.Size {
		return nil, fmt.Errorf("%w: sig is %d bytes long once decoded; an HMAC-SHA256 is %d", ErrMalformed, len(p.Signature), sha256.Size)
	}
	if skn, ok := fields["skn"]; ok {
		if p.KeyName, err = url.PathUnescape(skn); err != nil {
			return nil, fmt.Errorf("%w: skn %q is not validly URL-encoded", ErrMalformed, skn)
		}
	}
	return p, nil
}

// splitToken checks the prefix and returns the fields by lower-case
// name.
func splitToken(s string) (map[string]string, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: the token is empty", ErrMalformed)
	case len(s) > MaxTokenLength:
		return nil, fmt.Errorf("%w: the token is %d bytes long; the limit is %d", ErrMalformed, len(s), MaxTokenLength)
	case !strings.HasPrefix(s, prefix):
		head := strings.TrimRight(prefix, " ")
		if len(s) >= len(head) && strings.EqualFold(s[:len(head)], head) {
			return nil, fmt.Errorf("%w: it must start with exactly %q followed by one space", ErrMalformed, head)
		}
		return nil, fmt.Errorf("%w: it does not start with %q", ErrMalformed, prefix)
	}
	rest := s[len(prefix):]
	if rest == "" {
		return nil, fmt.Errorf("%w: no fields follow %q", ErrMalformed, prefix)
	}
	if strings.ContainsFunc(rest, unicode.IsSpace) {
		return nil, fmt.Errorf("%w: the fields contain whitespace; only one space may follow %q", ErrMalformed, strings.TrimSpace(prefix))
	}
	fields := make(map[string]string, 4)
	for i, f := range strings.Split(rest, "&") {
		name, value, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("%w: field %d has no '=' (want name=value)", ErrMalformed, i+1)
		}
		key := strings.ToLower(name)
		switch key {
		case "sr", "sig", "se", "skn":
		default:
			return nil, fmt.Errorf("%w: unknown field %q (want sr, sig, se and optionally skn)", ErrMalformed, shorten(name))
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("%w: field %s appears twice", ErrMalformed, key)
		}
		if value == "" {
			return nil, fmt.Errorf("%w: field %s is empty", ErrMalformed, key)
		}
		fields[key] = value
	}
	for _, key := range []string{"sr", "sig", "se"} {
		if _, ok := fields[key]; !ok {
			return nil, fmt.Errorf("%w: field %s is missing", ErrMalformed, key)
		}
	}
	return fields, nil
}

// parseExpiry reads se, a decimal count of seconds since 1970.
func parseExpiry(se string) (time.Time, error) {
	digits := strings.TrimPrefix(se, "-")
	if digits == "" || strings.ContainsFunc(digits, func(c rune) bool { return c < '0' || c > '9' }) {
		return time.Time{}, fmt.Errorf("%w: se %q is not a number of seconds", ErrMalformed, se)
	}
	if digits != se {
		return time.Time{}, fmt.Errorf("%w: se %q is negative", ErrMalformed, se)
	}
	n, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: se %q is out of range", ErrMalformed, se)
	}
	return time.Unix(n, 0).UTC(), nil
}

// shorten caps text quoted in an error message.
func shorten(s string) string {
	const limit = 32
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// CheckSignature reports whether the token was signed with one of keys
// (base64, typically a primary and a secondary so that keys can be
// rotated): it computes the HMAC over RawResource + "\n" + RawExpiry with
// each and compares in constant time. Empty and undecodable keys are
// skipped. The error wraps [ErrSignatureMismatch].
func (p *Parsed) CheckSignature(keys ...tether.Secret) error {
	if p.signedWith(keys) {
		return nil
	}
	return fmt.Errorf("%w: the token %s", ErrSignatureMismatch, mismatch(keys))
}

func (p *Parsed) signedWith(keys []tether.Secret) bool {
	for _, k := range keys {
		b, err := tether.DecodeKey(k.Reveal())
		if err == nil && hmac.Equal(mac(b, p.RawResource, p.RawExpiry), p.Signature) {
			return true
		}
	}
	return false
}

// mismatch phrases a failed signature check for the number of keys tried.
func mismatch(keys []tether.Secret) string {
	n := 0
	for _, k := range keys {
		if _, err := tether.DecodeKey(k.Reveal()); err == nil {
			n++
		}
	}
	switch n {
	case 0:
		return "cannot be checked: there is no valid key"
	case 1:
		return "does not match the key"
	case 2:
		return "matches neither the primary nor the secondary key"
	}
	return fmt.Sprintf("matches none of the %d keys", n)
}

// CheckExpiry reports whether the token is still valid at now: it is
// while now is at most Expiry + skew. A negative skew counts as zero. The
// error is an [*ExpiredError].
func (p *Parsed) CheckExpiry(now time.Time, skew time.Duration) error {
	skew = max(skew, 0)
	if now.After(p.Expiry.Add(skew)) {
		return &ExpiredError{Expiry: p.Expiry, Now: now, Skew: skew}
	}
	return nil
}

// Covers reports whether the token's resource grants access to target,
// such as "myhub.example/devices/d1": whether target starts with the
// resource by whole path segments, so "h/devices/d1" covers
// "h/devices/d1/modules/m" but not "h/devices/d10". The host (the part
// before the first '/') is compared case-insensitively, the path
// case-sensitively, since device IDs are case-sensitive. A trailing '/' on
// the resource is ignored.
//
// A token from [ParseToken] also covers target if a less decoded form of
// its resource does, so that device IDs containing a literal '%' match.
func (p *Parsed) Covers(target string) bool {
	forms := p.decoded
	if len(forms) == 0 || forms[len(forms)-1] != p.Resource {
		forms = []string{p.Resource}
	}
	for _, r := range forms {
		if covers(r, target) {
			return true
		}
	}
	return false
}

func covers(resource, target string) bool {
	resource = strings.TrimSuffix(resource, "/")
	if resource == "" {
		return false
	}
	rHost, rPath, _ := strings.Cut(resource, "/")
	tHost, tPath, _ := strings.Cut(target, "/")
	if !strings.EqualFold(rHost, tHost) {
		return false
	}
	return rPath == "" || tPath == rPath || strings.HasPrefix(tPath, rPath+"/")
}
