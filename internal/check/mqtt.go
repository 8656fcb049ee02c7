package check

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/sas"
)

// mqttConn is a minimal MQTT 3.1.1 client: one packet at a time, each
// read bounded by a deadline.
type mqttConn struct {
	nc     net.Conn
	mu     sync.Mutex // serialises writes
	dead   bool       // a read or write failed: the connection is gone
	nextID uint16
}

func (m *mqttConn) close() { m.nc.Close() }

func (m *mqttConn) broken() bool { return m == nil || m.dead }

func (m *mqttConn) write(pk *packets.Packet, enc func(*packets.Packet, *bytes.Buffer) error) error {
	var b bytes.Buffer
	pk.ProtocolVersion = 4
	if err := enc(pk, &b); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := m.nc.Write(b.Bytes()); err != nil {
		m.dead = true
		return err
	}
	return nil
}

// read returns the next packet, waiting until deadline.
func (m *mqttConn) read(deadline time.Time) (*packets.Packet, error) {
	m.nc.SetReadDeadline(deadline)
	var hdr [1]byte
	if _, err := io.ReadFull(m.nc, hdr[:]); err != nil {
		return nil, m.readErr(err)
	}
	var fh packets.FixedHeader
	if err := fh.Decode(hdr[0]); err != nil {
		m.dead = true
		return nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		var b [1]byte
		if _, err := io.ReadFull(m.nc, b[:]); err != nil {
			return nil, m.readErr(err)
		}
		n += int(b[0]&127) * mult
		mult *= 128
		if b[0]&128 == 0 {
			break
		}
		if i == 3 {
			m.dead = true
			return nil, errors.New("malformed packet length")
		}
	}
	if n > maxPacket {
		m.dead = true
		return nil, fmt.Errorf("the hub sent a %d-byte packet; the check reads at most %d", n, maxPacket)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(m.nc, buf); err != nil {
		return nil, m.readErr(err)
	}
	fh.Remaining = n
	pk := &packets.Packet{FixedHeader: fh, ProtocolVersion: 4}
	var err error
	switch fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(buf)
	case packets.Publish:
		err = pk.PublishDecode(buf)
	case packets.Puback:
		err = pk.PubackDecode(buf)
	case packets.Suback:
		err = pk.SubackDecode(buf)
	}
	return pk, err
}

func (m *mqttConn) readErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errTimeout
	}
	m.dead = true
	if errors.Is(err, io.EOF) {
		return errors.New("the hub closed the connection")
	}
	return err
}

var errTimeout = errors.New("no answer in time")

// maxPacket bounds what the check reads: a twin or a method request is
// far smaller.
const maxPacket = 1 << 20

// expect reads until a packet matches, dropping others, until deadline.
func (m *mqttConn) expect(deadline time.Time, match func(*packets.Packet) bool) (*packets.Packet, error) {
	for {
		pk, err := m.read(deadline)
		if err != nil {
			return nil, err
		}
		if match(pk) {
			return pk, nil
		}
	}
}

func (m *mqttConn) id() uint16 {
	m.nextID++
	if m.nextID == 0 {
		m.nextID = 1
	}
	return m.nextID
}

func (m *mqttConn) publish(topic string, qos byte, payload []byte) (uint16, error) {
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, TopicName: topic, Payload: payload}
	if qos > 0 {
		pk.PacketID = m.id()
	}
	return pk.PacketID, m.write(pk, (*packets.Packet).PublishEncode)
}

func (m *mqttConn) subscribe(deadline time.Time, filter string, qos byte) error {
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: m.id(),
		Filters: packets.Subscriptions{{Filter: filter, Qos: qos}}}
	if err := m.write(pk, (*packets.Packet).SubscribeEncode); err != nil {
		return err
	}
	ack, err := m.expect(deadline, func(p *packets.Packet) bool { return p.FixedHeader.Type == packets.Suback && p.PacketID == pk.PacketID })
	if err != nil {
		return err
	}
	if len(ack.ReasonCodes) == 1 && ack.ReasonCodes[0] >= 0x80 {
		return fmt.Errorf("the hub refused the subscription to %s", filter)
	}
	return nil
}

// dialMQTT opens the connection the MQTT steps use.
func (c *checker) dialMQTT(ctx context.Context) (net.Conn, error) {
	if c.o.Transport == device.MQTT {
		return c.raw, nil
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.roots, ServerName: c.tlsName(), MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "wss://"+c.o.Addr+"/$iothub/websocket", &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: tr}, Subprotocols: []string{"mqtt"}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("WebSocket upgrade at /$iothub/websocket refused with HTTP %d: %v", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("WebSocket upgrade: %v", err)
	}
	if ws.Subprotocol() != "mqtt" {
		ws.CloseNow()
		return nil, errors.New("the hub did not accept the WebSocket subprotocol mqtt")
	}
	ws.SetReadLimit(1 << 20)
	return websocket.NetConn(context.Background(), ws, websocket.MessageBinary), nil
}

// connect sends CONNECT and explains the CONNACK.
func (c *checker) connect(ctx context.Context) Step {
	nc, err := c.dialMQTT(ctx)
	if err != nil {
		return Step{Status: Fail, Detail: err.Error(), Fix: "MQTT over WebSockets needs the hub's HTTPS port (443, --https-addr) and a proxy that passes WebSocket upgrades"}
	}
	c.raw = nil
	c.mq = &mqttConn{nc: nc}
	cs := c.o.Credentials
	host := hostOnly(cs.HostName)
	clientID := cs.DeviceID
	if cs.ModuleID != "" {
		clientID += "/" + cs.ModuleID
	}
	password := cs.Signature.Reveal()
	if cs.Key != "" {
		tok, err := sas.Sign(sas.ResourceURI(host, cs.DeviceID, cs.ModuleID), cs.Key, cs.KeyName, c.o.Now().Add(time.Hour))
		if err != nil {
			return Step{Status: Fail, Detail: "cannot sign a token: " + err.Error(), Fix: "copy the device's SharedAccessKey again: it must be base64"}
		}
		password = tok.String()
	}
	q := url.Values{"api-version": {device.APIVersion}, "DeviceClientType": {"tether-check/1"}}
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, Connect: packets.ConnectParams{
		ProtocolName: []byte("MQTT"), ClientIdentifier: clientID, Clean: false, Keepalive: 60,
		UsernameFlag: true, Username: []byte(host + "/" + clientID + "/?" + strings.ReplaceAll(q.Encode(), "+", "%20")),
		PasswordFlag: true, Password: []byte(password)}}
	if err := c.mq.write(pk, (*packets.Packet).ConnectEncode); err != nil {
		return Step{Status: Fail, Detail: "cannot send CONNECT: " + err.Error()}
	}
	ack, err := c.mq.expect(time.Now().Add(c.o.Timeout), func(p *packets.Packet) bool { return p.FixedHeader.Type == packets.Connack })
	if err != nil {
		c.mq.dead = true
		return Step{Status: Fail, Code: tether.ServiceUnavailable, Detail: "no CONNACK: " + err.Error(),
			Fix: "the hub hung up without answering: check its connection log (tether logs query 'AzureDiagnostics | where Category == \"Connections\"') for this device's attempt"}
	}
	if ack.ReasonCode == 0 {
		return Step{Status: Pass, Detail: fmt.Sprintf("CONNACK 0: connected as %s (session present: %v)", clientID, ack.SessionPresent)}
	}
	c.mq.dead = true
	code, _, detail := device.ConnackResult(ack.ReasonCode)
	return Step{Status: Fail, Code: code, Detail: detail + " — " + code.String() + ": " + code.Info().Meaning, Fix: connackFix(ack.ReasonCode, cs.DeviceID, host)}
}

func connackFix(rc byte, id, host string) string {
	switch rc {
	case 5, 4:
		return fmt.Sprintf("check the device's key (tether device show %s shows the keys), the DeviceId, and that HostName is the hub's --hostname %q (the token's audience); if all are right, the device's clock may be wrong (see the clock step); the hub's connection log names the exact cause", id, host)
	case 3:
		return fmt.Sprintf("if the device is disabled, enable it (tether device enable %s); otherwise the hub is overloaded or stopping: see its logs", id)
	case 2:
		return "the MQTT client ID must be the device ID (deviceId/moduleId for a module)"
	case 1:
		return "use MQTT 3.1.1 (protocol level 4)"
	}
	return "see the hub's connection log"
}
