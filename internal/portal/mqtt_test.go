package portal_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/sas"
)

// connectDevice opens a raw MQTT 3.1.1 connection to the hub as device
// id and returns it with the CONNACK return code. The caller closes it;
// closing without DISCONNECT is a lost connection to the hub.
func connectDevice(t *testing.T, h *hubtest.Hub, id string, key tether.Secret) (net.Conn, byte) {
	t.Helper()
	pem, err := os.ReadFile(h.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", h.MQTTAddr().String(),
		&tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	tok, err := sas.Sign("localhost/devices/"+id, key, "", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: true, Keepalive: 60,
			UsernameFlag: true, Username: []byte("localhost/" + id + "/?api-version=2021-04-12&DeviceClientType=tether-portal-test%2F1.0"),
			PasswordFlag: true, Password: []byte(tok.String())}}
	var b bytes.Buffer
	if err := pk.ConnectEncode(&b); err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	// CONNACK is four bytes: 0x20 0x02 flags code.
	var ack [4]byte
	if _, err := io.ReadFull(nc, ack[:]); err != nil {
		t.Fatalf("read CONNACK: %v", err)
	}
	if ack[0] != 0x20 {
		t.Fatalf("first packet %#x, want CONNACK", ack[0])
	}
	nc.SetDeadline(time.Time{})
	return nc, ack[3]
}
