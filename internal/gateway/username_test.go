package gateway

import (
	"strings"
	"testing"
)

func TestParseIdentity(t *testing.T) {
	for _, tc := range []struct {
		clientID, username string
		want               identity
		err                string
	}{
		{"dev-1", "localhost/dev-1/?api-version=2021-04-12&DeviceClientType=azure-iot-device%2F1.18.4%20(node%20v20.20.2%3B%20Debian%2012%3B%20x64)",
			identity{Host: "localhost", DeviceID: "dev-1", APIVersion: "2021-04-12", SDK: "azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)"}, ""},
		{"d", "hub/d/?api-version=2020-09-30&DeviceClientType=iothubclient%2f1.6.0%20(native%3b%20Linux%3b%20x86_64)&model-id=dtmi%3acom%3aexample%3aT%3b1",
			identity{Host: "hub", DeviceID: "d", APIVersion: "2020-09-30", SDK: "iothubclient/1.6.0 (native; Linux; x86_64)", ModelID: "dtmi:com:example:T;1"}, ""},
		{"d", "hub/d/api-version=2016-11-14&DeviceClientType=x", identity{Host: "hub", DeviceID: "d", APIVersion: "2016-11-14", SDK: "x"}, ""},
		{"d", "hub/d/api-version=2017-06-30/DeviceClientType=edge", identity{Host: "hub", DeviceID: "d", APIVersion: "2017-06-30", SDK: "edge"}, ""},
		{"d", "hub/d/", identity{Host: "hub", DeviceID: "d"}, ""},
		{"d", "hub/d", identity{Host: "hub", DeviceID: "d"}, ""},
		{"d/m", "hub/d/m/?api-version=2021-04-12", identity{Host: "hub", DeviceID: "d", ModuleID: "m", APIVersion: "2021-04-12"}, ""},
		{"", "hub/d/", identity{}, "client id is empty"},
		{"d", "", identity{}, "user name is empty"},
		{"d", "hub/other/?api-version=1", identity{}, "another identity"},
		{"d", "hub", identity{}, "is not <host>"},
		{"a/b/c", "hub/a/b/c/", identity{}, "more than one"},
		{"d", "hub/d/?%zz", identity{}, "parameters"},
	} {
		got, err := parseIdentity(tc.clientID, tc.username)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseIdentity(%q, %q) = %v, want error %q", tc.clientID, tc.username, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseIdentity(%q, %q) = %+v, %v; want %+v", tc.clientID, tc.username, got, err, tc.want)
		}
	}
}
