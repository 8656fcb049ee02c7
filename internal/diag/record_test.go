package diag

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func props(t *testing.T, r tether.LogRecord) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Properties), &m); err != nil {
		t.Fatalf("properties_s %q is not a JSON object: %v", r.Properties, err)
	}
	return m
}

// TestAzureShapes reproduces the records of Azure's documentation (the
// 2018 tutorial): a connect and a 404104 disconnect.
func TestAzureShapes(t *testing.T) {
	connect := ConnectionRecords(tether.ConnectionEvent{Kind: tether.EventConnect, Time: t0, ConnectionID: "c1",
		DeviceID: "Contoso-Test-Device", Protocol: tether.ProtocolMQTT, RemoteAddr: "73.162.215.91:50000",
		SDKVersion: "azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)", AuthScope: "device", KeepAlive: 180 * time.Second})
	if len(connect) != 1 {
		t.Fatalf("connect gave %d records", len(connect))
	}
	r := connect[0]
	if r.Category != "Connections" || r.OperationName != "deviceConnect" || r.Level != "Information" || r.ResultType != "" || r.ResultDescription != "" {
		t.Errorf("connect record = %+v", r)
	}
	p := props(t, r)
	for k, want := range map[string]any{"deviceId": "Contoso-Test-Device", "protocol": "Mqtt", "maskedIpAddress": "73.162.215.XXX",
		"statusCode": nil, "sdkVersion": "azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)",
		"authType": `{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}`, "keepAliveSec": 180.0, "connectionId": "c1"} {
		if p[k] != want {
			t.Errorf("connect properties_s %s = %#v, want %#v", k, p[k], want)
		}
	}
	if _, ok := p["statusCode"]; !ok {
		t.Error("connect properties_s has no statusCode (Azure writes null)")
	}

	disc := ConnectionRecords(tether.ConnectionEvent{Kind: tether.EventDisconnect, Time: t0.Add(time.Hour), ConnectionID: "c1",
		DeviceID: "Contoso-Test-Device", Protocol: tether.ProtocolMQTT, RemoteAddr: "73.162.215.91:50000", AuthScope: "device",
		Reason: tether.ReasonKeepAliveTimeout, Detail: "no packet for 4m30s", KeepAlive: 180 * time.Second,
		ConnectedAt: t0, LastActivity: t0.Add(time.Hour - 270*time.Second), BytesIn: 10, MsgsIn: 2})
	r = disc[0]
	if len(disc) != 1 || r.OperationName != "deviceDisconnect" || r.Level != "Error" || r.ResultType != "404104" || r.ResultDescription != "DeviceConnectionClosedRemotely" || r.Reason != tether.ReasonKeepAliveTimeout {
		t.Errorf("disconnect records = %+v", disc)
	}
	p = props(t, r)
	for k, want := range map[string]any{"statusCode": "404", "reason": "keepalive_timeout", "durationMs": 3600000.0,
		"lastActivityAgoMs": 270000.0, "bytesIn": 10.0, "messagesIn": 2.0, "detail": "no packet for 4m30s"} {
		if p[k] != want {
			t.Errorf("disconnect properties_s %s = %#v, want %#v", k, p[k], want)
		}
	}
}

// TestReasonTable maps every reason to its level, result type and
// description.
func TestReasonTable(t *testing.T) {
	for _, tc := range []struct {
		kind   tether.EventKind
		reason tether.Reason
		codes  []string
		level  string
		op     string
	}{
		{tether.EventDisconnect, tether.ReasonClientDisconnect, []string{""}, "Information", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonConnectionLost, []string{"404104"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonKeepAliveTimeout, []string{"404104"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonCredentialExpired, []string{"401003", "404104"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonSessionTakenOver, []string{"400027"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonDeviceDisabled, []string{"403012"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonThrottled, []string{"429005"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonMessageTooLarge, []string{"413001"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonProtocolError, []string{"400004"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonServerError, []string{"500001"}, "Error", "deviceDisconnect"},
		{tether.EventDisconnect, tether.ReasonServerShutdown, []string{"400029"}, "Error", "deviceDisconnect"},
		{tether.EventConnectFailed, tether.ReasonAuthFailed, []string{"401003"}, "Error", "deviceConnect"},
		{tether.EventConnectFailed, tether.ReasonCredentialExpired, []string{"401003"}, "Error", "deviceConnect"},
		{tether.EventConnectFailed, tether.ReasonConnectTimeout, []string{"500008"}, "Error", "deviceConnect"},
		{tether.EventConnectFailed, tether.ReasonTLSError, []string{"401003"}, "Error", "deviceConnect"},
		{tether.EventConnectFailed, tether.ReasonDeviceDisabled, []string{"403012"}, "Error", "deviceConnect"},
		{tether.EventRefused, tether.ReasonNotAuthorized, []string{"401003"}, "Error", "deviceOperationRefused"},
	} {
		recs := ConnectionRecords(tether.ConnectionEvent{Kind: tc.kind, Time: t0, DeviceID: "d", Reason: tc.reason, ConnectedAt: t0})
		if len(recs) != len(tc.codes) {
			t.Errorf("%s %v: %d records, want %d", tc.reason, tc.kind, len(recs), len(tc.codes))
			continue
		}
		for i, r := range recs {
			wantLevel := tc.level
			if tc.codes[i] == "" {
				wantLevel = "Information"
			}
			if r.ResultType != tc.codes[i] || r.Level != wantLevel || r.OperationName != tc.op || r.Reason != tc.reason {
				t.Errorf("%s %v record %d = %s %s %s, want %s %s %s", tc.reason, tc.kind, i, r.OperationName, r.Level, r.ResultType, tc.op, wantLevel, tc.codes[i])
			}
			if tc.codes[i] != "" && props(t, r)["statusCode"] != tc.codes[i][:3] {
				t.Errorf("%s: statusCode %v, want %s", tc.reason, props(t, r)["statusCode"], tc.codes[i][:3])
			}
		}
	}
}
