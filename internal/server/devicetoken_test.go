package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// TestForeignTokensRefusedOnMQTT: over MQTT/TLS and MQTT over WebSockets,
// a token for another hub, for another device, past its expiry, or
// signed with a policy without DeviceConnect gets CONNACK 5.
func TestForeignTokensRefusedOnMQTT(t *testing.T) {
	s := startTestServer(t, func(c *Config) { c.AuthBanThreshold = 0 })
	ctx := context.Background()
	host := s.Hostname()
	pool := caPool(t, s)
	k1 := tether.Secret("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	k2 := tether.Secret("AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=")
	for id, k := range map[string]tether.Secret{"x": k1, "y": k2} {
		if _, err := s.st.CreateDevice(ctx, tether.Device{ID: id, Status: tether.StatusEnabled,
			Auth: tether.Authentication{Type: tether.AuthSAS, PrimaryKey: k, SecondaryKey: k}}); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := s.PolicyConnectionString(ctx, "service")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(resource string, key tether.Secret, name string, exp time.Time) string {
		tok, err := sas.Sign(resource, key, name, exp)
		if err != nil {
			t.Fatal(err)
		}
		return tok.String()
	}
	hour := time.Now().Add(time.Hour)
	cases := []struct {
		name, token string
		want        byte
	}{
		{"valid", sign(host+"/devices/x", k1, "", hour), 0},
		{"other hub", sign("otherhub.example.com/devices/x", k1, "", hour), 5},
		{"device y's token", sign(host+"/devices/y", k2, "", hour), 5},
		{"y's key for x", sign(host+"/devices/x", k2, "", hour), 5},
		{"expired", sign(host+"/devices/x", k1, "", time.Now().Add(-time.Hour)), 5},
		{"service policy", sign(host, svc.Key, svc.KeyName, hour), 5},
	}
	transports := map[string]func(t *testing.T) net.Conn{
		"mqtts": func(t *testing.T) net.Conn {
			c, err := tls.Dial("tcp", s.MQTTAddr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		"wss": func(t *testing.T) net.Conn {
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
			ws, _, err := websocket.Dial(ctx, "wss://"+s.HTTPSAddr().String()+"/$iothub/websocket", &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{"mqtt"}})
			if err != nil {
				t.Fatal(err)
			}
			return websocket.NetConn(ctx, ws, websocket.MessageBinary)
		},
	}
	for tname, dial := range transports {
		for _, tc := range cases {
			t.Run(tname+"/"+tc.name, func(t *testing.T) {
				nc := dial(t)
				defer nc.Close()
				pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
					Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "x", Clean: true, Keepalive: 60,
						UsernameFlag: true, Username: []byte(host + "/x/?api-version=2021-04-12"), PasswordFlag: true, Password: []byte(tc.token)}}
				var b bytes.Buffer
				if err := pk.ConnectEncode(&b); err != nil {
					t.Fatal(err)
				}
				nc.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := nc.Write(b.Bytes()); err != nil {
					t.Fatal(err)
				}
				var ack [4]byte
				if _, err := io.ReadFull(nc, ack[:]); err != nil {
					t.Fatalf("no CONNACK: %v", err)
				}
				if ack[0] != 0x20 || ack[3] != tc.want {
					t.Errorf("CONNACK % x, want return code %d", ack, tc.want)
				}
			})
		}
	}
}
