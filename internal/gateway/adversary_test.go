package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// TestAdversaryTopicFamilies plays a device that tries every topic family
// of another device (telemetry, C2D, twin responses and desired patches,
// direct methods), wildcards and broker topics such as $SYS: it never sees
// the victim's traffic and cannot act for it.
func TestAdversaryTopicFamilies(t *testing.T) {
	h := newTestHub(t)
	mkey := h.device(t, "mallory", tether.StatusEnabled)
	vkey := h.device(t, "victim", tether.StatusEnabled)
	ctx := context.Background()

	victim := h.connect(t, "victim", vkey, true)
	if codes := victim.subscribe("devices/victim/messages/devicebound/#", "$iothub/methods/POST/#", "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#"); string(codes) != "\x01\x01\x01\x01" {
		t.Fatalf("victim SUBACK %v", codes)
	}
	m := h.connect(t, "mallory", mkey, true)
	filters := []string{"#", "+", "+/#", "/#", "$SYS/#", "$SYS/broker/clients/connected", "$share/g/#", "$iothub/#", "$iothub/+/#",
		"$iothub/twin/#", "$iothub/methods/#", "$iothub/twin/res/+/#", "$iothub/twin/PATCH/#", "devices/#", "devices/+/#",
		"devices/+/messages/devicebound/#", "devices/victim/#", "devices/victim/messages/devicebound/#", "devices/victim/messages/events/#",
		"devices/victim/modules/m/#", "devices/mallory/../victim/messages/devicebound/#", "devices/mallory/messages/devicebound/../../../victim/#",
		"devices/VICTIM/messages/devicebound/#"}
	codes := m.subscribe(filters...)
	for i, c := range codes {
		if c != 0x80 {
			t.Errorf("SUBSCRIBE %q granted QoS %d, want 0x80 (failure)", filters[i], c)
		}
	}
	// Mallory's own families still work, so that it would receive what
	// leaked into them.
	if codes := m.subscribe("devices/mallory/messages/devicebound/#", "$iothub/methods/POST/#", "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#"); string(codes) != "\x01\x01\x01\x01" {
		t.Fatalf("mallory's own SUBACK %v", codes)
	}

	// Every kind of traffic for the victim.
	if _, err := h.st.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "victim", MessageID: "c2d-secret", Body: []byte("c2d-secret"), EnqueuedTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	h.g.NotifyC2D("victim")
	h.g.NotifyDesired("victim", map[string]any{"desired": "desired-secret"}, 2)
	victim.publish("$iothub/twin/GET/?$rid=victim-rid", 0, 0, nil)
	var wg sync.WaitGroup
	var res MethodResult
	var merr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, merr = h.g.InvokeMethod(ctx, "victim", MethodCall{Name: "unlock", Payload: json.RawMessage(`"method-secret"`), ResponseTimeout: 5 * time.Second})
	}()
	// Mallory guesses request ids to answer the victim's method call.
	for rid := 1; rid <= 64; rid++ {
		m.publish("$iothub/methods/res/200/?$rid="+strconv.FormatUint(uint64(rid), 16), 0, 0, []byte(`"forged answer"`))
	}
	// Mallory patches "the victim's" reported properties in every way the topic allows.
	for _, topic := range []string{"$iothub/twin/PATCH/properties/reported/?$rid=1&deviceId=victim",
		"$iothub/twin/PATCH/properties/reported/devices/victim/?$rid=2", "$iothub/twin/PATCH/properties/reported/?$rid=3&$iothub-connection-device-id=victim"} {
		m.publish(topic, 0, 0, []byte(`{"owned":true}`))
	}
	// The victim gets all of its traffic and answers its method.
	seen := map[string]bool{}
	for len(seen) < 4 {
		p := victim.expect(packets.Publish)
		switch {
		case strings.Contains(string(p.Payload), "c2d-secret"):
			seen["c2d"] = true
		case strings.Contains(string(p.Payload), "desired-secret") && strings.HasPrefix(p.TopicName, "$iothub/twin/PATCH"):
			seen["desired"] = true
		case strings.HasPrefix(p.TopicName, "$iothub/twin/res/200/?$rid=victim-rid"):
			seen["twin"] = true
		case strings.HasPrefix(p.TopicName, "$iothub/methods/POST/unlock/"):
			seen["method"] = true
			victim.publish("$iothub/methods/res/200/?$rid="+queryParam(p.TopicName, "$rid"), 0, 0, []byte(`"victim answer"`))
		}
		if p.FixedHeader.Qos == 1 {
			victim.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: p.PacketID})
		}
	}
	wg.Wait()
	if merr != nil || string(res.Payload) != `"victim answer"` {
		t.Errorf("the victim's method call returned %s, %v; want the victim's own answer", res.Payload, merr)
	}
	// Mallory: after a PING round trip, it must have received nothing of
	// the victim's (it may get the responses to its own twin patches).
	m.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	for {
		p := m.read()
		if p == nil {
			t.Fatal("mallory was disconnected by SUBSCRIBE or twin traffic")
		}
		if p.FixedHeader.Type == packets.Pingresp {
			break
		}
		for _, secret := range []string{"c2d-secret", "desired-secret", "method-secret", "victim"} {
			if strings.Contains(string(p.Payload), secret) || strings.Contains(p.TopicName, secret) {
				t.Errorf("mallory received %s %q: %s", packets.PacketNames[p.FixedHeader.Type], p.TopicName, p.Payload)
			}
		}
	}
	if tw, err := h.st.Twin(ctx, "victim"); err != nil || strings.Contains(string(mustJSON(t, tw.Reported)), "owned") {
		t.Errorf("the victim's reported properties were written by mallory: %+v %v", tw.Reported, err)
	}

	// Publishing as the victim, in each spelling, disconnects mallory
	// with not_authorized_action and puts nothing in the stream.
	for _, topic := range []string{"devices/victim/messages/events/", "devices/victim/messages/events", "devices/victim/modules/m/messages/events/",
		"devices/+/messages/events/", "devices/#", "devices/VICTIM/messages/events/"} {
		c := h.connect(t, "mallory", mkey, true)
		c.publish(topic, 1, 1, []byte("forged"))
		c.expectClosed()
		h.waitEvent(t, "publish to "+topic, func(ev tether.ConnectionEvent) bool {
			return ev.Kind == tether.EventDisconnect && ev.DeviceID == "mallory" && (ev.Reason == tether.ReasonNotAuthorized || ev.Reason == tether.ReasonProtocolError) && strings.Contains(ev.Detail, topic)
		})
	}
	for _, topic := range []string{"$SYS/broker/uptime", "$iothub/victim/messages/events/", "devices"} {
		c := h.connect(t, "mallory", mkey, true)
		c.publish(topic, 1, 1, []byte("forged"))
		c.expectClosed()
	}
	for _, msg := range h.sink.all() {
		if msg.DeviceID != "mallory" || string(msg.Body) == "forged" {
			t.Errorf("a forged message reached the stream: %+v", msg)
		}
	}

	// Connecting as the victim (or one of its modules) with mallory's key fails.
	for _, id := range []string{"victim", "victim/m"} {
		c := h.dial(t)
		c.write(connectPacket(id, token(t, testHost+"/devices/mallory", mkey, "", time.Now().Add(time.Hour)), true, 60))
		if ack := c.expect(packets.Connack); ack.ReasonCode != connNotAuthorized {
			t.Errorf("CONNECT as %s with mallory's token: CONNACK %d, want 5", id, ack.ReasonCode)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
