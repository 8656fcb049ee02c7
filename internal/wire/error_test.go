package wire

import (
	"testing"

	"github.com/tether-iot/tether"
)

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header string
		body   string
		code   tether.ResultCode
		msg    string
	}{
		{"classic", 404, "DeviceNotFound", `{"Message":"ErrorCode:DeviceNotFound;Device 'x' is not registered.","ExceptionMessage":"Tracking ID:1-G:0-TimeStamp:01/01/2026 00:00:00"}`, tether.DeviceNotFound, "Device 'x' is not registered."},
		{"numeric code", 409, "", `{"Message":"ErrorCode:409001;exists"}`, tether.DeviceAlreadyExists, "exists"},
		{"json in message", 404, "", `{"Message":"{\"errorCode\":404103,\"trackingId\":\"t\",\"message\":\"offline\",\"timestampUtc\":\"x\"}"}`, tether.DeviceNotOnline, "offline"},
		{"object message", 504, "", `{"Message":{"errorCode":504101,"message":"timed out"}}`, tether.GatewayTimeout, "timed out"},
		{"not json", 502, "", `Bad Gateway`, tether.ServerError, "Bad Gateway"},
		{"empty", 412, "", ``, tether.PreconditionFailed, "HTTP 412"},
		{"header only", 401, "IotHubUnauthorizedAccess", `{}`, tether.IoTHubUnauthorizedAccess, "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ParseError(tc.status, tc.header, []byte(tc.body))
			if e.Code != tc.code || e.Message != tc.msg {
				t.Errorf("ParseError(%d, %q, %q) = %v %q, want %v %q", tc.status, tc.header, tc.body, e.Code, e.Message, tc.code, tc.msg)
			}
		})
	}
}
