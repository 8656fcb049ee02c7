package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Message properties (map[string]string) are stored as JSON objects, and
// an empty map as NULL. encodeProps writes them without reflection, as the
// telemetry hot path calls it for every message.

// encodeProps returns m as a JSON object (a string) or, when m is empty,
// nil, for use as a statement argument. buf is scratch space, returned for
// reuse.
func encodeProps(buf []byte, m map[string]string) (any, []byte) {
	if len(m) == 0 {
		return nil, buf
	}
	buf = append(buf[:0], '{')
	for k, v := range m {
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		buf = appendJSONString(buf, v)
	}
	buf = append(buf, '}')
	return string(buf), buf
}

// appendJSONString appends s to buf as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// decodeProps reads a column written by encodeProps: NULL reads back as
// a nil map.
func decodeProps(s sql.NullString) (map[string]string, error) {
	if !s.Valid {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, fmt.Errorf("stored properties: %w", err)
	}
	return m, nil
}
