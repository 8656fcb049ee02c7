package device_test

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubtest"
)

// silentConn swallows writes and stalls reads once silenced: a dead NAT
// mapping, as the device sees it.
type silentConn struct {
	net.Conn
	silent *atomic.Bool
	closed chan struct{}
}

func (c *silentConn) Write(b []byte) (int, error) {
	if c.silent.Load() {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *silentConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if c.silent.Load() {
		<-c.closed
		return 0, errors.New("test: silenced connection closed")
	}
	return n, err
}

func (c *silentConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return c.Conn.Close()
}

// TestKeepAliveDetectsSilence: when the path goes silent, the missing
// PINGRESP ends the connection on the device side within about two
// keep-alive periods, and the client reconnects.
func TestKeepAliveDetectsSilence(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.KeepAlive = time.Second
	var silent atomic.Bool
	o.WrapConn = func(c net.Conn) net.Conn {
		silent.Store(false) // a new connection works again
		return &silentConn{Conn: c, silent: &silent, closed: make(chan struct{})}
	}
	st := newStates()
	o.OnConnectionState = st.record
	mustOpen(t, o)
	st.next(t, 5*time.Second, "connected", func(cs device.ConnectionState) bool { return cs.Status == device.Connected })
	start := time.Now()
	silent.Store(true)
	lost := st.next(t, 8*time.Second, "disconnected", func(cs device.ConnectionState) bool { return cs.Status == device.Disconnected })
	if lost.Err == nil || lost.Err.Code != tether.DeviceConnectionClosedRemotely {
		t.Errorf("lost: %s, want 404104", lost.Explain())
	}
	t.Logf("silence noticed after %v", time.Since(start).Round(time.Millisecond))
	st.next(t, 5*time.Second, "reconnected", func(cs device.ConnectionState) bool { return cs.Status == device.Connected })
}
