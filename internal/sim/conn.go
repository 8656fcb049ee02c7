package sim

import (
	"errors"
	"net"
	"sync"
)

// errAborted is what a read returns after a fault closed the connection.
// It must not be net.ErrClosed: the MQTT client takes that for a close it
// asked for and would not notice the loss.
var errAborted = errors.New("sim: connection aborted by fault injection")

// faultConn wraps a device's connection so that a fault can cut it
// (abrupt close) or make it silent (nothing read or written, the socket
// kept open).
type faultConn struct {
	net.Conn
	mu      sync.Mutex
	silent  bool
	aborted bool
	closed  bool
	release chan struct{} // closed by Close: unblocks a silenced Read
}

func newFaultConn(c net.Conn) *faultConn {
	return &faultConn{Conn: c, release: make(chan struct{})}
}

func (c *faultConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	silent := c.silent
	c.mu.Unlock()
	if silent {
		<-c.release
		return 0, errAborted
	}
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	silent, aborted := c.silent, c.aborted
	c.mu.Unlock()
	if silent { // went silent while reading: drop what arrived
		<-c.release
		return 0, errAborted
	}
	if err != nil && aborted {
		return n, errAborted
	}
	return n, err
}

func (c *faultConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	silent := c.silent
	c.mu.Unlock()
	if silent {
		return len(b), nil // swallowed: the hub hears nothing
	}
	return c.Conn.Write(b)
}

func (c *faultConn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.release)
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// silence stops all traffic; the socket stays open. It reports whether
// the connection was open and not yet silent.
func (c *faultConn) silence() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.silent {
		return false
	}
	c.silent = true
	return true
}

// abort closes the socket at once: for TLS, the raw connection goes
// without a close_notify, like a pulled cable or a crash. It reports
// whether the connection was still open.
func (c *faultConn) abort() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed, c.aborted = true, true
	close(c.release)
	c.mu.Unlock()
	if tc, ok := c.Conn.(interface{ NetConn() net.Conn }); ok {
		tc.NetConn().Close()
	}
	c.Conn.Close()
	return true
}
