package diag

import (
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

// checkRecord compares a record's columns and properties with Azure's
// documented shape for its category.
func checkRecord(t *testing.T, r tether.LogRecord, category, op, level, result string, want map[string]any) {
	t.Helper()
	if r.Category != category || r.OperationName != op || r.Level != level || r.ResultType != result {
		t.Errorf("record = %s %s %s %q, want %s %s %s %q", r.Category, r.OperationName, r.Level, r.ResultType, category, op, level, result)
	}
	if result != "" && r.ResultDescription != tether.ResultCode(atoi(result)).Name() {
		t.Errorf("%s: resultDescription %q", category, r.ResultDescription)
	}
	p := props(t, r)
	for k, v := range want {
		got, ok := p[k]
		if !ok || got != v {
			t.Errorf("%s %s: properties_s %s = %#v (present %v), want %#v", category, op, k, got, ok, v)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestIdentityOperation(t *testing.T) {
	ok := IdentityOperation(OpCreate, Call{Time: t0, Duration: 3 * time.Millisecond, DeviceID: "d1", RemoteAddr: "10.1.2.3:5000", SDKVersion: "az-cli"})
	checkRecord(t, ok, "DeviceIdentityOperations", "create", "Information", "",
		map[string]any{"deviceId": "d1", "maskedIpAddress": "10.1.2.XXX", "statusCode": "200", "sdkVersion": "az-cli"})
	if ok.DeviceID != "d1" || ok.DurationMs == nil || *ok.DurationMs != 3 || !ok.Time.Equal(t0) {
		t.Errorf("create record columns = %+v", ok)
	}
	bad := IdentityOperation(OpGet, Call{DeviceID: "nope", RemoteAddr: "10.1.2.3:5000", Code: tether.DeviceNotFound})
	checkRecord(t, bad, "DeviceIdentityOperations", "get", "Error", "404001", map[string]any{"statusCode": "404"})
	list := IdentityOperation(OpList, Call{Status: 200})
	checkRecord(t, list, "DeviceIdentityOperations", "list", "Information", "", map[string]any{"deviceId": nil})
}

func TestTwinOperations(t *testing.T) {
	c2d := TwinOperation(OpReplace, Call{DeviceID: "d1", SDKVersion: "iothub-service-sdk/1.0"}, 120)
	checkRecord(t, c2d, "C2DTwinOperations", "replace", "Information", "",
		map[string]any{"deviceId": "d1", "sdkVersion": "iothub-service-sdk/1.0", "messageSize": "120"})
	d2c := DeviceTwinOperation(OpUpdate, DeviceTwin{Call: Call{DeviceID: "d1", Duration: time.Millisecond, SDKVersion: "node/1"},
		Protocol: tether.ProtocolMQTT, AuthScope: "device", MessageSize: 12})
	checkRecord(t, d2c, "D2CTwinOperations", "update", "Information", "", map[string]any{"deviceId": "d1", "protocol": "Mqtt",
		"authenticationType": `{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}`, "sdkVersion": "node/1"})
	failed := DeviceTwinOperation(OpRead, DeviceTwin{Call: Call{DeviceID: "d1", Code: tether.ServerError}})
	checkRecord(t, failed, "D2CTwinOperations", "read", "Error", "500001", map[string]any{"statusCode": "500"})
}

func TestMethodOperation(t *testing.T) {
	status := 404
	m := MethodOperation(Method{Call: Call{DeviceID: "d1", Duration: 250 * time.Millisecond, SDKVersion: "sdk"}, MethodName: "reboot",
		RequestSize: 11, ResponseSize: 2, DeviceStatus: &status})
	checkRecord(t, m, "DirectMethods", "send", "Information", "", map[string]any{"deviceId": "d1", "methodName": "reboot",
		"RequestSize": 11.0, "ResponseSize": 2.0, "sdkVersion": "sdk", "statusCode": "404"})
	if *m.DurationMs != 250 {
		t.Errorf("durationMs = %d", *m.DurationMs)
	}
	off := MethodOperation(Method{Call: Call{DeviceID: "d1", Code: tether.DeviceNotOnline}, MethodName: "reboot", RequestSize: 4})
	checkRecord(t, off, "DirectMethods", "send", "Error", "404103", map[string]any{"statusCode": "404", "ResponseSize": 0.0})
}

func TestC2DOperation(t *testing.T) {
	m := C2DMessage{MessageID: "m1", Size: 5, Ack: "full", DeliveryCount: 1, Enqueued: t0, Expiry: t0.Add(time.Hour), Protocol: tether.ProtocolMQTT}
	sent := C2DOperation(OpSend, Call{Time: t0, DeviceID: "d1", RemoteAddr: "127.0.0.1:1"}, m)
	checkRecord(t, sent, "C2DCommands", "send", "Information", "", map[string]any{"deviceId": "d1", "messageId": "m1",
		"messageSizeInBytes": "5", "deliveryAcknowledgement": "Full", "deliveryCount": "1", "ttl": 3600.0,
		"expiryTime": "2026-11-25T11:00:00Z", "EventEnqueuedUtcTime": "2026-11-25T10:00:00Z", "timeInSystem": 0.0, "maskedIpAddress": "127.0.0.XXX"})
	done := C2DOperation(OpComplete, Call{Time: t0.Add(2 * time.Second), DeviceID: "d1", Duration: -1}, m)
	checkRecord(t, done, "C2DCommands", "complete", "Information", "", map[string]any{"timeInSystem": 2000.0, "protocol": "Mqtt"})
	if done.DurationMs != nil {
		t.Errorf("complete durationMs = %d, want none", *done.DurationMs)
	}
	exp := C2DOperation(OpExpired, Call{Time: t0.Add(time.Hour), DeviceID: "d1"}, m)
	if exp.OperationName != "messageExpired" || exp.Level != "Error" || exp.ResultDescription != "MessageExpired" || props(t, exp)["statusCode"] != "410" {
		t.Errorf("expired record = %+v", exp)
	}
}

func TestTelemetryError(t *testing.T) {
	r := TelemetryError(Telemetry{Call: Call{DeviceID: "d1", Code: tether.ThrottlingException, RemoteAddr: "1.2.3.4:1"}, Protocol: tether.ProtocolMQTT, Size: 300})
	checkRecord(t, r, "DeviceTelemetry", "ingress", "Error", "429001", map[string]any{"deviceId": "d1", "batching": "0",
		"messageSizeInBytes": "300", "partitionId": "0", "statusCode": "429", "maskedIpAddress": "1.2.3.XXX"})
	if r.DurationMs != nil {
		t.Error("a telemetry error has a duration")
	}
}
