package tether_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
)

func TestValidateDeviceID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want string // "" for valid, else a part of the error
	}{
		{"d1", ""},
		{"Device-01:a.b%c_d*e?f!g(h)i,j=k@l;m$n'o", ""},
		{strings.Repeat("x", 128), ""},
		{"", "empty"},
		{strings.Repeat("x", 129), "129 characters"},
		{"a b", "' '"},
		{"a/b", "'/'"},
		{"a+b", "wildcards"},
		{"a#b", "wildcards"},
		{"ü", "'ü'"},
	} {
		err := tether.ValidateDeviceID(tc.id)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidateDeviceID(%q) = %v, want nil", tc.id, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidateDeviceID(%q) = %v, want error containing %q", tc.id, err, tc.want)
		case err != nil && tether.ErrorCode(err) != tether.ArgumentInvalid:
			t.Errorf("ValidateDeviceID(%q) code = %v, want ArgumentInvalid", tc.id, tether.ErrorCode(err))
		}
	}
}

func TestDecodeKey(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, tc := range []struct {
		key  string
		want string
	}{
		{b64(16), ""}, {b64(32), ""}, {b64(64), ""},
		{b64(15), "15 bytes"}, {b64(65), "65 bytes"},
		{"not base64!", "base64"}, {"", "0 bytes"},
	} {
		_, err := tether.DecodeKey(tc.key)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("DecodeKey(%q) = %v, want %q", tc.key, err, tc.want)
		}
	}
}

func TestRights(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want tether.Rights
	}{
		{"RegistryRead", tether.RegistryRead},
		{"registryread, RegistryWrite", tether.RegistryRead | tether.RegistryWrite},
		{"RegistryReadWrite ServiceConnect", tether.RegistryRead | tether.RegistryWrite | tether.ServiceConnect},
		{"ServiceConnect|DeviceConnect", tether.ServiceConnect | tether.DeviceConnect},
	} {
		got, err := tether.ParseRights(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRights(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, _ := tether.ParseRights(got.String()); back != got {
			t.Errorf("ParseRights(%q.String()) = %v, want %v", got, back, got)
		}
	}
	if _, err := tether.ParseRights("RegistryRaed"); err == nil || !strings.Contains(err.Error(), "RegistryRaed") {
		t.Errorf("ParseRights(typo) = %v, want an error naming it", err)
	}
	if !tether.AllRights.Has(tether.DeviceConnect|tether.RegistryWrite) || tether.RegistryRead.Has(tether.RegistryWrite) {
		t.Error("Rights.Has is wrong")
	}
}

func TestDeviceETag(t *testing.T) {
	for v, want := range map[int64]string{0: "MA==", 1: "MQ==", 791938671: "NzkxOTM4Njcx"} {
		if got := (tether.Device{Version: v}).ETag(); got != want {
			t.Errorf("Device{Version: %d}.ETag() = %q, want %q", v, got, want)
		}
	}
	if got := (tether.Twin{Version: 1}).ETag(); got != "AAAAAAAAAAE=" {
		t.Errorf("Twin{Version: 1}.ETag() = %q, want AAAAAAAAAAE=", got)
	}
}

func TestSecretRedacts(t *testing.T) {
	s := tether.Secret("c2VjcmV0LWtleS12YWx1ZQ==")
	var b strings.Builder
	for _, f := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		b.WriteString(f)
	}
	if strings.Contains(b.String(), s.Reveal()) {
		t.Errorf("Secret formats reveal the value: %s", b.String())
	}
}
