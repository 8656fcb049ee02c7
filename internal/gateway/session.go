package gateway

import (
	"context"
	"fmt"
	"strings"

	"github.com/tether-iot/tether"
)

// attach makes c its device's current connection, closing an older one
// (a takeover), and reports whether a persistent session was present.
func (g *Gateway) attach(c *conn, clean bool) (present bool) {
	var stored subscription
	var hasStored bool
	if !clean {
		g.mu.Lock()
		_, inMemory := g.sessions[c.clientID]
		g.mu.Unlock()
		if !inMemory {
			stored, hasStored = g.storedSession(c.clientID) // a session from before a restart
		}
	}
	g.mu.Lock()
	s := g.sessions[c.clientID]
	if s == nil && hasStored {
		s = &session{subs: stored, persist: true}
		g.sessions[c.clientID] = s
	}
	if s == nil || clean {
		if s != nil {
			present = false
			s.subs = 0
		} else {
			s = &session{}
			g.sessions[c.clientID] = s
		}
	} else {
		present = true
	}
	old := s.conn
	s.conn, c.sess = c, s
	wasPersistent := s.persist
	s.persist = !clean
	if !clean && s.subs&subMethods != 0 {
		for _, w := range s.waiters {
			close(w)
		}
		s.waiters = nil
	}
	g.mu.Unlock()
	switch {
	case clean && (wasPersistent || hasStored):
		g.queueSession(c.clientID, -1)
	case !clean && !wasPersistent:
		g.queueSession(c.clientID, int(s.subs))
	}
	if old != nil {
		old.close(tether.ReasonSessionTakenOver, fmt.Sprintf("replaced by a new connection %s of the same device", c.connID))
	}
	return present
}

// untrack forgets an open connection.
func (g *Gateway) untrack(c *conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// finish cleans up after a connected device's read loop ended: it detaches
// the session, fails waiting method calls, publishes the will, records
// presence and reports the disconnect.
func (c *conn) finish() {
	g := c.g
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Lock()
	reason, detail := c.reason, c.detail
	c.mu.Unlock()
	now := g.o.Now()
	g.mu.Lock()
	current := c.sess.conn == c
	if current {
		c.sess.conn = nil
		if reason == tether.ReasonClientDisconnect && c.sess.subs == 0 {
			delete(g.sessions, c.clientID)
		}
	}
	g.mu.Unlock()
	g.connected.Add(-1)
	g.failMethods(c)
	ev := c.event(tether.EventDisconnect, reason, detail)
	if c.will != nil && reason != tether.ReasonClientDisconnect {
		ev.WillSent = c.publishWill()
	}
	code := reason.Code()
	up := PresenceUpdate{DeviceID: c.id.DeviceID, LastActivity: c.lastActive(),
		Disconnect: tether.Disconnect{Time: now, Reason: reason, Code: code}}
	if current {
		up.State, up.StateChanged = tether.Disconnected, now
	}
	g.queuePresence(up)
	g.emit(ev)
}

// publishWill sends the will as telemetry with iothub-MessageType=Will,
// when its topic is the device's telemetry topic.
func (c *conn) publishWill() bool {
	t := parsePublish(c.will.TopicName, c.id)
	if t.kind != topicTelemetry {
		c.g.log.Debug("will ignored: not a telemetry topic", "device", c.id.DeviceID, "topic", c.will.TopicName)
		return false
	}
	m := c.message(t.bag, c.will.Payload, c.will.FixedHeader.Retain)
	if m.Properties == nil {
		m.Properties = map[string]string{}
	}
	m.Properties["iothub-MessageType"] = "Will"
	c.g.o.Telemetry.Submit(m, func(_ int64, err error) {
		if err != nil {
			c.g.log.Error("will not stored", "device", c.id.DeviceID, "err", err)
		}
	})
	return true
}

// Kick closes a device's connection, for example when it is disabled or
// deleted. It reports whether the device was connected.
func (g *Gateway) Kick(deviceID string, reason tether.Reason, detail string) bool {
	g.mu.Lock()
	var victims []*conn
	for id, s := range g.sessions {
		if (id == deviceID || strings.HasPrefix(id, deviceID+"/")) && s.conn != nil {
			victims = append(victims, s.conn)
		}
		if reason == tether.ReasonDeviceDeleted && (id == deviceID || strings.HasPrefix(id, deviceID+"/")) {
			delete(g.sessions, id)
			defer g.queueSession(id, -1)
		}
	}
	g.mu.Unlock()
	for _, c := range victims {
		c.close(reason, detail)
	}
	return len(victims) > 0
}

// current returns the device's connection, if it is connected.
func (g *Gateway) current(clientID string) (*conn, subscription) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessions[clientID]
	if s == nil || s.conn == nil {
		return nil, 0
	}
	return s.conn, s.subs
}

// waitSubscribed waits until the device is connected with a methods
// subscription, or ctx ends.
func (g *Gateway) waitSubscribed(ctx context.Context, clientID string) (*conn, bool) {
	for {
		g.mu.Lock()
		s := g.sessions[clientID]
		if s != nil && s.conn != nil && s.subs&subMethods != 0 {
			c := s.conn
			g.mu.Unlock()
			return c, true
		}
		if s == nil {
			s = &session{}
			g.sessions[clientID] = s
		}
		w := make(chan struct{})
		s.waiters = append(s.waiters, w)
		g.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// subscribed records new subscriptions and wakes method callers waiting
// for the device.
func (g *Gateway) subscribed(c *conn, subs subscription) {
	g.mu.Lock()
	if c.sess.persist && c.sess.subs|subs != c.sess.subs {
		defer g.queueSession(c.clientID, int(c.sess.subs|subs))
	}
	c.sess.subs |= subs
	if subs&subMethods != 0 {
		for _, w := range c.sess.waiters {
			close(w)
		}
		c.sess.waiters = nil
	}
	g.mu.Unlock()
}
