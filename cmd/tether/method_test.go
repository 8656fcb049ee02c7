package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestMethodInvoke(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "--data", data, "device", "create", "m1")
	_, err := run(t, "--data", data, "method", "invoke", "m1", "reboot", "--payload", `{"delay":1}`, "--timeout", "10s", "--connect-timeout", "0s")
	if tether.ErrorCode(err) != tether.DeviceNotOnline {
		t.Errorf("invoke on an offline device = %v, want DeviceNotOnline", err)
	}
	_, err = run(t, "--data", data, "method", "invoke", "nope", "reboot")
	if tether.ErrorCode(err) != tether.DeviceNotFound {
		t.Errorf("invoke on an unknown device = %v, want DeviceNotFound", err)
	}
	_, err = run(t, "--data", data, "method", "invoke", "m1", "re boot")
	if tether.ErrorCode(err) != tether.ArgumentInvalid || !strings.Contains(err.Error(), "methodName") {
		t.Errorf("invoke with a bad method name = %v, want ArgumentInvalid naming methodName", err)
	}
}

func TestMethodInvokeUsage(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"m1"}, "a device ID and a method name"},
		{[]string{}, "a device ID and a method name"},
		{[]string{"m1", "reboot", "--payload", `{"a":`}, "--payload is not valid JSON"},
		{[]string{"m1", "reboot", "--payload", `{"a":x}`}, "at byte 6"},
		{[]string{"m1", "reboot", "--payload", `1 2`}, "more after"},
		{[]string{"m1", "reboot", "--payload", ``}, "--payload is empty"},
		{[]string{"m1", "reboot", "--timeout", "4s"}, "from 5s to 5m"},
		{[]string{"m1", "reboot", "--timeout", "301s"}, "--timeout"},
		{[]string{"m1", "reboot", "--timeout", "1500ms"}, "whole seconds"},
		{[]string{"m1", "reboot", "--connect-timeout", "6m"}, "--connect-timeout"},
	} {
		_, err := run(t, append([]string{"--data", data, "method", "invoke"}, tc.args...)...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("method invoke %q = %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestPrintMethodResult(t *testing.T) {
	for _, tc := range []struct {
		res  wire.MethodResult
		want string
	}{
		{wire.MethodResult{Status: 200, Payload: json.RawMessage(`{"ok":true,"n":[1,2]}`)},
			"status: 200\n{\n  \"ok\": true,\n  \"n\": [\n    1,\n    2\n  ]\n}\n"},
		{wire.MethodResult{Status: 500, Payload: json.RawMessage(`"boom"`)},
			"status: 500 (the device answered with a non-success status)\n\"boom\"\n"},
		{wire.MethodResult{Status: 204}, "status: 204\nnull\n"},
	} {
		var b bytes.Buffer
		if err := printMethodResult(&b, tc.res); err != nil || b.String() != tc.want {
			t.Errorf("printMethodResult(%+v) =\n%s(%v), want\n%s", tc.res, b.String(), err, tc.want)
		}
	}
}
