package gateway

import (
	"fmt"
	"sync"
	"time"
)

// connectLimiter is the hub-wide connect-rate limit: a token bucket of
// rate connects per second, checked when a CONNECT arrives, before the
// registry lookup and the signature check. It is fair across devices:
//
//   - a device that was refused and has not connected since holds a
//     retry credit: it may take tokens from a reserve (a tenth of the
//     bucket, rounded down) that devices without credit may not touch, so devices that
//     back off are not starved by devices that hammer;
//   - a device that connected within the last window (a hot device, such
//     as two clones taking the session from each other) is admitted only
//     while the bucket is at least half full, that is while the hub is
//     not contended, and more than once a second only into a full bucket.
//
// All methods take the time as an argument and are safe for concurrent use.
type connectLimiter struct {
	rate, burst float64
	reserve     float64 // tokens only devices with a retry credit may take
	window      time.Duration

	mu     sync.Mutex
	tokens float64
	last   time.Time
	recent map[string]admitState // by device id; bounded by maxTracked
}

// admitState is what the limiter remembers of a device.
type admitState struct {
	admitted time.Time // the last admission
	refused  time.Time // the last refusal since that admission
}

// maxTracked bounds the limiter's memory of devices; when it is full,
// entries older than the window are swept, and if it is still full new
// devices are not remembered (they get no retry credit).
const maxTracked = 200_000

func newConnectLimiter(rate float64, burst int, now time.Time) *connectLimiter {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if b < 1 {
		b = max(rate, 1)
	}
	return &connectLimiter{rate: rate, burst: b, reserve: float64(int(b / 10)), window: 10 * time.Second,
		tokens: b, last: now, recent: map[string]admitState{}}
}

// allow decides on a connect of device at now. When it refuses, the
// detail says why.
func (l *connectLimiter) allow(device string, now time.Time) (bool, string) {
	if l == nil {
		return true, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if dt := now.Sub(l.last).Seconds(); dt > 0 {
		l.tokens = min(l.burst, l.tokens+dt*l.rate)
		l.last = now
	}
	st, known := l.recent[device]
	hot := known && !st.admitted.IsZero() && now.Sub(st.admitted) < l.window
	credit := known && !hot && !st.refused.IsZero() && now.Sub(st.refused) < 6*l.window
	need := 1 + l.reserve // a device without credit leaves the reserve alone
	switch {
	case credit:
		need = 1
	case hot && now.Sub(st.admitted) < time.Second:
		need = max(l.burst, need) // more than once a second: only into a full bucket
	case hot:
		need = max(l.burst/2, need)
	}
	if l.tokens >= need {
		l.tokens--
		l.remember(device, admitState{admitted: now}, known, now)
		return true, ""
	}
	st.refused = now
	l.remember(device, st, known, now)
	detail := fmt.Sprintf("the hub is admitting at most %s connects per second (--max-connect-rate) and is at that limit; retry with back-off", fmtRate(l.rate))
	if hot {
		detail = fmt.Sprintf("the hub is at its connect-rate limit (%s per second, --max-connect-rate) and this device already connected %v ago; devices that have not connected recently go first; retry with back-off",
			fmtRate(l.rate), now.Sub(st.admitted).Round(time.Millisecond))
	}
	return false, detail
}

// remember stores a device's state, within the bound on tracked devices.
func (l *connectLimiter) remember(device string, st admitState, known bool, now time.Time) {
	if !known && len(l.recent) >= maxTracked {
		l.sweep(now)
		if len(l.recent) >= maxTracked {
			return
		}
	}
	l.recent[device] = st
}

// sweep forgets devices whose last admission and refusal are both older
// than the credit horizon.
func (l *connectLimiter) sweep(now time.Time) {
	for id, st := range l.recent {
		t := st.admitted
		if st.refused.After(t) {
			t = st.refused
		}
		if now.Sub(t) > 6*l.window {
			delete(l.recent, id)
		}
	}
}

func fmtRate(r float64) string {
	if r == float64(int64(r)) {
		return fmt.Sprint(int64(r))
	}
	return fmt.Sprintf("%.2f", r)
}

// handshakeSlots bounds the TLS handshakes in progress. A connection
// beyond the bound waits up to wait for a slot, then is closed before TLS.
type handshakeSlots struct {
	slots chan struct{}
	wait  time.Duration
}

func newHandshakeSlots(n int, wait time.Duration) *handshakeSlots {
	if n <= 0 {
		return nil
	}
	return &handshakeSlots{slots: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, waiting at most h.wait; it reports whether it got one.
func (h *handshakeSlots) acquire() bool {
	if h == nil {
		return true
	}
	select {
	case h.slots <- struct{}{}:
		return true
	default:
	}
	if h.wait <= 0 {
		return false
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (h *handshakeSlots) release() {
	if h != nil {
		<-h.slots
	}
}

// inProgress is the number of handshakes holding a slot.
func (h *handshakeSlots) inProgress() int {
	if h == nil {
		return 0
	}
	return len(h.slots)
}
