package portal

import (
	"sync"
	"time"
)

// Login throttling: after maxFailures failed logins from one address
// within failureWindow, that address waits lockout before trying again.
const (
	maxFailures   = 10
	failureWindow = time.Minute
	lockout       = time.Minute
	maxTracked    = 10000 // addresses remembered; beyond, the table is reset
)

type limiter struct {
	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	first time.Time // start of the current window
	n     int
	until time.Time // locked out until
}

func newLimiter() *limiter { return &limiter{m: map[string]*failures{}} }

// blocked returns how long client must still wait, or 0.
func (l *limiter) blocked(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.m[client]; f != nil && now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

func (l *limiter) failed(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[client]
	if f == nil {
		if len(l.m) >= maxTracked {
			l.m = map[string]*failures{}
		}
		f = &failures{first: now}
		l.m[client] = f
	}
	if now.Sub(f.first) > failureWindow {
		f.first, f.n = now, 0
	}
	f.n++
	if f.n >= maxFailures {
		f.until, f.first, f.n = now.Add(lockout), now, 0
	}
}

func (l *limiter) succeeded(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, client)
}
