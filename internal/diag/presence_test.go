package diag

import (
	"sort"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestPresenceDebounces(t *testing.T) {
	var got []PresenceChange
	p := NewPresence(10*time.Second, &Sequencer{}, func(c PresenceChange) { got = append(got, c) })
	ev := func(kind tether.EventKind, conn string, at time.Duration) tether.ConnectionEvent {
		return tether.ConnectionEvent{Kind: kind, DeviceID: "d", ConnectionID: conn, Time: t0.Add(at), Reason: tether.ReasonClientDisconnect}
	}
	p.Event(ev(tether.EventConnect, "c1", 0))
	// A token renewal: disconnect, reconnect 200 ms later.
	p.Event(ev(tether.EventDisconnect, "c1", time.Minute))
	p.Event(ev(tether.EventConnect, "c2", time.Minute+200*time.Millisecond))
	p.Tick(t0.Add(2 * time.Minute))
	// A takeover: the new connection first, then the old one's end.
	p.Event(ev(tether.EventConnect, "c3", 3*time.Minute))
	p.Event(ev(tether.EventDisconnect, "c2", 3*time.Minute+time.Millisecond))
	p.Tick(t0.Add(4 * time.Minute))
	if len(got) != 1 || got[0].State != tether.Connected {
		t.Fatalf("announced %+v, want one Connected", got)
	}
	// A real drop: announced once the grace window is over.
	p.Event(ev(tether.EventDisconnect, "c3", 5*time.Minute))
	p.Tick(t0.Add(5*time.Minute + 9*time.Second))
	if len(got) != 1 {
		t.Fatalf("disconnect announced inside the grace window")
	}
	p.Tick(t0.Add(5*time.Minute + 10*time.Second))
	if len(got) != 2 || got[1].State != tether.Disconnected || !got[1].Time.Equal(t0.Add(5*time.Minute)) || got[1].ConnectionID != "c3" {
		t.Fatalf("announced %+v", got)
	}
	if !sort.StringsAreSorted([]string{got[0].Sequence, got[1].Sequence}) || len(got[0].Sequence) != 64 {
		t.Errorf("sequence numbers %q, %q are not 64 hex digits in order", got[0].Sequence, got[1].Sequence)
	}
}

func TestSequencerMonotonic(t *testing.T) {
	var s Sequencer
	prev := ""
	for i, at := range []time.Time{t0, t0, t0.Add(-time.Hour), t0.Add(time.Second)} { // the clock goes back once
		n := s.Next(at)
		if n <= prev {
			t.Errorf("Next #%d = %s, not after %s", i, n, prev)
		}
		prev = n
	}
	var r Sequencer
	if err := r.Resume(prev); err != nil {
		t.Fatal(err)
	}
	if n := r.Next(t0.Add(-24 * time.Hour)); n <= prev {
		t.Errorf("after Resume, Next = %s, not after %s", n, prev)
	}
	if err := r.Resume("xyz"); err == nil {
		t.Error("Resume accepted a malformed number")
	}
}

// With DropsAtOnce, a drop is announced at the event, a deliberate
// disconnect (a token renewal) still waits out the grace, and the
// lifecycle presence without it waits for both.
func TestPresenceDropsAtOnce(t *testing.T) {
	for _, c := range []struct {
		reason      tether.Reason
		atOnce      bool // announced at the disconnect with DropsAtOnce
		reconnected bool // reconnected 200 ms later
	}{
		{tether.ReasonConnectionLost, true, false},
		{tether.ReasonKeepAliveTimeout, true, false},
		{tether.ReasonServerError, true, false},
		{tether.ReasonClientDisconnect, false, true},
		{tether.ReasonCredentialExpired, false, true},
		{tether.ReasonNone, false, true},
	} {
		for _, at := range []bool{false, true} {
			var got []PresenceChange
			p := NewPresence(10*time.Second, &Sequencer{}, func(c PresenceChange) { got = append(got, c) })
			if at {
				p.DropsAtOnce()
			}
			p.Event(tether.ConnectionEvent{Kind: tether.EventConnect, DeviceID: "d", ConnectionID: "c1", Time: t0})
			p.Event(tether.ConnectionEvent{Kind: tether.EventDisconnect, DeviceID: "d", ConnectionID: "c1", Time: t0.Add(time.Minute), Reason: c.reason})
			want := 1
			if at && c.atOnce {
				want = 2
			}
			if len(got) != want {
				t.Errorf("%s, DropsAtOnce %v: %d changes at the disconnect, want %d", c.reason, at, len(got), want)
			}
			if c.reconnected {
				p.Event(tether.ConnectionEvent{Kind: tether.EventConnect, DeviceID: "d", ConnectionID: "c2", Time: t0.Add(time.Minute + 200*time.Millisecond)})
			}
			p.Tick(t0.Add(2 * time.Minute))
			if c.reconnected && len(got) != 1 {
				t.Errorf("%s, DropsAtOnce %v: a reconnect within the grace announced %+v", c.reason, at, got)
			}
			if !c.reconnected && (len(got) != 2 || got[1].State != tether.Disconnected) {
				t.Errorf("%s, DropsAtOnce %v: announced %+v, want Connected then Disconnected", c.reason, at, got)
			}
			if want := map[bool]int{true: 1, false: 0}[c.reconnected]; p.Connected() != want {
				t.Errorf("%s, DropsAtOnce %v: Connected() = %d, want %d", c.reason, at, p.Connected(), want)
			}
		}
	}
}

// A Presence that is only counted needs no emit and no sequencer.
func TestPresenceCountOnly(t *testing.T) {
	p := NewPresence(10*time.Second, nil, nil).DropsAtOnce()
	for i, id := range []string{"a", "b", "c"} {
		p.Event(tether.ConnectionEvent{Kind: tether.EventConnect, DeviceID: id, ConnectionID: id, Time: t0.Add(time.Duration(i) * time.Second)})
	}
	p.Event(tether.ConnectionEvent{Kind: tether.EventDisconnect, DeviceID: "a", ConnectionID: "a", Time: t0.Add(time.Minute), Reason: tether.ReasonConnectionLost})
	p.Event(tether.ConnectionEvent{Kind: tether.EventDisconnect, DeviceID: "b", ConnectionID: "b", Time: t0.Add(time.Minute), Reason: tether.ReasonClientDisconnect})
	if n := p.Connected(); n != 2 {
		t.Errorf("after a drop and a deliberate disconnect: Connected() = %d, want 2 (the drop counts at once)", n)
	}
	p.Tick(t0.Add(2 * time.Minute))
	if n := p.Connected(); n != 1 {
		t.Errorf("after the grace: Connected() = %d, want 1", n)
	}
}
