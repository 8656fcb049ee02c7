package tether_test

import (
	"errors"
	"fmt"
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
