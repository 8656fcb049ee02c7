package gateway

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

// TestSlowConnect: a client that sends half a CONNECT, or half a TLS
// ClientHello, and then stalls is cut off at the connect timeout and
// logged as connect_timeout.
func TestSlowConnect(t *testing.T) {
	cfg, _ := benchTLS(t)
	h := newTestHub(t, func(o *Options) { o.ConnectTimeout = 300 * time.Millisecond })
	h.device(t, "d1", tether.StatusEnabled)

	t.Run("partial CONNECT", func(t *testing.T) {
		c := h.dial(t)
		var b bytes.Buffer
		connectPacket("d1", "SharedAccessSignature sr=x&sig=y&se=1", true, 60).ConnectEncode(&b)
		c.writeRaw(b.Bytes()[:b.Len()/2])
		c.expectClosed()
		ev := h.waitEvent(t, "partial CONNECT", func(ev tether.ConnectionEvent) bool { return ev.Reason == tether.ReasonConnectTimeout })
		if ev.Code != tether.GenericTimeout || !strings.Contains(ev.Detail, "no CONNECT within") {
			t.Errorf("partial CONNECT logged as %v %q", ev.Code, ev.Detail)
		}
	})
	t.Run("partial TLS handshake", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.g.Serve(ctx, ln, cfg); close(done) }()
		defer func() { cancel(); <-done }()
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}) // a TLS record header promising 512 bytes, then silence
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Read(make([]byte, 64)); err == nil {
			t.Fatal("the server answered half a ClientHello")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the stalled handshake was not cut off")
		}
		ev := h.waitEvent(t, "TLS timeout", func(ev tether.ConnectionEvent) bool {
			return ev.Reason == tether.ReasonConnectTimeout && strings.Contains(ev.Detail, "TLS handshake")
		})
		if ev.Code != tether.GenericTimeout {
			t.Errorf("stalled handshake logged with %v", ev.Code)
		}
	})
}
