package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

// allReasons are the reasons of reason.go. Every one but server_error (a
// fault of the hub that cannot be provoked from outside) must be
// provoked by a scenario of this package.
var allReasons = []tether.Reason{
	tether.ReasonClientDisconnect, tether.ReasonConnectionLost, tether.ReasonKeepAliveTimeout, tether.ReasonConnectTimeout,
	tether.ReasonTLSError, tether.ReasonAuthFailed, tether.ReasonCredentialExpired, tether.ReasonDeviceDisabled,
	tether.ReasonDeviceDeleted, tether.ReasonSessionTakenOver, tether.ReasonThrottled, tether.ReasonMessageTooLarge,
	tether.ReasonProtocolError, tether.ReasonNotAuthorized, tether.ReasonServerShutdown, tether.ReasonServerError,
}

// notProvoked are the reasons no test provokes, and why.
var notProvoked = map[tether.Reason]string{
	tether.ReasonServerError: "a fault of the hub (registry lookup or telemetry store failure); needs fault injection",
}

// connected is the Information deviceConnect row of a device.
func connected(conn int, device string) want {
	return want{conn: conn, op: opConnect, code: info, device: device}
}

// TestConnectionReasons provokes every reason a running hub can see,
// each for real against one hub (DeviceRate 1, so that three quick
// messages are throttled), and checks the rows, the registry and
// /metrics.
func TestConnectionReasons(t *testing.T) {
	st := startSite(t, func(c *server.Config) { c.DeviceRate = 1 })
	runScenarios(t, st, mainScenarios())
}

// TestConnectTimeout provokes connect_timeout on a hub with a 500 ms
// CONNECT timeout.
func TestConnectTimeout(t *testing.T) {
	st := startSite(t, func(c *server.Config) { c.ConnectTimeout = 500 * time.Millisecond })
	runScenarios(t, st, timeoutScenarios())
}

// TestEveryReasonProvoked checks that the scenarios of this package
// cover every reason of reason.go.
func TestEveryReasonProvoked(t *testing.T) {
	got := map[tether.Reason]bool{tether.ReasonServerShutdown: true} // TestServerShutdown
	for _, scs := range [][]scenario{mainScenarios(), timeoutScenarios()} {
		for _, sc := range scs {
			for _, w := range sc.want {
				got[w.reason] = true
			}
		}
	}
	for _, r := range allReasons {
		if !got[r] && notProvoked[r] == "" {
			t.Errorf("no scenario provokes reason %s", r)
		}
		if got[r] && notProvoked[r] != "" {
			t.Errorf("reason %s is provoked but listed as not provoked", r)
		}
	}
}

func timeoutScenarios() []scenario {
	return []scenario{
		{
			name: "connect_timeout/tls-but-no-connect",
			run: func(s *stage) {
				c := s.tls()
				start := time.Now()
				if d := c.expectClosed(5 * time.Second).Sub(start); d > 3*time.Second {
					s.Errorf("closed %v after the TLS handshake; want about 500ms", d)
				}
			},
			want: []want{{op: opConnect, code: genericTimeout, reason: tether.ReasonConnectTimeout,
				detail: []string{"no CONNECT within 500ms of the connection opening"},
				check: func(t *testing.T, r row, _ []string) {
					if r.P.TLSVersion != "TLS 1.3" || r.P.CipherSuite == "" {
						t.Errorf("a timeout after the handshake must say the TLS version and cipher: %s", r.Props)
					}
				}}},
		},
		{
			name: "connect_timeout/no-tls-handshake",
			run: func(s *stage) {
				nc := s.tcp()
				waitClosedTCP(s, nc, 5*time.Second)
			},
			want: []want{{op: opConnect, code: genericTimeout, reason: tether.ReasonConnectTimeout,
				detail: []string{"TLS handshake not completed within 500ms"}}},
		},
	}
}

func mainScenarios() []scenario {
	var (
		expiredAt  string // credential_expired/at-connect: the token's expiry
		expiringAt string // credential_expired/while-connected
	)
	rfc := func(t time.Time) string { return time.Unix(t.Unix(), 0).UTC().Format(time.RFC3339) }
	last := func(reason tether.Reason, c code) *wire.LastDisconnect {
		return &wire.LastDisconnect{Reason: string(reason), ResultType: c.typ, ResultDescription: c.name}
	}
	closed := func(s *stage, c *mqttConn) { c.expectClosed(10 * time.Second) }
	return []scenario{
		{
			name: "tls_error/plain-mqtt",
			run: func(s *stage) {
				nc := s.tcp()
				b, _ := encode(connectPacket(s.site.host, "plain", "x", true, 60))
				nc.Write(b)
				waitClosedTCP(s, nc, 5*time.Second)
			},
			want: []want{{op: opConnect, code: unauthorized, reason: tether.ReasonTLSError,
				detail: []string{"TLS handshake failed", "first record does not look like a TLS handshake",
					"(the client speaks plain MQTT or another protocol: this port is MQTT over TLS)"}}},
		},
		{
			name: "tls_error/untrusted-ca",
			run: func(s *stage) {
				err := s.tlsWith(&tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"})
				if err == nil || !strings.Contains(err.Error(), "certificate") {
					s.Fatalf("handshake without the hub's CA: %v, want a certificate error", err)
				}
			},
			want: []want{{op: opConnect, code: unauthorized, reason: tether.ReasonTLSError,
				detail: []string{"TLS handshake failed", "does not trust the hub's certificate", "DATA/tls/ca.pem"}}},
		},
		{
			name: "tls_error/eof-in-handshake",
			run: func(s *stage) {
				nc := s.tcp()
				nc.Close()
			},
			want: []want{{op: opConnect, code: unauthorized, reason: tether.ReasonTLSError,
				detail: []string{"TLS handshake failed: EOF", "the client gave up during the handshake"}}},
		},
		{
			name: "connection_lost/kill-9",
			run: func(s *stage) {
				key := s.device("killed")
				local := killedClient(s.T, s.site.mqtt, s.site.h.CAFile(), s.site.host, "killed",
					s.token("killed", key, time.Now().Add(time.Hour)))
				s.conns = append(s.conns, local)
			},
			want: []want{connected(0, "killed"),
				{conn: 0, op: opDisconnect, code: closedRemotely, reason: tether.ReasonConnectionLost, device: "killed",
					check: func(t *testing.T, r row, _ []string) {
						if !strings.Contains(r.P.Detail, "without DISCONNECT (EOF)") && !strings.Contains(r.P.Detail, "(TCP RST)") {
							t.Errorf("detail %q names neither EOF nor a reset", r.P.Detail)
						}
					}}},
			reg: &registryWant{"killed", "Disconnected", last(tether.ReasonConnectionLost, closedRemotely), 0},
		},
		{
			name: "connection_lost/close-without-disconnect",
			run: func(s *stage) {
				c := s.connect("vanished", s.device("vanished"), true, 60)
				c.close()
			},
			want: []want{connected(0, "vanished"),
				{conn: 0, op: opDisconnect, code: closedRemotely, reason: tether.ReasonConnectionLost, device: "vanished",
					detail: []string{"the device closed the connection without DISCONNECT (EOF)"}}},
			reg: &registryWant{"vanished", "Disconnected", last(tether.ReasonConnectionLost, closedRemotely), 0},
		},
		{
			name: "keepalive_timeout",
			run: func(s *stage) {
				c := s.connect("silent", s.device("silent"), true, 2)
				acked := time.Now()
				if d := c.expectClosed(10 * time.Second).Sub(acked); d < 2800*time.Millisecond || d > 5*time.Second {
					s.Errorf("keep-alive 2s: closed %v after CONNACK, want about 3s", d)
				}
			},
			want: []want{
				{conn: 0, op: opConnect, code: info, device: "silent", check: func(t *testing.T, r row, _ []string) {
					if r.P.KeepAliveSec == nil || *r.P.KeepAliveSec != 2 {
						t.Errorf("keepAliveSec %v, want 2", r.P.KeepAliveSec)
					}
				}},
				{conn: 0, op: opDisconnect, code: closedRemotely, reason: tether.ReasonKeepAliveTimeout, device: "silent",
					detail: []string{"no packet for 3s (1.5 × keep-alive 2s"},
					check: func(t *testing.T, r row, _ []string) {
						if a := r.P.LastActivityAgoMs; a == nil || *a < 2900 || *a > 4500 {
							t.Errorf("lastActivityAgoMs %v, want about 3000", a)
						}
						if r.P.KeepAliveSec == nil || *r.P.KeepAliveSec != 2 {
							t.Errorf("keepAliveSec %v, want 2", r.P.KeepAliveSec)
						}
					}},
			},
			reg: &registryWant{"silent", "Disconnected", last(tether.ReasonKeepAliveTimeout, closedRemotely), 0},
		},
		{
			name: "session_taken_over",
			run: func(s *stage) {
				key := s.device("twin-brother")
				first := s.connect("twin-brother", key, true, 60)
				s.connect("twin-brother", key, true, 60)
				closed(s, first)
			},
			want: []want{
				connected(0, "twin-brother"),
				{conn: 0, op: opDisconnect, code: newConnection, reason: tether.ReasonSessionTakenOver, device: "twin-brother",
					detail: []string{"replaced by a new connection "},
					check: func(t *testing.T, r row, ids []string) {
						if !strings.Contains(r.P.Detail, ids[1]) {
							t.Errorf("detail %q does not name the new connection %s", r.P.Detail, ids[1])
						}
					}},
				connected(1, "twin-brother"),
			},
			reg: &registryWant{"twin-brother", "Connected", last(tether.ReasonSessionTakenOver, newConnection), 0},
		},
		{
			name: "credential_expired/at-connect",
			run: func(s *stage) {
				key := s.device("stale-token")
				exp := time.Now().Add(-10 * time.Minute)
				expiredAt = rfc(exp)
				c := s.tls()
				if ack := c.connect(s.site.host, "stale-token", s.token("stale-token", key, exp), true, 60); ack.ReasonCode != 5 {
					s.Errorf("CONNACK %d, want 5", ack.ReasonCode)
				}
				closed(s, c)
			},
			want: []want{{op: opConnect, code: unauthorized, reason: tether.ReasonCredentialExpired, device: "stale-token",
				detail: []string{"allowed clock skew 5m0s", "past its expiry when it arrived", "clock skew suspected"},
				check: func(t *testing.T, r row, _ []string) {
					if !strings.Contains(r.P.Detail, "expired at "+expiredAt) {
						t.Errorf("detail %q does not say expired at %s", r.P.Detail, expiredAt)
					}
				}}},
			reg: &registryWant{"stale-token", "Disconnected", nil, 0},
		},
		{
			name: "credential_expired/while-connected",
			run: func(s *stage) {
				key := s.device("expiring")
				// Valid for 3 to 4 more seconds, thanks to the hub's 5 min skew.
				exp := time.Now().Add(-5*time.Minute + 4*time.Second)
				expiringAt = rfc(exp)
				c := s.tls()
				c.mustConnect(s.site.host, "expiring", s.token("expiring", key, exp), true, 60)
				acked := time.Now()
				if d := c.expectClosed(10 * time.Second).Sub(acked); d > 5*time.Second {
					s.Errorf("closed %v after CONNACK, want within 4s", d)
				}
			},
			want: []want{
				{conn: 0, op: opConnect, code: info, device: "expiring", check: func(t *testing.T, r row, _ []string) {
					if r.P.TokenExpiry != expiringAt {
						t.Errorf("tokenExpiry %q, want %q", r.P.TokenExpiry, expiringAt)
					}
				}},
				{conn: 0, op: opDisconnect, code: unauthorized, reason: tether.ReasonCredentialExpired, device: "expiring",
					detail: []string{"(allowed clock skew 5m0s); the device must reconnect with a new token"},
					check: func(t *testing.T, r row, _ []string) {
						if !strings.Contains(r.P.Detail, "the SAS token expired at "+expiringAt) {
							t.Errorf("detail %q does not say expired at %s", r.P.Detail, expiringAt)
						}
						if r.P.Follows != "" {
							t.Errorf("the 401003 row follows %q", r.P.Follows)
						}
					}},
				{conn: 0, op: opDisconnect, code: closedRemotely, reason: tether.ReasonCredentialExpired, device: "expiring",
					detail: []string{"the SAS token expired at "},
					check: func(t *testing.T, r row, _ []string) {
						if r.P.Follows != "401003" {
							t.Errorf("the 404104 row follows %q, want 401003", r.P.Follows)
						}
					}},
			},
			reg: &registryWant{"expiring", "Disconnected", last(tether.ReasonCredentialExpired, unauthorized), 0},
		},
		{
			name: "client_disconnect/token-renewal",
			run: func(s *stage) {
				key := s.device("renewer")
				c := s.connect("renewer", key, false, 60)
				if codes := c.subscribe("$iothub/methods/POST/#"); !bytes.Equal(codes, []byte{1}) {
					s.Fatalf("SUBACK %v, want [1]", codes)
				}
				if err := c.disconnect(); err != nil {
					s.Fatal(err)
				}
				closed(s, c)
				// The SDK reconnects at once with a new token.
				c = s.tls()
				ack := c.mustConnect(s.site.host, "renewer", s.token("renewer", key, time.Now().Add(2*time.Hour)), false, 60)
				if !ack.SessionPresent {
					s.Error("CONNACK after the renewal: session present 0, want 1 (CleanSession=0 with a subscription)")
				}
				c.ping()
			},
			want: []want{
				connected(0, "renewer"),
				{conn: 0, op: opDisconnect, code: info, reason: tether.ReasonClientDisconnect, device: "renewer",
					detail: []string{"the device sent DISCONNECT"}},
				connected(1, "renewer"),
			},
			// The state must stay Connected past the next presence write.
			reg: &registryWant{"renewer", "Connected", &wire.LastDisconnect{Reason: string(tether.ReasonClientDisconnect)}, 1500 * time.Millisecond},
		},
		{
			name: "device_disabled/at-connect",
			run: func(s *stage) {
				d := s.site.createDevice(s.T, "benched", tether.StatusDisabled)
				c := s.tls()
				if ack := c.connect(s.site.host, "benched", s.token("benched", primaryKey(d), time.Now().Add(time.Hour)), true, 60); ack.ReasonCode != 3 {
					s.Errorf("CONNACK %d, want 3", ack.ReasonCode)
				}
				closed(s, c)
			},
			want: []want{{op: opConnect, code: deviceDisabled, reason: tether.ReasonDeviceDisabled, device: "benched",
				detail: []string{"device 'benched' is disabled"}}},
			reg: &registryWant{"benched", "Disconnected", nil, 0},
		},
		{
			name: "device_disabled/while-connected",
			run: func(s *stage) {
				d := s.site.createDevice(s.T, "suspended", tether.StatusEnabled)
				c := s.connect("suspended", primaryKey(d), true, 60)
				d.Status = string(tether.StatusDisabled)
				if _, err := s.site.api.UpdateDevice(context.Background(), d, "*"); err != nil {
					s.Fatalf("disable: %v", err)
				}
				closed(s, c)
			},
			want: []want{connected(0, "suspended"),
				{conn: 0, op: opDisconnect, code: deviceDisabled, reason: tether.ReasonDeviceDisabled, device: "suspended",
					detail: []string{"the device was disabled in the registry"}}},
			reg: &registryWant{"suspended", "Disconnected", last(tether.ReasonDeviceDisabled, deviceDisabled), 0},
		},
		{
			name: "device_deleted",
			run: func(s *stage) {
				c := s.connect("doomed", s.device("doomed"), true, 60)
				if err := s.site.api.DeleteDevice(context.Background(), "doomed", "*"); err != nil {
					s.Fatalf("delete: %v", err)
				}
				closed(s, c)
			},
			want: []want{connected(0, "doomed"),
				{conn: 0, op: opDisconnect, code: deviceNotFound, reason: tether.ReasonDeviceDeleted, device: "doomed",
					detail: []string{"the device was deleted from the registry"}}},
		},
		{
			name: "auth_failed/unknown-device",
			run: func(s *stage) {
				c := s.tls()
				tok := s.token("ghost", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", time.Now().Add(time.Hour))
				if ack := c.connect(s.site.host, "ghost", tok, true, 60); ack.ReasonCode != 5 {
					s.Errorf("CONNACK %d, want 5", ack.ReasonCode)
				}
				closed(s, c)
			},
			want: []want{{op: opConnect, code: unauthorized, reason: tether.ReasonAuthFailed, device: "ghost",
				detail: []string{"device 'ghost' is not registered in this hub"}}},
		},
		{
			name: "auth_failed/wrong-key",
			run: func(s *stage) {
				s.device("forger")
				c := s.tls()
				tok := s.token("forger", "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=", time.Now().Add(time.Hour))
				if ack := c.connect(s.site.host, "forger", tok, true, 60); ack.ReasonCode != 5 {
					s.Errorf("CONNACK %d, want 5", ack.ReasonCode)
				}
				closed(s, c)
			},
			want: []want{{op: opConnect, code: unauthorized, reason: tether.ReasonAuthFailed, device: "forger",
				detail: []string{"matches neither the primary nor the secondary key"}}},
			reg: &registryWant{"forger", "Disconnected", nil, 0},
		},
		{
			name: "message_too_large/telemetry",
			run: func(s *stage) {
				c := s.connect("chatty", s.device("chatty"), true, 60)
				c.publish("devices/chatty/messages/events/", 1, 1, bytes.Repeat([]byte("x"), tether.MaxTelemetryBytes+1))
				closed(s, c)
			},
			want: []want{connected(0, "chatty"),
				{conn: 0, op: opDisconnect, code: tooLarge, reason: tether.ReasonMessageTooLarge, device: "chatty",
					detail: []string{fmt.Sprintf("a telemetry message of %d bytes is over the limit of %d bytes", tether.MaxTelemetryBytes+1, tether.MaxTelemetryBytes)}}},
			reg: &registryWant{"chatty", "Disconnected", last(tether.ReasonMessageTooLarge, tooLarge), 0},
		},
		{
			name: "message_too_large/packet",
			run: func(s *stage) {
				c := s.connect("hoarder", s.device("hoarder"), true, 60)
				c.publish("devices/hoarder/messages/events/", 1, 1, bytes.Repeat([]byte("x"), 300*1024))
				closed(s, c)
			},
			want: []want{connected(0, "hoarder"),
				{conn: 0, op: opDisconnect, code: tooLarge, reason: tether.ReasonMessageTooLarge, device: "hoarder",
					detail: []string{"a Publish packet of 307236 bytes is over the limit of", fmt.Sprintf("(messages are limited to %d bytes)", tether.MaxTelemetryBytes)}}},
		},
		{
			name: "throttled",
			run: func(s *stage) {
				c := s.connect("flooder", s.device("flooder"), true, 60)
				for i := 0; i < 3; i++ {
					c.publish("devices/flooder/messages/events/", 0, 0, []byte("m"))
				}
				closed(s, c)
			},
			want: []want{connected(0, "flooder"),
				{conn: 0, op: opDisconnect, code: deviceThrottled, reason: tether.ReasonThrottled, device: "flooder",
					detail: []string{"more than 1 telemetry messages per second (burst 2) from device 'flooder'"}}},
			reg: &registryWant{"flooder", "Disconnected", last(tether.ReasonThrottled, deviceThrottled), 0},
		},
		{
			name: "not_authorized_action/publish-as-another-device",
			run: func(s *stage) {
				c := s.connect("impostor", s.device("impostor"), true, 60)
				c.publish("devices/victim/messages/events/", 1, 1, []byte("forged"))
				closed(s, c)
			},
			want: []want{connected(0, "impostor"),
				{conn: 0, op: opDisconnect, code: unauthorized, reason: tether.ReasonNotAuthorized, device: "impostor",
					detail: []string{`PUBLISH to "devices/victim/messages/events/": device 'impostor' may publish only to its own topics`}}},
			reg: &registryWant{"impostor", "Disconnected", last(tether.ReasonNotAuthorized, unauthorized), 0},
		},
		{
			name: "not_authorized_action/subscribe-to-another-device",
			run: func(s *stage) {
				c := s.connect("snoop", s.device("snoop"), true, 60)
				if codes := c.subscribe("devices/victim/messages/devicebound/#"); !bytes.Equal(codes, []byte{0x80}) {
					s.Errorf("SUBACK %v, want [0x80]", codes)
				}
				c.ping() // still connected
			},
			want: []want{connected(0, "snoop"),
				{conn: 0, op: opRefused, code: unauthorized, reason: tether.ReasonNotAuthorized, device: "snoop",
					detail: []string{`SUBSCRIBE to "devices/victim/messages/devicebound/#" refused: device 'snoop' may subscribe only to its own topics`}}},
			reg: &registryWant{"snoop", "Connected", nil, 0},
		},
		{
			name: "protocol_error/qos2",
			run: func(s *stage) {
				c := s.connect("qos2", s.device("qos2"), true, 60)
				c.publish("devices/qos2/messages/events/", 2, 1, []byte("m"))
				closed(s, c)
			},
			want: []want{connected(0, "qos2"),
				{conn: 0, op: opDisconnect, code: argumentInvalid, reason: tether.ReasonProtocolError, device: "qos2",
					detail: []string{"QoS 2", "IoT Hub supports QoS 0 and 1 only"}}},
			reg: &registryWant{"qos2", "Disconnected", last(tether.ReasonProtocolError, argumentInvalid), 0},
		},
	}
}
