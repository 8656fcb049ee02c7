package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

func TestAuthFailureBan(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	h := newTestHub(t, func(o *Options) {
		o.AuthBanThreshold, o.AuthBanIPThreshold, o.AuthBanWindow, o.AuthBanDuration, o.Now = 3, 3, time.Minute, 5*time.Minute, clock.Now
	})
	key := h.device(t, "d1", tether.StatusEnabled)
	wrong := tether.Secret("CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=")
	attempt := func(id string, k tether.Secret) (byte, tether.ConnectionEvent) {
		t.Helper()
		h.mu.Lock()
		h.events = nil
		h.mu.Unlock()
		c := h.dial(t)
		c.write(connectPacket(id, token(t, testHost+"/devices/"+id, k, "", time.Now().Add(time.Hour)), true, 60))
		ack := c.expect(packets.Connack)
		ev := h.waitEvent(t, "attempt", func(ev tether.ConnectionEvent) bool {
			return ev.Kind == tether.EventConnectFailed || ev.Kind == tether.EventConnect
		})
		return ack.ReasonCode, ev
	}
	for i := 1; i <= 3; i++ {
		rc, ev := attempt("d1", wrong)
		if rc != connNotAuthorized || ev.Reason != tether.ReasonAuthFailed {
			t.Fatalf("failure %d: CONNACK %d %s", i, rc, ev.Reason)
		}
		if banned := strings.Contains(ev.Detail, "banned until"); banned != (i == 3) {
			t.Errorf("failure %d detail %q: the ban must be announced by the third failure only", i, ev.Detail)
		}
		clock.Add(time.Second)
	}
	rc, ev := attempt("d1", key) // the right key, during the ban
	if rc != connUnavailable || ev.Reason != tether.ReasonFlappingBanned || ev.Code != tether.ThrottlingException {
		t.Fatalf("connect during the ban: CONNACK %d, %s %v, want 3, flapping_banned 429001", rc, ev.Reason, ev.Code)
	}
	if !strings.Contains(ev.Detail, "banned until") || strings.Contains(ev.Detail, "pipe") {
		t.Errorf("ban refusal detail %q: want the end of the ban, no address", ev.Detail)
	}
	bans := h.g.Bans(clock.Now())
	if len(bans) != 2 || bans[0].Kind != "device" || bans[1].Kind != "ip" || bans[0].Refused+bans[1].Refused != 1 {
		t.Errorf("Bans = %+v, want the device and its address, one refusal", bans)
	}
	st := h.g.Admission(clock.Now())
	if st.BansImposed != 2 || st.BansActive != 2 || st.RefusedBanned != 1 {
		t.Errorf("Admission = %+v", st)
	}
	clock.Add(5 * time.Minute) // the ban expires
	if rc, ev := attempt("d1", key); rc != 0 || ev.Kind != tether.EventConnect {
		t.Fatalf("after the ban: CONNACK %d %s %q", rc, ev.Reason, ev.Detail)
	}
	if bans := h.g.Bans(clock.Now()); len(bans) != 0 {
		t.Errorf("expired bans still listed: %+v", bans)
	}
}

// TestAuthBanByAddress: failures for many unknown ids from one address
// ban the address, so a good device behind it is refused too.
func TestAuthBanByAddress(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	h := newTestHub(t, func(o *Options) { o.AuthBanThreshold, o.AuthBanIPThreshold, o.Now = 3, 3, clock.Now })
	key := h.device(t, "good", tether.StatusEnabled)
	for _, id := range []string{"ghost1", "ghost2", "ghost3"} {
		c := h.dial(t)
		c.write(connectPacket(id, token(t, testHost+"/devices/"+id, key, "", time.Now().Add(time.Hour)), true, 60))
		c.expect(packets.Connack)
		c.expectClosed()
	}
	c := h.dial(t)
	c.write(connectPacket("good", token(t, testHost+"/devices/good", key, "", time.Now().Add(time.Hour)), true, 60))
	if ack := c.expect(packets.Connack); ack.ReasonCode != connUnavailable {
		t.Fatalf("CONNACK %d from a banned address, want 3", ack.ReasonCode)
	}
	ev := h.waitEvent(t, "ban", func(ev tether.ConnectionEvent) bool { return ev.DeviceID == "good" })
	if ev.Reason != tether.ReasonFlappingBanned || !strings.Contains(ev.Detail, "the source address") {
		t.Errorf("refusal %s %q, want flapping_banned naming the source address", ev.Reason, ev.Detail)
	}
}

func TestBanListDisabledAndBounded(t *testing.T) {
	if b := newBanList(0, 0, time.Minute, time.Minute); b != nil {
		t.Fatal("thresholds 0 must disable bans")
	}
	now := time.Unix(1_700_000_000, 0)
	if b := newBanList(2, 0, time.Minute, time.Minute); len(b.fail("1.2.3.4", "", now))+len(b.fail("1.2.3.4", "", now))+len(b.fail("1.2.3.4", "", now)) != 0 {
		t.Error("an address was banned with address bans off")
	}
	b := newBanList(5, 5, time.Minute, time.Minute)
	for i := 0; i < maxFailTracked+10; i++ {
		b.fail("ip", "dev"+string(rune('a'+i%26))+strings.Repeat("x", i%7)+time.Duration(i).String(), now)
	}
	if len(b.fails) > maxFailTracked {
		t.Fatalf("%d subjects tracked, bound %d", len(b.fails), maxFailTracked)
	}
}
