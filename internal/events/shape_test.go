package events

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// mustDeliverOne subscribes a receiver with schema to typ, publishes ev,
// delivers it and returns the request the receiver got.
func mustDeliverOne(t *testing.T, schema string, ev DeviceEvent) received {
	t.Helper()
	f := mustNewEvents(t)
	r := mustStartReceiver(t)
	f.mustSubscribe(t, wire.EventSubscription{Name: "s", URL: r.URL, Types: []string{string(ev.Type)}, Schema: schema, Secret: "0123456789abcdef"})
	f.mustPublish(t, ev)
	f.mustDeliver(t, t0)
	got := r.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	return got[0]
}

// decodeExact decodes b into a generic value, so that every member, and
// only those, is compared.
func decodeExact(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body %s is not JSON: %v", b, err)
	}
	return v
}

func TestEventGridConnectedShape(t *testing.T) {
	ev := connected("LogicAppTestDevice", 1, t0)
	req := mustDeliverOne(t, "", ev)
	if ct := req.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if h := req.header.Get("aeg-event-type"); h != "Notification" {
		t.Errorf("aeg-event-type = %q, want Notification", h)
	}
	var arr []map[string]any
	json.Unmarshal(req.body, &arr)
	if len(arr) != 1 || !uuidRE.MatchString(arr[0]["id"].(string)) {
		t.Fatalf("body %s: want one event with a UUID id", req.body)
	}
	want := []any{map[string]any{
		"id":              arr[0]["id"],
		"topic":           "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/TETHER/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/MYHUB",
		"subject":         "devices/LogicAppTestDevice",
		"eventType":       "Microsoft.Devices.DeviceConnected",
		"eventTime":       "2026-03-04T05:06:07.1234567Z",
		"dataVersion":     "1",
		"metadataVersion": "1",
		"data": map[string]any{
			"deviceConnectionStateEventInfo": map[string]any{"sequenceNumber": seq(1)},
			"hubName":                        "myhub",
			"deviceId":                       "LogicAppTestDevice",
			"moduleId":                       "",
			"tetherConnectionInfo":           map[string]any{"connectionId": "c1"},
		},
	}}
	if diff := cmp.Diff(want, decodeExact(t, req.body)); diff != "" {
		t.Errorf("Event Grid DeviceConnected (-want +got):\n%s", diff)
	}
}

func TestDisconnectedCarriesTetherInfoApart(t *testing.T) {
	ev := DeviceEvent{Type: DeviceDisconnected, DeviceID: "d1", ModuleID: "m1", Time: t0, Sequence: seq(2), ConnectionID: "c2",
		Reason: tether.ReasonKeepAliveTimeout, Code: tether.DeviceConnectionClosedRemotely}
	req := mustDeliverOne(t, "eventgrid", ev)
	var arr []struct {
		EventType string
		Data      map[string]any
	}
	json.Unmarshal(req.body, &arr)
	want := map[string]any{
		"deviceConnectionStateEventInfo": map[string]any{"sequenceNumber": seq(2)},
		"hubName":                        "myhub",
		"deviceId":                       "d1",
		"moduleId":                       "m1",
		"tetherConnectionInfo": map[string]any{"connectionId": "c2", "reason": "keepalive_timeout",
			"resultType": "404104", "resultDescription": "DeviceConnectionClosedRemotely"},
	}
	if arr[0].EventType != "Microsoft.Devices.DeviceDisconnected" {
		t.Errorf("eventType = %q", arr[0].EventType)
	}
	if diff := cmp.Diff(want, arr[0].Data); diff != "" {
		t.Errorf("DeviceDisconnected data (-want +got):\n%s", diff)
	}
}

func TestEventGridCreatedShape(t *testing.T) {
	d := tether.Device{ID: "LogicAppTestDevice", Version: 1, Status: tether.StatusEnabled, Auth: tether.Authentication{Type: tether.AuthSAS}}
	req := mustDeliverOne(t, "eventgrid", DeviceEvent{Type: DeviceCreated, DeviceID: d.ID, Time: t0, Device: &d})
	var arr []map[string]any
	json.Unmarshal(req.body, &arr)
	meta := map[string]any{"$metadata": map[string]any{"$lastUpdated": "2026-03-04T05:06:07.1234567Z"}, "$version": 1.0}
	want := map[string]any{
		"twin": map[string]any{
			"deviceId":                  "LogicAppTestDevice",
			"etag":                      "AAAAAAAAAAE=",
			"deviceEtag":                "MQ==",
			"status":                    "enabled",
			"statusUpdateTime":          "0001-01-01T00:00:00",
			"connectionState":           "Disconnected",
			"lastActivityTime":          "0001-01-01T00:00:00",
			"cloudToDeviceMessageCount": 0.0,
			"authenticationType":        "sas",
			"x509Thumbprint":            map[string]any{"primaryThumbprint": nil, "secondaryThumbprint": nil},
			"version":                   1.0,
			"properties":                map[string]any{"desired": meta, "reported": meta},
		},
		"hubName":  "myhub",
		"deviceId": "LogicAppTestDevice",
	}
	if diff := cmp.Diff(want, arr[0]["data"]); diff != "" {
		t.Errorf("DeviceCreated data (-want +got):\n%s", diff)
	}
	if arr[0]["eventType"] != "Microsoft.Devices.DeviceCreated" || arr[0]["subject"] != "devices/LogicAppTestDevice" {
		t.Errorf("envelope = %v", arr[0])
	}
}

func TestDeletedWithoutDeviceUsesDefaults(t *testing.T) {
	req := mustDeliverOne(t, "eventgrid", DeviceEvent{Type: DeviceDeleted, DeviceID: "gone", Time: t0})
	var arr []struct{ Data LifecycleData }
	json.Unmarshal(req.body, &arr)
	tw := arr[0].Data.Twin
	if tw.DeviceETag != "null" || tw.Status != "enabled" || tw.ConnectionState != "Disconnected" || tw.AuthenticationType != "sas" || arr[0].Data.DeviceID != "gone" {
		t.Errorf("DeviceDeleted twin = %+v", tw)
	}
}

func TestCloudEventsShape(t *testing.T) {
	req := mustDeliverOne(t, "cloudevents", connected("d1", 3, t0))
	if ct := req.header.Get("Content-Type"); ct != "application/cloudevents+json; charset=utf-8" {
		t.Errorf("Content-Type = %q, want application/cloudevents+json (structured mode)", ct)
	}
	v := decodeExact(t, req.body)
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("body %s is not one JSON object", req.body)
	}
	want := map[string]any{
		"id":          obj["id"],
		"source":      DefaultTopic("myhub"),
		"subject":     "devices/d1",
		"type":        "Microsoft.Devices.DeviceConnected",
		"time":        "2026-03-04T05:06:07.1234567Z",
		"specversion": "1.0",
		"data": map[string]any{
			"deviceConnectionStateEventInfo": map[string]any{"sequenceNumber": seq(3)},
			"hubName":                        "myhub",
			"deviceId":                       "d1",
			"moduleId":                       "",
			"tetherConnectionInfo":           map[string]any{"connectionId": "c3"},
		},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("CloudEvent (-want +got):\n%s", diff)
	}
	if !uuidRE.MatchString(obj["id"].(string)) {
		t.Errorf("id = %v, want a UUID", obj["id"])
	}
}

func TestSignatureVerifies(t *testing.T) {
	req := mustDeliverOne(t, "eventgrid", connected("d1", 1, t0))
	sig := req.header.Get(SignatureHeader)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("%s = %q, want sha256=<64 hex>", SignatureHeader, sig)
	}
	if !Verify("0123456789abcdef", req.body, sig) {
		t.Errorf("the signature does not verify with the subscription's secret")
	}
	if Verify("0123456789abcdeX", req.body, sig) || Verify("0123456789abcdef", append(req.body, ' '), sig) {
		t.Errorf("the signature verifies with another secret or body")
	}
	if got := Sign("key", []byte("The quick brown fox jumps over the lazy dog")); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign = %s, want the well-known HMAC-SHA256 of this example", got)
	}
	if h := req.header.Get(SubscriptionHeader); h != "S" {
		t.Errorf("%s = %q, want S", SubscriptionHeader, h)
	}
	if h := req.header.Get(DeliveryCountHeader); h != "0" {
		t.Errorf("%s = %q on a first attempt, want 0", DeliveryCountHeader, h)
	}
}

func TestPublishRefusesBadEvents(t *testing.T) {
	f := mustNewEvents(t)
	for _, tc := range []struct {
		name string
		ev   DeviceEvent
		want string
	}{
		{"unknown type", DeviceEvent{Type: "DeviceRenamed", DeviceID: "d1", Time: t0}, "not known"},
		{"no sequence", DeviceEvent{Type: DeviceConnected, DeviceID: "d1", Time: t0}, "64 hex digits"},
		{"short sequence", DeviceEvent{Type: DeviceDisconnected, DeviceID: "d1", Time: t0, Sequence: "01"}, "64 hex digits"},
		{"bad device", DeviceEvent{Type: DeviceCreated, DeviceID: "a b", Time: t0}, "device ID"},
		{"no time", DeviceEvent{Type: DeviceCreated, DeviceID: "d1"}, "no time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.ev.Publish(tc.ev)
			if tether.ErrorCode(err) != tether.ArgumentInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Publish(%+v) = %v, want ArgumentInvalid containing %q", tc.ev, err, tc.want)
			}
		})
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]EventType{
		"DeviceConnected":                   DeviceConnected,
		"deviceconnected":                   DeviceConnected,
		"Microsoft.Devices.DeviceDeleted":   DeviceDeleted,
		" microsoft.devices.devicecreated ": DeviceCreated,
	} {
		if got, err := ParseType(in); got != want || err != nil {
			t.Errorf("ParseType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{"DeviceTelemetry": "GET /telemetry", "Connected": "DeviceConnected, DeviceDisconnected, DeviceCreated, DeviceDeleted", "": "not known"} {
		if _, err := ParseType(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseType(%q) = %v, want an error containing %q", in, err, msg)
		}
	}
}
