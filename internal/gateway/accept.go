package gateway

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// acceptRetryable reports whether an Accept error is a passing condition
// the listener survives: a timeout, a connection aborted before it was
// accepted, or running out of file descriptors (EMFILE, ENFILE) or
// memory in a connect storm. The hub keeps serving the devices it has.
func acceptRetryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// acceptFailed waits a little before the next Accept, and logs the
// failure at most once a second.
func (g *Gateway) acceptFailed(err error) {
	now := time.Now().UnixNano()
	if last := g.acceptLogged.Load(); now-last > int64(time.Second) && g.acceptLogged.CompareAndSwap(last, now) {
		g.log.Warn("accepting MQTT connections failed; retrying (raise ulimit -n if this is 'too many open files')", "err", err)
	}
	time.Sleep(10 * time.Millisecond)
}
