package sas

import (
	"net/url"
	"strings"
)

// escape percent-encodes s as the Azure IoT Node.js SDK's
// encodeUriComponentStrict does: JavaScript's encodeURIComponent (every
// byte except A–Z a–z 0–9 - _ . ! ~ * ' ( ) escaped as upper-case %XX),
// then ! ' ( ) * escaped too. The SDK writes those last five with
// lower-case hex, which matters only for '*' ("%2a"); escape does the same
// so that tokens match the SDK's byte for byte.
func escape(s string) string {
	const upperHex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '*':
			b.WriteString("%2a")
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// maxDecodes bounds how often a resource is decoded. C#'s device client
// may escape the device ID before escaping the whole resource, so two
// rounds are sometimes needed; the third is a margin.
const maxDecodes = 3

// decodeResource undoes the escaping of a token's sr field. It decodes
// repeatedly while that changes the value, at most maxDecodes times,
// and returns every distinct decoding, the most decoded last. '+' stays
// '+': C# and Python write a space as '+', but neither may occur in a
// host name or device ID. Only a failure of the first round is an
// error: a later one means the decoded text holds a literal '%', which
// device IDs may contain.
func decodeResource(raw string) ([]string, error) {
	s, err := url.PathUnescape(raw)
	if err != nil {
		return nil, err
	}
	out := []string{s}
	for range maxDecodes - 1 {
		next, err := url.PathUnescape(s)
		if err != nil || next == s {
			break
		}
		s = next
		out = append(out, s)
	}
	return out, nil
}
