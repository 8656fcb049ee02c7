package gateway

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// FuzzSession feeds arbitrary bytes to a connected device's session. The
// gateway must not panic, and the session must end once the client goes
// away: no goroutine may be left behind.
func FuzzSession(f *testing.F) {
	for _, seed := range [][]byte{
		{0xc0, 0x00}, // PINGREQ
		{0xe0, 0x00}, // DISCONNECT
		{0x30, 0x05, 0x00, 0x01, 'x', 'a', 'b'},
		{0x32, 0x04, 0x00, 0x00, 0x00, 0x01},
		{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, '#', 0x01},
		{0x40, 0x02, 0x00, 0x01},
		{0x10, 0x00},
		{0xff, 0xff, 0xff, 0xff, 0xff},
		{0x30, 0xff, 0xff, 0xff, 0x7f},
		[]byte("GET / HTTP/1.1\r\n\r\n"),
	} {
		f.Add(seed)
	}
	var b bytes.Buffer
	(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "$iothub/twin/PATCH/properties/reported/?$rid=1", PacketID: 2, Payload: []byte(`{"a":{"b":[1,2]}}`)}).PublishEncode(&b)
	f.Add(b.Bytes())
	// One hub for every input, as a long-running hub sees them: each input
	// is a new connection of the same device.
	h := newTestHub(f)
	key := h.device(f, "d1", tether.StatusEnabled)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, srv := net.Pipe()
		done := make(chan struct{})
		go func() { h.g.servePlain(srv); close(done) }()
		c := &client{t: t, nc: a}
		c.write(connectPacket("d1", token(t, testHost+"/devices/d1", key, "", time.Now().Add(time.Hour)), true, 60))
		if ack := c.expect(packets.Connack); ack.ReasonCode != 0 {
			t.Fatalf("CONNACK %d", ack.ReasonCode)
		}
		go func() { // keep reading so the gateway's writes never block
			buf := make([]byte, 4096)
			for {
				if _, err := a.Read(buf); err != nil {
					return
				}
			}
		}()
		a.SetWriteDeadline(time.Now().Add(2 * time.Second))
		a.Write(data)
		a.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the session did not end after the client closed")
		}
	})
}
