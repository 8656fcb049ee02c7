package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

func TestTelemetry(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	c := h.connect(t, "d1", key, true)
	c.publish("devices/d1/messages/events/%24.mid=m-1&%24.ct=application%2Fjson&%24.ce=utf-8&needs%20encoding=a%26b%3Dc", 1, 3, []byte(`{"t":21}`))
	if ack := c.expect(packets.Puback); ack.PacketID != 3 {
		t.Errorf("PUBACK for packet %d, want 3", ack.PacketID)
	}
	c.publish("devices/d1/messages/events/", 0, 0, []byte("plain"))
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	c.expect(packets.Pingresp)
	msgs := h.sink.all()
	if len(msgs) != 2 {
		t.Fatalf("stream has %d messages, want 2", len(msgs))
	}
	m := msgs[0]
	if m.DeviceID != "d1" || string(m.Body) != `{"t":21}` || m.System["message-id"] != "m-1" || m.System["content-type"] != "application/json" ||
		m.System["content-encoding"] != "utf-8" || m.Properties["needs encoding"] != "a&b=c" {
		t.Errorf("message = %+v", m)
	}
}

func TestTwinOverMQTT(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	c := h.connect(t, "d1", key, true)
	if codes := c.subscribe("$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#"); string(codes) != "\x01\x01" {
		t.Fatalf("SUBACK %v, want QoS 1 twice", codes)
	}
	c.publish("$iothub/twin/PATCH/properties/reported/?$rid=r1", 0, 0, []byte(`{"fw":"1.2","net":{"rssi":-60}}`))
	res := c.expect(packets.Publish)
	if res.TopicName != "$iothub/twin/res/204/?$rid=r1&$version=2" || len(res.Payload) != 0 {
		t.Errorf("reported patch answer: %q %q", res.TopicName, res.Payload)
	}
	c.publish("$iothub/twin/GET/?$rid=r2", 0, 0, []byte(" "))
	res = c.expect(packets.Publish)
	if res.TopicName != "$iothub/twin/res/200/?$rid=r2" {
		t.Errorf("GET answer topic %q", res.TopicName)
	}
	var body struct {
		Desired, Reported map[string]any
	}
	if err := json.Unmarshal(res.Payload, &body); err != nil || body.Reported["fw"] != "1.2" || body.Reported["$version"] != 2.0 || body.Desired["$version"] != 1.0 {
		t.Errorf("GET body %s (%v)", res.Payload, err)
	}
	c.publish("$iothub/twin/PATCH/properties/reported/?$rid=r3", 0, 0, []byte(`not json`))
	res = c.expect(packets.Publish)
	if !strings.HasPrefix(res.TopicName, "$iothub/twin/res/400/?$rid=r3") || !strings.Contains(string(res.Payload), `"errorCode":400004`) {
		t.Errorf("bad patch answer: %q %s", res.TopicName, res.Payload)
	}
	h.g.NotifyDesired("d1", map[string]any{"interval": 5}, 7)
	res = c.expect(packets.Publish)
	if res.TopicName != "$iothub/twin/PATCH/properties/desired/?$version=7" || string(res.Payload) != `{"$version":7,"interval":5}` {
		t.Errorf("desired notification %q %s", res.TopicName, res.Payload)
	}
}

func TestMethods(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	ctx := context.Background()
	_, err := h.g.InvokeMethod(ctx, "d1", MethodCall{Name: "reboot", ResponseTimeout: time.Second})
	if tether.ErrorCode(err) != tether.DeviceNotOnline {
		t.Errorf("offline device: %v, want DeviceNotOnline", err)
	}
	c := h.connect(t, "d1", key, false)
	if _, err := h.g.InvokeMethod(ctx, "d1", MethodCall{Name: "reboot", ResponseTimeout: time.Second}); tether.ErrorCode(err) != tether.DeviceNotOnline || !strings.Contains(err.Error(), "not subscribed") {
		t.Errorf("unsubscribed device: %v", err)
	}
	c.subscribe("$iothub/methods/POST/#")
	type result struct {
		r   MethodResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := h.g.InvokeMethod(ctx, "d1", MethodCall{Name: "reboot", Payload: json.RawMessage(`{"delay":1}`), ResponseTimeout: 5 * time.Second})
		done <- result{r, err}
	}()
	req := c.expect(packets.Publish)
	if !strings.HasPrefix(req.TopicName, "$iothub/methods/POST/reboot/?$rid=") || string(req.Payload) != `{"delay":1}` {
		t.Fatalf("method request %q %s", req.TopicName, req.Payload)
	}
	rid := req.TopicName[strings.Index(req.TopicName, "$rid=")+5:]
	c.publish("$iothub/methods/res/200/?$rid="+rid, 0, 0, []byte(`{"ok":true}`))
	r := <-done
	if r.err != nil || r.r.Status != 200 || string(r.r.Payload) != `{"ok":true}` {
		t.Errorf("method result %+v, %v", r.r, r.err)
	}
	if _, err := h.g.InvokeMethod(ctx, "d1", MethodCall{Name: "slow", ResponseTimeout: 100 * time.Millisecond}); tether.ErrorCode(err) != tether.GatewayTimeout {
		t.Errorf("unanswered method: %v, want GatewayTimeout", err)
	}
	// A persistent session keeps the subscription across a reconnect
	// (the Node SDK does not re-subscribe after a token renewal).
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	c.expectClosed()
	c = h.dial(t)
	c.write(connectPacket("d1", token(t, testHost+"/devices/d1", key, "", time.Now().Add(time.Hour)), false, 60))
	if ack := c.expect(packets.Connack); !ack.SessionPresent {
		t.Error("reconnect with CleanSession=0: SessionPresent = false")
	}
	go func() {
		r, err := h.g.InvokeMethod(ctx, "d1", MethodCall{Name: "again", ResponseTimeout: 5 * time.Second})
		done <- result{r, err}
	}()
	req = c.expect(packets.Publish)
	rid = req.TopicName[strings.Index(req.TopicName, "$rid=")+5:]
	c.publish("$iothub/methods/res/201/?$rid="+rid, 0, 0, nil)
	if r := <-done; r.err != nil || r.r.Status != 201 {
		t.Errorf("method after reconnect: %+v %v", r.r, r.err)
	}
}

func TestMethodConnectTimeout(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	done := make(chan error, 1)
	go func() {
		_, err := h.g.InvokeMethod(context.Background(), "d1", MethodCall{Name: "m", ResponseTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c := h.connect(t, "d1", key, true)
	c.subscribe("$iothub/methods/POST/#")
	req := c.expect(packets.Publish)
	rid := req.TopicName[strings.Index(req.TopicName, "$rid=")+5:]
	c.publish("$iothub/methods/res/200/?$rid="+rid, 0, 0, []byte(`1`))
	if err := <-done; err != nil {
		t.Errorf("method waiting for the device to connect: %v", err)
	}
}

func TestC2D(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	ctx := context.Background()
	now := time.Now()
	if _, err := h.st.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "d1", MessageID: "c-1", EnqueuedTime: now, Ack: "full",
		Properties: map[string]string{"k": "a b"}, Body: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	c := h.connect(t, "d1", key, false)
	if codes := c.subscribe("devices/d1/messages/devicebound/#"); codes[0] != 1 {
		t.Fatalf("C2D SUBACK %v, want QoS 1", codes)
	}
	m := c.expect(packets.Publish)
	if m.FixedHeader.Qos != 1 || string(m.Payload) != "hello" || !strings.HasPrefix(m.TopicName, "devices/d1/messages/devicebound/%24.mid=c-1&%24.to=%2Fdevices%2Fd1%2Fmessages%2Fdevicebound") ||
		!strings.Contains(m.TopicName, "iothub-ack=full") || !strings.Contains(m.TopicName, "k=a%20b") {
		t.Errorf("C2D delivery: qos %d topic %q payload %q", m.FixedHeader.Qos, m.TopicName, m.Payload)
	}
	// Not acknowledged: after a reconnect it comes again, marked DUP.
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	c.expectClosed()
	c = h.connect(t, "d1", key, false)
	m = c.expect(packets.Publish)
	if !m.FixedHeader.Dup || string(m.Payload) != "hello" {
		t.Errorf("redelivery: dup %v payload %q", m.FixedHeader.Dup, m.Payload)
	}
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: m.PacketID})
	deadline := time.Now().Add(2 * time.Second)
	for {
		pending, _ := h.st.PendingC2D(ctx, "d1", time.Now())
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PUBACK did not complete the message: %d pending", len(pending))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A message sent while connected arrives at once.
	h.st.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "d1", EnqueuedTime: time.Now(), Body: []byte("live")})
	h.g.NotifyC2D("d1")
	if m := c.expect(packets.Publish); string(m.Payload) != "live" {
		t.Errorf("live C2D payload %q", m.Payload)
	}
}

func TestC2DQueuedByAnotherProcess(t *testing.T) {
	h := newTestHub(t, func(o *Options) { o.C2DPollEvery = 20 * time.Millisecond })
	key := h.device(t, "d1", tether.StatusEnabled)
	c := h.connect(t, "d1", key, true)
	c.subscribe("devices/d1/messages/devicebound/#")
	// Queued straight in the store, as the CLI on the data folder does:
	// nobody calls NotifyC2D.
	if _, err := h.st.EnqueueC2D(context.Background(), tether.C2DMessage{DeviceID: "d1", EnqueuedTime: time.Now(), Body: []byte("from the CLI")}); err != nil {
		t.Fatal(err)
	}
	if m := c.expect(packets.Publish); string(m.Payload) != "from the CLI" {
		t.Errorf("payload %q", m.Payload)
	}
}

// TestSessionSurvivesRestart: a device with a persistent session keeps its
// method subscription across a restart of the hub, as the Node SDK needs.
func TestSessionSurvivesRestart(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	c := h.connect(t, "d1", key, false)
	c.subscribe("$iothub/methods/POST/#")
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	c.expectClosed()
	h.g.flushPresence(context.Background())

	// A new gateway over the same store: the hub restarted.
	g2, err := New(h.g.o)
	if err != nil {
		t.Fatal(err)
	}
	h.g = g2
	c = h.dial(t)
	c.write(connectPacket("d1", token(t, testHost+"/devices/d1", key, "", time.Now().Add(time.Hour)), false, 60))
	if ack := c.expect(packets.Connack); ack.ReasonCode != 0 || !ack.SessionPresent {
		t.Fatalf("CONNACK %d, session present %v; want 0 and true", ack.ReasonCode, ack.SessionPresent)
	}
	done := make(chan error, 1)
	go func() {
		_, err := g2.InvokeMethod(context.Background(), "d1", MethodCall{Name: "m", ResponseTimeout: 5 * time.Second})
		done <- err
	}()
	req := c.expect(packets.Publish)
	rid := req.TopicName[strings.Index(req.TopicName, "$rid=")+5:]
	c.publish("$iothub/methods/res/200/?$rid="+rid, 0, 0, nil)
	if err := <-done; err != nil {
		t.Errorf("method after restart: %v", err)
	}
	// Connecting with CleanSession=1 forgets the stored session.
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	c.expectClosed()
	h.connect(t, "d1", key, true)
	g2.flushPresence(context.Background())
	if _, ok, _ := h.st.Session(context.Background(), "d1"); ok {
		t.Error("a clean session did not forget the stored one")
	}
}
