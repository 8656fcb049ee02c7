package gateway

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// TestIsolation plays an adversarial device: whatever it tries, it never
// receives or publishes another device's traffic.
func TestIsolation(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "mallory", tether.StatusEnabled)
	victimKey := h.device(t, "victim", tether.StatusEnabled)
	victim := h.connect(t, "victim", victimKey, true)
	victim.subscribe("$iothub/methods/POST/#", "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#", "devices/victim/messages/devicebound/#")

	m := h.connect(t, "mallory", key, true)
	codes := m.subscribe("devices/victim/messages/devicebound/#", "devices/+/messages/devicebound/#", "#", "$iothub/#",
		"devices/victim/#", "$iothub/methods/POST/#")
	if want := []byte{0x80, 0x80, 0x80, 0x80, 0x80, 1}; !bytes.Equal(codes, want) {
		t.Errorf("SUBACK %v, want %v", codes, want)
	}
	h.waitEvent(t, "refused subscribe", func(ev tether.ConnectionEvent) bool {
		return ev.Kind == tether.EventRefused && ev.DeviceID == "mallory" && ev.Reason == tether.ReasonNotAuthorized && strings.Contains(ev.Detail, "devices/victim")
	})
	// Traffic for the victim reaches only the victim.
	h.g.NotifyDesired("victim", map[string]any{"secret": 1}, 2)
	if p := victim.expect(packets.Publish); !strings.Contains(string(p.Payload), "secret") {
		t.Errorf("victim did not get its desired patch: %s", p.Payload)
	}
	m.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	if p := m.read(); p == nil || p.FixedHeader.Type != packets.Pingresp {
		t.Errorf("mallory received %+v instead of its PINGRESP", p)
	}
	// A method answer with a guessed request id reaches no one.
	m.publish("$iothub/methods/res/200/?$rid=1", 0, 0, []byte(`{}`))
	// Publishing as the victim closes the connection, recorded.
	m.publish("devices/victim/messages/events/", 1, 1, []byte("forged"))
	m.expectClosed()
	h.waitEvent(t, "publish as another device", func(ev tether.ConnectionEvent) bool {
		return ev.Kind == tether.EventDisconnect && ev.DeviceID == "mallory" && ev.Reason == tether.ReasonNotAuthorized
	})
	for _, msg := range h.sink.all() {
		if msg.DeviceID == "victim" || string(msg.Body) == "forged" {
			t.Errorf("a forged message reached the stream: %+v", msg)
		}
	}
}

func TestProtocolViolations(t *testing.T) {
	h := newTestHub(t, func(o *Options) { o.DeviceRate, o.DeviceBurst = 10, 5 })
	key := h.device(t, "d1", tether.StatusEnabled)
	for _, tc := range []struct {
		name   string
		send   func(c *client)
		reason tether.Reason
		detail string
	}{
		{"unknown topic", func(c *client) { c.publish("weather/today", 0, 0, nil) }, tether.ReasonProtocolError, "unknown topic"},
		{"qos 2", func(c *client) { c.publish("devices/d1/messages/events/", 2, 1, nil) }, tether.ReasonProtocolError, "QoS 2"},
		{"second connect", func(c *client) { c.write(connectPacket("d1", "x", true, 60)) }, tether.ReasonProtocolError, "second CONNECT"},
		{"too large", func(c *client) {
			c.publish("devices/d1/messages/events/", 1, 1, bytes.Repeat([]byte("x"), tether.MaxTelemetryBytes+1))
		}, tether.ReasonMessageTooLarge, "over the limit"},
		{"flood", func(c *client) {
			for i := 0; i < 20; i++ {
				c.publish("devices/d1/messages/events/", 0, 0, []byte("x"))
			}
		}, tether.ReasonThrottled, "per second"},
		{"garbage", func(c *client) { c.writeRaw([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) }, tether.ReasonProtocolError, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.connect(t, "d1", key, true)
			tc.send(c)
			c.expectClosed()
			h.waitEvent(t, tc.name, func(ev tether.ConnectionEvent) bool {
				return ev.Kind == tether.EventDisconnect && ev.Reason == tc.reason && strings.Contains(ev.Detail, tc.detail)
			})
		})
	}
	time.Sleep(10 * time.Millisecond)
}
