package gateway

import (
	"context"
	"sync"
	"time"
)

// presenceFlushEvery is how often queued presence updates are written: a
// disconnect shows in the registry within about this long, and a connect
// storm costs at most one store write per interval.
const presenceFlushEvery = 50 * time.Millisecond

// presenceQueue collects presence updates; Run writes them in batches.
type presenceQueue struct {
	mu       sync.Mutex
	ups      []PresenceUpdate
	sessions []SessionState
}

// queueSession queues a persistent session's subscriptions (or, with
// subs < 0, its removal) to be stored with the next presence batch.
func (g *Gateway) queueSession(clientID string, subs int) {
	if g.o.Sessions == nil {
		return
	}
	g.presence.mu.Lock()
	g.presence.sessions = append(g.presence.sessions, SessionState{ClientID: clientID, Subs: subs, Updated: g.o.Now()})
	g.presence.mu.Unlock()
}

// storedSession reads a client id's stored subscriptions.
func (g *Gateway) storedSession(clientID string) (subscription, bool) {
	if g.o.Sessions == nil {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	subs, ok, err := g.o.Sessions.Session(ctx, clientID)
	if err != nil {
		g.log.Error("read stored session", "client", clientID, "err", err)
		return 0, false
	}
	return subscription(subs), ok
}

func (g *Gateway) queuePresence(u PresenceUpdate) {
	g.presence.mu.Lock()
	g.presence.ups = append(g.presence.ups, u)
	g.presence.mu.Unlock()
}

// queueActivity queues the last activity of every connected device.
func (g *Gateway) queueActivity() {
	g.mu.Lock()
	ups := make([]PresenceUpdate, 0, len(g.sessions))
	for _, s := range g.sessions {
		if s.conn != nil && s.conn.id.ModuleID == "" {
			ups = append(ups, PresenceUpdate{DeviceID: s.conn.id.DeviceID, LastActivity: time.Unix(0, s.conn.lastActivity.Load())})
		}
	}
	g.mu.Unlock()
	g.presence.mu.Lock()
	g.presence.ups = append(g.presence.ups, ups...)
	g.presence.mu.Unlock()
}

func (g *Gateway) flushPresence(ctx context.Context) {
	g.presence.mu.Lock()
	ups, sessions := g.presence.ups, g.presence.sessions
	g.presence.ups, g.presence.sessions = nil, nil
	g.presence.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if len(sessions) > 0 {
		if err := g.o.Sessions.SaveSessions(ctx, sessions); err != nil {
			g.log.Error("store sessions", "sessions", len(sessions), "err", err)
		}
	}
	if len(ups) == 0 {
		return
	}
	if err := g.o.Presence.SetPresence(ctx, ups); err != nil {
		g.log.Error("record presence", "updates", len(ups), "err", err)
	}
}
