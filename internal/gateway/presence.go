package gateway

import (
	"context"
	"sync"
	"time"
)

// presenceQueue collects presence updates; Run writes them in batches
// once a second, so a connect storm costs one store write per second.
type presenceQueue struct {
	mu  sync.Mutex
	ups []PresenceUpdate
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
	ups := g.presence.ups
	g.presence.ups = nil
	g.presence.mu.Unlock()
	if len(ups) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := g.o.Presence.SetPresence(ctx, ups); err != nil {
		g.log.Error("record presence", "updates", len(ups), "err", err)
	}
}
