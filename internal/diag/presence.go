package diag

import (
	"sync"
	"time"

	"github.com/tether-iot/tether"
)

// DefaultGrace is how long a disconnect waits for a reconnect before it
// is announced: SDKs renew tokens by reconnecting, which must not flap.
const DefaultGrace = 10 * time.Second

// PresenceChange is a device's announced change of state, in order, with
// its sequence number.
type PresenceChange struct {
	DeviceID     string
	State        tether.ConnectionState
	Time         time.Time // when it happened (a disconnect: when the connection ended)
	Sequence     string
	ConnectionID string
	Reason       tether.Reason     // disconnects only
	Code         tether.ResultCode // disconnects only
}

// Presence turns connection events into an ordered, debounced
// connected/disconnected state per device: a disconnect followed within
// the grace window by a connect of the same device announces nothing, so
// a token-renewal reconnect does not flap. Time is a parameter: the
// caller feeds events and calls Tick.
type Presence struct {
	grace time.Duration
	seq   *Sequencer
	emit  func(PresenceChange)
	// dropsAtOnce: only deliberate disconnects wait out the grace.
	dropsAtOnce bool

	mu        sync.Mutex
	devices   map[string]*devicePresence
	connected int // devices announced Connected
}

type devicePresence struct {
	announced tether.ConnectionState // what subscribers were last told
	conn      string                 // the current connection
	pending   *PresenceChange        // a disconnect waiting out the grace window
	deadline  time.Time
}

// NewPresence returns a Presence that announces through emit. emit is
// called with the lock held, in order; it must not block. A Presence
// that is only counted (see Connected) may have no emit and no seq.
func NewPresence(grace time.Duration, seq *Sequencer, emit func(PresenceChange)) *Presence {
	if grace < 0 {
		grace = 0
	}
	return &Presence{grace: grace, seq: seq, emit: emit, devices: map[string]*devicePresence{}}
}

// DropsAtOnce makes p announce a drop (a disconnect whose reason is not
// Deliberate: a lost link, a keep-alive timeout, a fault) at once, and
// keep the grace window for the disconnects after which a working device
// reconnects, such as an SDK's token renewal. It returns p; call it
// before the first Event.
func (p *Presence) DropsAtOnce() *Presence {
	p.dropsAtOnce = true
	return p
}

// Event feeds a connection event.
func (p *Presence) Event(ev tether.ConnectionEvent) {
	if ev.DeviceID == "" || (ev.Kind != tether.EventConnect && ev.Kind != tether.EventDisconnect) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.devices[ev.DeviceID]
	if d == nil {
		d = &devicePresence{announced: tether.Disconnected}
		p.devices[ev.DeviceID] = d
	}
	switch ev.Kind {
	case tether.EventConnect:
		d.conn, d.pending = ev.ConnectionID, nil
		if d.announced != tether.Connected {
			d.announced = tether.Connected
			p.connected++
			if p.emit != nil {
				p.emit(PresenceChange{DeviceID: ev.DeviceID, State: tether.Connected, Time: ev.Time, Sequence: p.seq.Next(ev.Time), ConnectionID: ev.ConnectionID})
			}
		}
	case tether.EventDisconnect:
		if ev.ConnectionID != d.conn {
			return // an older connection, already replaced
		}
		code := ev.Code
		if code == 0 {
			code = ev.Reason.Code()
		}
		d.conn = ""
		d.pending = &PresenceChange{DeviceID: ev.DeviceID, State: tether.Disconnected, Time: ev.Time, ConnectionID: ev.ConnectionID, Reason: ev.Reason, Code: code}
		d.deadline = ev.Time.Add(p.grace)
		if p.grace == 0 || (p.dropsAtOnce && !ev.Reason.Deliberate()) {
			p.flush(ev.DeviceID, d)
		}
	}
}

// Tick announces the disconnects whose grace window ended by now.
func (p *Presence) Tick(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, d := range p.devices {
		if d.pending != nil && !now.Before(d.deadline) {
			p.flush(id, d)
		}
	}
}

func (p *Presence) flush(id string, d *devicePresence) {
	c := *d.pending
	d.pending = nil
	if d.announced == tether.Disconnected {
		return
	}
	d.announced = tether.Disconnected
	p.connected--
	if p.emit != nil {
		c.Sequence = p.seq.Next(c.Time)
		p.emit(c)
	}
	delete(p.devices, id)
}

// Connected returns how many devices are announced as connected.
func (p *Presence) Connected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.connected
}
