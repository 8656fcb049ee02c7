package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// sdkVersion is the DeviceClientType the test clients send; the hub logs
// it as sdkVersion.
const sdkVersion = "tether-e2e/1.0"

// caPool reads a hub's CA file (DATA/tls/ca.pem).
func caPool(tb testing.TB, caFile string) *x509.CertPool {
	tb.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		tb.Fatalf("read CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		tb.Fatalf("no certificate in %s", caFile)
	}
	return pool
}

// mqttConn is a raw MQTT 3.1.1 client over TLS (or, for the tests of
// broken clients, over plain TCP).
type mqttConn struct {
	tb    testing.TB
	nc    net.Conn
	local string // the client's address, as the hub sees it
}

// dialTLS opens a TLS connection to addr, trusting pool, for host name
// "localhost" (the hub's certificate). It fails tb if the handshake fails.
func dialTLS(tb testing.TB, addr string, pool *x509.CertPool) *mqttConn {
	tb.Helper()
	c, err := tryDialTLS(addr, pool)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	c.tb = tb
	return c
}

func tryDialTLS(addr string, pool *x509.CertPool) (*mqttConn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	nc, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, err
	}
	return &mqttConn{nc: nc, local: nc.LocalAddr().String()}, nil
}

// dialTCP opens a plain TCP connection to addr.
func dialTCP(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	return nc
}

// signToken signs a device token for host with the device's key.
func signToken(tb testing.TB, host, deviceID string, key tether.Secret, expiry time.Time) string {
	tb.Helper()
	tok, err := sas.Sign(sas.ResourceURI(host, deviceID, ""), key, "", expiry)
	if err != nil {
		tb.Fatal(err)
	}
	return tok.String()
}

// connectPacket is a CONNECT as the Azure SDKs send it.
func connectPacket(host, id, password string, clean bool, keepAlive uint16) *packets.Packet {
	return &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: clean, Keepalive: keepAlive,
			UsernameFlag: true, Username: []byte(host + "/" + id + "/?api-version=2021-04-12&DeviceClientType=" + url.QueryEscape(sdkVersion)),
			PasswordFlag: password != "", Password: []byte(password)}}
}

func encode(pk *packets.Packet) ([]byte, error) {
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
		err = fmt.Errorf("cannot encode packet type %d", pk.FixedHeader.Type)
	}
	return b.Bytes(), err
}

// send writes a packet; a write error shows up later as a closed
// connection on read.
func (c *mqttConn) send(pk *packets.Packet) error {
	b, err := encode(pk)
	if err != nil {
		return err
	}
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = c.nc.Write(b)
	return err
}

// readPacket reads one packet within timeout; it returns an error when
// the connection closed or nothing came.
func (c *mqttConn) readPacket(timeout time.Duration) (*packets.Packet, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	var hdr [1]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return nil, err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(hdr[0]); err != nil {
		return nil, fmt.Errorf("bad header from the hub: %v", err)
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		if i == 4 {
			return nil, errors.New("bad remaining length from the hub")
		}
		var b [1]byte
		if _, err := io.ReadFull(c.nc, b[:]); err != nil {
			return nil, err
		}
		n += int(b[0]&127) * mult
		mult *= 128
		if b[0]&128 == 0 {
			break
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.nc, buf); err != nil {
		return nil, err
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
		err = fmt.Errorf("unexpected packet type %d from the hub", fh.Type)
	}
	return pk, err
}

// expect reads until a packet of type typ arrives.
func (c *mqttConn) expect(typ byte) *packets.Packet {
	c.tb.Helper()
	for i := 0; i < 100; i++ {
		pk, err := c.readPacket(10 * time.Second)
		if err != nil {
			c.tb.Fatalf("waiting for %s: %v", packets.PacketNames[typ], err)
		}
		if pk.FixedHeader.Type == typ {
			return pk
		}
	}
	c.tb.Fatalf("no %s in 100 packets", packets.PacketNames[typ])
	return nil
}

// expectClosed reads until the hub closes the connection, within
// timeout, and returns when that happened.
func (c *mqttConn) expectClosed(timeout time.Duration) time.Time {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for i := 0; i < 1000 && time.Now().Before(deadline); i++ {
		if _, err := c.readPacket(time.Until(deadline)); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			return time.Now()
		}
	}
	c.tb.Fatalf("the hub did not close the connection within %v", timeout)
	return time.Time{}
}

// connect sends CONNECT and returns the CONNACK.
func (c *mqttConn) connect(host, id, password string, clean bool, keepAlive uint16) *packets.Packet {
	c.tb.Helper()
	if err := c.send(connectPacket(host, id, password, clean, keepAlive)); err != nil {
		c.tb.Fatalf("send CONNECT: %v", err)
	}
	return c.expect(packets.Connack)
}

// mustConnect connects and fails unless the hub accepts.
func (c *mqttConn) mustConnect(host, id, password string, clean bool, keepAlive uint16) *packets.Packet {
	c.tb.Helper()
	ack := c.connect(host, id, password, clean, keepAlive)
	if ack.ReasonCode != 0 {
		c.tb.Fatalf("CONNACK %d for %s, want 0", ack.ReasonCode, id)
	}
	return ack
}

func (c *mqttConn) publish(topic string, qos byte, id uint16, payload []byte) error {
	return c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, TopicName: topic,
		PacketID: id, Payload: payload, ProtocolVersion: 4})
}

// subscribe subscribes at QoS 1 and returns the SUBACK codes.
func (c *mqttConn) subscribe(filters ...string) []byte {
	c.tb.Helper()
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 7, ProtocolVersion: 4}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: f, Qos: 1})
	}
	if err := c.send(pk); err != nil {
		c.tb.Fatalf("send SUBSCRIBE: %v", err)
	}
	return c.expect(packets.Suback).ReasonCodes
}

// ping sends PINGREQ and waits for PINGRESP: the connection is alive.
func (c *mqttConn) ping() {
	c.tb.Helper()
	if err := c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}}); err != nil {
		c.tb.Fatalf("send PINGREQ: %v", err)
	}
	c.expect(packets.Pingresp)
}

func (c *mqttConn) disconnect() error {
	return c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
}

func (c *mqttConn) close() { c.nc.Close() }
