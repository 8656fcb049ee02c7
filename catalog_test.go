package tether_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
)

func TestCatalog(t *testing.T) {
	names := map[string]tether.ResultCode{}
	for _, info := range tether.Codes() {
		if info.Code < 100000 || info.Code > 999999 {
			t.Errorf("code %d is not six digits", info.Code)
		}
		if other, dup := names[info.Name]; dup {
			t.Errorf("codes %d and %d share the name %s", other, info.Code, info.Name)
		}
		names[info.Name] = info.Code
		if info.Meaning == "" {
			t.Errorf("%v has no meaning", info.Code)
		}
		if info.HTTP != 0 && info.HTTP != info.Code.HTTPStatus() {
			t.Errorf("%v: HTTP %d differs from its class %d", info.Code, info.HTTP, info.Code.HTTPStatus())
		}
	}
	for _, c := range []tether.ResultCode{404104, 401003, 409002, 500001, 500008, 400027, 403012, 429001} {
		if c.Info().Name == fmt.Sprint(int(c)) {
			t.Errorf("the catalog lacks %d, a code of the troubleshooting guide", c)
		}
	}
	if got := tether.DeviceConnectionClosedRemotely.String(); got != "404104 DeviceConnectionClosedRemotely" {
		t.Errorf("String() = %q", got)
	}
}

func TestErrorHelpers(t *testing.T) {
	e := tether.Errorf(tether.DeviceNotFound, "Device '%s' is not registered.", "x")
	wrapped := fmt.Errorf("get device: %w", e)
	if tether.ErrorCode(wrapped) != tether.DeviceNotFound || tether.ErrorKind(wrapped) != tether.KindNotFound {
		t.Errorf("ErrorCode/ErrorKind(%v) = %v/%v", wrapped, tether.ErrorCode(wrapped), tether.ErrorKind(wrapped))
	}
	if got := tether.ErrorMessage(wrapped); got != "Device 'x' is not registered." {
		t.Errorf("ErrorMessage = %q", got)
	}
	plain := errors.New("disk on fire")
	if tether.ErrorCode(plain) != tether.ServerError || tether.ErrorMessage(plain) != "internal error" {
		t.Errorf("a plain error maps to %v %q; want ServerError and a hidden message", tether.ErrorCode(plain), tether.ErrorMessage(plain))
	}
	if got := tether.ErrorCode(&tether.Error{Kind: tether.KindPrecondition}); got != tether.PreconditionFailed {
		t.Errorf("uncoded precondition error maps to %v", got)
	}
}

// TestCatalogCoversSpec checks that every code of Azure's error table
// (shared/spec/azure-iot-hub.md §7) is in the catalog with its causes and
// fix.
func TestCatalogCoversSpec(t *testing.T) {
	spec := []int{400001, 400004, 400027, 400029, 400030, 401002, 401003, 403001, 403002, 403004, 403006,
		403010, 403012, 404001, 404010, 404103, 404104, 409001, 409002, 412001, 412002, 413001, 429001,
		429002, 429003, 429004, 429005, 499000, 500001, 500008, 503001, 503003, 503005, 503008, 503101,
		503102, 504101}
	own := []int{404000, 409000} // Tether's codes for its own entities
	for _, n := range append(spec, own...) {
		c := tether.ResultCode(n)
		if !c.Known() {
			t.Errorf("the catalog lacks %d", n)
			continue
		}
		info := c.Info()
		if len(info.Causes) == 0 || len(info.Fix) == 0 {
			t.Errorf("%v has %d causes and %d fix steps; want both", c, len(info.Causes), len(info.Fix))
		}
	}
	if got, want := len(tether.Codes()), len(spec)+len(own); got != want {
		t.Errorf("the catalog has %d codes, the spec's table %d and Tether's own %d: list new ones in this test", got, len(spec), len(own))
	}
	if got := tether.IoTHubUnauthorized.Info().DocsLink(); got != "docs/errors.md#401003-iothubunauthorized" {
		t.Errorf("DocsLink() = %q", got)
	}
}

func TestLookupCode(t *testing.T) {
	for _, q := range []string{"401003", " 401003 ", "IoTHubUnauthorized", "iothubunauthorized", "IOTHUBUNAUTHORIZED"} {
		info, err := tether.LookupCode(q)
		if err != nil || info.Code != tether.IoTHubUnauthorized {
			t.Errorf("LookupCode(%q) = %v, %v; want 401003", q, info.Code, err)
		}
	}
	for _, tc := range []struct{ q, suggest string }{
		{"401009", "401003 IoTHubUnauthorized"},
		{"DeviceNotFund", "404001 DeviceNotFound"},
		{"throttl", "429001 ThrottlingException"},
		{"zzzzzzzzzzzz", "tether errors"},
		{"", "tether errors"},
	} {
		_, err := tether.LookupCode(tc.q)
		if err == nil || tether.ErrorKind(err) != tether.KindNotFound || !strings.Contains(err.Error(), tc.suggest) {
			t.Errorf("LookupCode(%q) error = %v; want a not-found error mentioning %q", tc.q, err, tc.suggest)
		}
	}
}
