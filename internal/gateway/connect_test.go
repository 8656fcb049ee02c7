package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

func TestConnectRefusals(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	h.device(t, "off", tether.StatusDisabled)
	wrong := tether.Secret("CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=")
	now := time.Now()
	for _, tc := range []struct {
		name     string
		id, pass string
		rc       byte
		reason   tether.Reason
		code     tether.ResultCode
		detail   string
	}{
		{"wrong key", "d1", token(t, testHost+"/devices/d1", wrong, "", now.Add(time.Hour)), 5, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, "neither"},
		{"expired", "d1", token(t, testHost+"/devices/d1", key, "", now.Add(-10*time.Minute)), 5, tether.ReasonCredentialExpired, tether.IoTHubUnauthorized, "expired at"},
		{"other device's token", "d1", token(t, testHost+"/devices/d2", key, "", now.Add(time.Hour)), 5, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, "d2"},
		{"other hub", "d1", token(t, "elsewhere/devices/d1", key, "", now.Add(time.Hour)), 5, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, "elsewhere"},
		{"unknown device", "ghost", token(t, testHost+"/devices/ghost", key, "", now.Add(time.Hour)), 5, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, "not registered"},
		{"no password", "d1", "", 5, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, "no password"},
		{"garbage password", "d1", "hunter2", 5, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, "malformed"},
		{"disabled", "off", token(t, testHost+"/devices/off", key, "", now.Add(time.Hour)), 3, tether.ReasonDeviceDisabled, tether.DeviceDisabled, "disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(t)
			c.write(connectPacket(tc.id, tc.pass, false, 60))
			ack := c.expect(packets.Connack)
			if ack.ReasonCode != tc.rc {
				t.Errorf("CONNACK %d, want %d", ack.ReasonCode, tc.rc)
			}
			c.expectClosed()
			ev := h.waitEvent(t, tc.name, func(ev tether.ConnectionEvent) bool {
				return ev.Kind == tether.EventConnectFailed && ev.DeviceID == tc.id && ev.Reason == tc.reason && strings.Contains(ev.Detail, tc.detail)
			})
			if ev.Code != tc.code {
				t.Errorf("event code %v, want %v", ev.Code, tc.code)
			}
			// An expired token's se is recorded, so that the doctor can
			// tell a stale token from a device clock that is behind.
			if tc.reason == tether.ReasonCredentialExpired && !ev.TokenExpiry.Equal(now.Add(-10*time.Minute).Truncate(time.Second)) {
				t.Errorf("event TokenExpiry %v, want the token's se %v", ev.TokenExpiry, now.Add(-10*time.Minute).Truncate(time.Second))
			}
		})
	}
}

func TestConnectWithPolicyToken(t *testing.T) {
	h := newTestHub(t)
	h.device(t, "d1", tether.StatusEnabled)
	key := tether.Secret("BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=")
	ctx := context.Background()
	h.st.PutPolicy(ctx, tether.Policy{Name: "device", PrimaryKey: key, SecondaryKey: key, Rights: tether.DeviceConnect})
	h.st.PutPolicy(ctx, tether.Policy{Name: "service", PrimaryKey: key, SecondaryKey: key, Rights: tether.ServiceConnect})
	c := h.dial(t)
	c.write(connectPacket("d1", token(t, testHost, key, "device", time.Now().Add(time.Hour)), true, 60))
	if ack := c.expect(packets.Connack); ack.ReasonCode != 0 {
		t.Errorf("hub-level token of a DeviceConnect policy: CONNACK %d, want 0", ack.ReasonCode)
	}
	c = h.dial(t)
	c.write(connectPacket("d1", token(t, testHost, key, "service", time.Now().Add(time.Hour)), true, 60))
	if ack := c.expect(packets.Connack); ack.ReasonCode != 5 {
		t.Errorf("token of a policy without DeviceConnect: CONNACK %d, want 5", ack.ReasonCode)
	}
	h.waitEvent(t, "permission", func(ev tether.ConnectionEvent) bool {
		return ev.Kind == tether.EventConnectFailed && strings.Contains(ev.Detail, "DeviceConnect")
	})
}

func TestConnectSuccessAndPresence(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	c := h.connect(t, "d1", key, false)
	ev := h.waitEvent(t, "connect", func(ev tether.ConnectionEvent) bool { return ev.Kind == tether.EventConnect })
	if ev.DeviceID != "d1" || ev.SDKVersion != "test/1.0" || ev.APIVersion != "2021-04-12" || ev.KeepAlive != time.Minute || ev.Protocol != tether.ProtocolMQTT {
		t.Errorf("connect event = %+v", ev)
	}
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	c.expect(packets.Pingresp)
	h.g.flushPresence(context.Background())
	d, _ := h.st.Device(context.Background(), "d1")
	if d.ConnectionState != tether.Connected || d.Version != 0 {
		t.Errorf("registry after connect: state %s version %d; want Connected, version unchanged", d.ConnectionState, d.Version)
	}
	if h.g.Connected() != 1 {
		t.Errorf("Connected() = %d, want 1", h.g.Connected())
	}
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	c.expectClosed()
	ev = h.waitEvent(t, "disconnect", func(ev tether.ConnectionEvent) bool { return ev.Kind == tether.EventDisconnect })
	if ev.Reason != tether.ReasonClientDisconnect || ev.Code != 0 {
		t.Errorf("disconnect event reason %s code %v, want client_disconnect and no code", ev.Reason, ev.Code)
	}
	h.g.flushPresence(context.Background())
	d, _ = h.st.Device(context.Background(), "d1")
	if d.ConnectionState != tether.Disconnected || h.g.Connected() != 0 {
		t.Errorf("after disconnect: state %s, connected %d", d.ConnectionState, h.g.Connected())
	}
}

func TestTakeover(t *testing.T) {
	h := newTestHub(t)
	key := h.device(t, "d1", tether.StatusEnabled)
	first := h.connect(t, "d1", key, false)
	second := h.connect(t, "d1", key, false)
	first.expectClosed()
	ev := h.waitEvent(t, "takeover", func(ev tether.ConnectionEvent) bool { return ev.Kind == tether.EventDisconnect })
	if ev.Reason != tether.ReasonSessionTakenOver || ev.Code != tether.ConnectionForcefullyClosedOnNewConnection || !strings.Contains(ev.Detail, "replaced by") {
		t.Errorf("takeover event = %+v", ev)
	}
	second.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	second.expect(packets.Pingresp)
	h.g.flushPresence(context.Background())
	if d, _ := h.st.Device(context.Background(), "d1"); d.ConnectionState != tether.Connected {
		t.Errorf("after takeover the device is %s, want Connected", d.ConnectionState)
	}
}

func TestTimeouts(t *testing.T) {
	h := newTestHub(t, func(o *Options) { o.ConnectTimeout = 100 * time.Millisecond })
	key := h.device(t, "d1", tether.StatusEnabled)

	silent := h.dial(t)
	silent.expectClosed()
	h.waitEvent(t, "connect timeout", func(ev tether.ConnectionEvent) bool {
		return ev.Reason == tether.ReasonConnectTimeout && ev.Code == tether.GenericTimeout
	})

	c := h.dial(t)
	c.write(connectPacket("d1", token(t, testHost+"/devices/d1", key, "", time.Now().Add(time.Hour)), true, 1))
	c.expect(packets.Connack)
	start := time.Now()
	c.expectClosed()
	if d := time.Since(start); d < 1400*time.Millisecond || d > 2500*time.Millisecond {
		t.Errorf("keep-alive 1s: closed after %v, want about 1.5s", d)
	}
	h.waitEvent(t, "keep-alive", func(ev tether.ConnectionEvent) bool {
		return ev.Reason == tether.ReasonKeepAliveTimeout && ev.Code == tether.DeviceConnectionClosedRemotely
	})
}

func TestTokenExpiryClosesLiveConnection(t *testing.T) {
	h := newTestHub(t, func(o *Options) { o.TokenSkew = 100 * time.Millisecond })
	key := h.device(t, "d1", tether.StatusEnabled)
	c := h.dial(t)
	c.write(connectPacket("d1", token(t, testHost+"/devices/d1", key, "", time.Now().Add(time.Second)), true, 60))
	c.expect(packets.Connack)
	c.expectClosed()
	ev := h.waitEvent(t, "expiry", func(ev tether.ConnectionEvent) bool { return ev.Kind == tether.EventDisconnect })
	if ev.Reason != tether.ReasonCredentialExpired || !strings.Contains(ev.Detail, "expired at") {
		t.Errorf("expiry event = %+v", ev)
	}
}

func TestIdleTimeout(t *testing.T) {
	for k, want := range map[time.Duration]time.Duration{0: 1767 * time.Second, 60 * time.Second: 90 * time.Second,
		1200 * time.Second: 1767 * time.Second, 180 * time.Second: 270 * time.Second} {
		if got := idleTimeout(k); got != want {
			t.Errorf("idleTimeout(%v) = %v, want %v", k, got, want)
		}
	}
}
