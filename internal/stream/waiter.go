package stream

import (
	"sync"

	"github.com/tether-iot/tether"
)

// waiter is one queued append: an Append blocked on ready, or a Submit's
// callback. Waiters are pooled; an Append makes a new ready channel each
// time (a channel belongs to the synctest bubble that made it, so a pooled
// one could not be shared between tests).
type waiter struct {
	msg  tether.Message
	done func(seq int64, err error) // Submit's callback; nil for Append
	// ready, Append's, gets one value when seq and err are set (capacity
	// 1, so the writer never blocks on it).
	ready chan struct{}
	seq   int64
	err   error
	// Guarded by Stream.mu.
	taken     bool // the writer has it
	cancelled bool // Append gave up on it before the writer took it
}

var waiters = sync.Pool{New: func() any { return new(waiter) }}

func getWaiter() *waiter { return waiters.Get().(*waiter) }

// putWaiter returns w to the pool. Only w's last user may call it.
func putWaiter(w *waiter) {
	*w = waiter{}
	waiters.Put(w)
}

// result returns an Append's outcome and recycles w.
func (w *waiter) result() (int64, error) {
	seq, err := w.seq, w.err
	putWaiter(w)
	return seq, err
}
