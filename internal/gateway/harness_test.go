package gateway

import (
	"bytes"
	"context"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/sas"
)

const testHost = "hub.test"

// sink is the telemetry stream of the tests: it keeps every message.
type sink struct {
	mu   sync.Mutex
	msgs []tether.Message
	fail error
}

func (s *sink) Submit(m tether.Message, done func(int64, error)) {
	s.mu.Lock()
	if s.fail != nil {
		s.mu.Unlock()
		done(0, s.fail)
		return
	}
	s.msgs = append(s.msgs, m)
	n := int64(len(s.msgs))
	s.mu.Unlock()
	done(n, nil)
}

func (s *sink) all() []tether.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tether.Message(nil), s.msgs...)
}

// presenceStore adapts the store to Presence.
type presenceStore struct{ *store.Store }

func (p presenceStore) SetPresence(ctx context.Context, ups []PresenceUpdate) error {
	ps := make([]store.Presence, len(ups))
	for i, u := range ups {
		ps[i] = store.Presence{DeviceID: u.DeviceID, State: u.State, StateChanged: u.StateChanged, LastActivity: u.LastActivity}
	}
	return p.Store.SetPresence(ctx, ps)
}

// sessionStore adapts the store to Sessions.
type sessionStore struct{ *store.Store }

func (s sessionStore) SaveSessions(ctx context.Context, ss []SessionState) error {
	out := make([]store.Session, len(ss))
	for i, x := range ss {
		out[i] = store.Session(x)
	}
	return s.Store.SaveSessions(ctx, out)
}

// testHub is a gateway over a real store, with recorded events.
type testHub struct {
	g      *Gateway
	st     *store.Store
	sink   *sink
	mu     sync.Mutex
	events []tether.ConnectionEvent
	cancel context.CancelFunc
}

func newTestHub(t testing.TB, change ...func(*Options)) *testHub {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	h := &testHub{st: st, sink: &sink{}}
	o := Options{Hostname: testHost, Registry: st, Twins: st, Telemetry: h.sink, C2D: st, Presence: presenceStore{st}, Sessions: sessionStore{st},
		Events: func(ev tether.ConnectionEvent) {
			h.mu.Lock()
			h.events = append(h.events, ev)
			h.mu.Unlock()
		}, PresenceEvery: time.Hour}
	for _, c := range change {
		c(&o)
	}
	if h.g, err = New(o); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	done := make(chan struct{})
	go func() { h.g.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return h
}

// device registers a device with a fixed key and returns the key.
func (h *testHub) device(t testing.TB, id string, status tether.Status) tether.Secret {
	t.Helper()
	key := tether.Secret("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	_, err := h.st.CreateDevice(context.Background(), tether.Device{ID: id, Status: status,
		Auth: tether.Authentication{Type: tether.AuthSAS, PrimaryKey: key, SecondaryKey: "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="}})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// waitEvent waits for an event matching ok.
func (h *testHub) waitEvent(t *testing.T, what string, ok func(tether.ConnectionEvent) bool) tether.ConnectionEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for _, ev := range h.events {
			if ok(ev) {
				h.mu.Unlock()
				return ev
			}
		}
		h.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Fatalf("no %s event; events: %+v", what, h.events)
	return tether.ConnectionEvent{}
}

// client is a raw MQTT 3.1.1 client over net.Pipe.
type client struct {
	t  *testing.T
	nc net.Conn
}

func (h *testHub) dial(t *testing.T) *client {
	t.Helper()
	a, b := net.Pipe()
	go h.g.servePlain(b)
	t.Cleanup(func() { a.Close() })
	return &client{t: t, nc: a}
}

func token(t *testing.T, resource string, key tether.Secret, keyName string, expiry time.Time) string {
	t.Helper()
	tok, err := sas.Sign(resource, key, keyName, expiry)
	if err != nil {
		t.Fatal(err)
	}
	return tok.String()
}

// connectPacket is a CONNECT as the Node SDK sends it.
func connectPacket(id, password string, clean bool, keepAlive uint16) *packets.Packet {
	return &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: clean, Keepalive: keepAlive,
			UsernameFlag: true, Username: []byte(testHost + "/" + id + "/?api-version=2021-04-12&DeviceClientType=test%2F1.0"),
			PasswordFlag: password != "", Password: []byte(password)}}
}

func (c *client) write(pk *packets.Packet) {
	c.t.Helper()
	var b bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&b)
	case packets.Publish:
		err = pk.PublishEncode(&b)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&b)
	case packets.Puback:
		err = pk.PubackEncode(&b)
	case packets.Pingreq:
		err = pk.PingreqEncode(&b)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&b)
	default:
		c.t.Fatalf("client cannot encode %v", pk.FixedHeader.Type)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeRaw(b.Bytes())
}

func (c *client) writeRaw(b []byte) {
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.nc.Write(b) // errors show up as a closed connection on read
}

// read reads one packet, or returns nil when the connection closed.
func (c *client) read() *packets.Packet {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [1]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return nil
	}
	var fh packets.FixedHeader
	if err := fh.Decode(hdr[0]); err != nil {
		c.t.Fatalf("server sent a bad header: %v", err)
	}
	n, mult := 0, 1
	for {
		var b [1]byte
		if _, err := io.ReadFull(c.nc, b[:]); err != nil {
			return nil
		}
		n += int(b[0]&127) * mult
		mult *= 128
		if b[0]&128 == 0 {
			break
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.nc, buf); err != nil {
		return nil
	}
	fh.Remaining = n
	pk := &packets.Packet{FixedHeader: fh, ProtocolVersion: 4}
	var err error
	switch fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(buf)
	case packets.Publish:
		err = pk.PublishDecode(buf)
		pk.TopicName = string([]byte(pk.TopicName))
	case packets.Puback:
		err = pk.PubackDecode(buf)
	case packets.Suback:
		err = pk.SubackDecode(buf)
	case packets.Unsuback:
		err = pk.UnsubackDecode(buf)
	case packets.Pingresp:
	default:
		c.t.Fatalf("unexpected packet type %d from server", fh.Type)
	}
	if err != nil {
		c.t.Fatalf("decode %d: %v", fh.Type, err)
	}
	return pk
}

// expect reads until a packet of the given type arrives.
func (c *client) expect(typ byte) *packets.Packet {
	c.t.Helper()
	for {
		pk := c.read()
		if pk == nil {
			c.t.Fatalf("connection closed while waiting for %s", packets.PacketNames[typ])
		}
		if pk.FixedHeader.Type == typ {
			return pk
		}
	}
}

// expectClosed reads until the server closes the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	for i := 0; i < 100; i++ {
		if c.read() == nil {
			return
		}
	}
	c.t.Fatal("the server did not close the connection")
}

// connect connects device id with a valid token and returns the client.
func (h *testHub) connect(t *testing.T, id string, key tether.Secret, clean bool) *client {
	t.Helper()
	c := h.dial(t)
	c.write(connectPacket(id, token(t, testHost+"/devices/"+id, key, "", time.Now().Add(time.Hour)), clean, 60))
	ack := c.expect(packets.Connack)
	if ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %d, want 0", ack.ReasonCode)
	}
	return c
}

func (c *client) subscribe(filters ...string) []byte {
	c.t.Helper()
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 7, ProtocolVersion: 4}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: f, Qos: 1})
	}
	c.write(pk)
	return c.expect(packets.Suback).ReasonCodes
}

func (c *client) publish(topic string, qos byte, id uint16, payload []byte) {
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, TopicName: topic, PacketID: id, Payload: payload, ProtocolVersion: 4})
}
