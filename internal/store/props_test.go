package store

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzEncodeProps checks that encodeProps writes JSON that encoding/json
// reads back as it reads its own encoding of the same map.
func FuzzEncodeProps(f *testing.F) {
	for _, seed := range [][2]string{
		{"k", "v"}, {"", ""}, {`q"uote\`, "tab\tnl\n\r\x00\x1f"}, {"ünï", "✓ 😀"},
		{"bad", "\xff\xfe"}, {"half", "\xe2\x9c"}, {"<html>", "&amp; \u2028"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		m := map[string]string{k: v, "other": v + k}
		arg, _ := encodeProps(nil, m)
		var got map[string]string
		if err := json.Unmarshal([]byte(arg.(string)), &got); err != nil {
			t.Fatalf("encodeProps(%q) = %q, which is not JSON: %v", m, arg, err)
		}
		ref, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(got, want) {
			t.Errorf("encodeProps(%q) reads back as %q, want %q", m, got, want)
		}
	})
}

func TestEncodePropsEmpty(t *testing.T) {
	for _, m := range []map[string]string{nil, {}} {
		if arg, _ := encodeProps(nil, m); arg != nil {
			t.Errorf("encodeProps(%#v) = %#v, want nil (stored as NULL)", m, arg)
		}
	}
}
