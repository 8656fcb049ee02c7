package wire

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestPayload(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"JSON object", `{ "a" : 1 }`, `{"a":1}`},
		{"JSON on lines", "[\n  true\n]", `[true]`},
		{"JSON string", `"x"`, `"x"`},
		{"text", "a <b> & c", `"a <b> & c"`},
		{"two JSON values", `1 2`, `"1 2"`},
		{"binary", "\xff\x00", `"/wA="`},
		{"blank", "  ", `"  "`},
		{"empty", "", `""`},
	} {
		if got := string(Payload([]byte(tc.body))); got != tc.want {
			t.Errorf("%s: Payload(%q) = %s, want %s", tc.name, tc.body, got, tc.want)
		}
	}
}

func TestFromMessage(t *testing.T) {
	m := tether.Message{Seq: 9, DeviceID: "d", EnqueuedTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
		System: map[string]string{"dt-subject": "c1", "dt-interface-id": "dtmi:a;1"}, Body: []byte("x")}
	b, err := json.Marshal(FromMessage(m))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":{"origin":"d","module":"","interface":"dtmi:a;1","component":"c1","payload":"x",` +
		`"properties":{"system":{"dt-interface-id":"dtmi:a;1","dt-subject":"c1","iothub-connection-device-id":"d",` +
		`"iothub-enqueuedtime":"2026-01-02T02:04:05Z","iothub-message-source":"Telemetry"},"application":{}},` +
		`"annotations":{"iothub-connection-device-id":"d","iothub-enqueuedtime":"2026-01-02T02:04:05Z","iothub-message-source":"Telemetry","x-opt-sequence-number":9}}}`
	if string(b) != want {
		t.Errorf("FromMessage = %s\nwant %s", b, want)
	}
}
