package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// conn is one device connection. Fields set before serve's loop starts
// are read-only afterwards; mu guards the mutable rest.
type conn struct {
	g          *Gateway
	nc         net.Conn
	connID     string
	proto      tether.Protocol
	remote     string
	opened     time.Time
	tlsVersion string
	cipher     string

	// Set by CONNECT.
	id          identity
	clientID    string
	authScope   string
	keyName     string
	keepAlive   time.Duration
	idle        time.Duration
	connectedAt time.Time
	tokenExpiry time.Time
	expiry      *time.Timer
	will        *packets.Packet
	sess        *session
	bucket      tokenBucket

	lastActivity atomic.Int64 // unix nanos
	bytesIn      atomic.Int64
	bytesOut     atomic.Int64
	msgsIn       atomic.Int64
	msgsOut      atomic.Int64

	// raw, when set, is the TCP socket under TLS: an idle connection waits
	// for it to become readable on a goroutine of minimal stack (park).
	raw     syscall.RawConn
	peek    [1]byte // a byte read by buffered, not yet consumed
	hasPeek bool
	peekErr error // an error met by buffered, for the next read

	closed atomic.Bool
	mu     sync.Mutex
	reason tether.Reason
	detail string
	// outbound queue, written by a writer goroutine that exists only while
	// the queue is not empty
	out     []byte
	writing bool
	// cloud-to-device messages sent and not yet acknowledged, by packet id
	inflight map[uint16]int64
	nextPID  uint16
}

func (g *Gateway) newConn(nc net.Conn, proto tether.Protocol, opened time.Time) *conn {
	return &conn{g: g, nc: nc, connID: g.newConnID(), proto: proto, remote: nc.RemoteAddr().String(), opened: opened}
}

// close ends the connection with a reason; the first reason wins. It
// returns at once: the read loop notices the closed socket and cleans up.
func (c *conn) close(reason tether.Reason, detail string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason, c.detail = reason, detail
	}
	c.mu.Unlock()
	if c.closed.CompareAndSwap(false, true) {
		c.nc.Close()
	}
}

// serve runs the connection: CONNECT, then packets until it ends.
func (c *conn) serve() {
	if c.start() {
		c.loop()
	}
}

// start tracks the connection and handles CONNECT. It reports whether the
// device is connected; if not, the connection is closed and forgotten.
func (c *conn) start() bool {
	if !c.g.track(c) {
		c.nc.Close()
		return false
	}
	if !c.connect() {
		c.nc.Close()
		c.g.untrack(c)
		return false
	}
	return true
}

// loop reads packets until the connection ends. It runs on a goroutine of
// its own, started after CONNECT: the deep stack that the TLS handshake,
// the registry lookup and the signature check grew stays with the
// goroutine that did them, and an idle device costs only this one's.
func (c *conn) loop() {
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.idle))
		err := c.readPacket(c.handle)
		if err != nil {
			c.readFailed(err)
			break
		}
		if c.raw != nil && !c.buffered() {
			c.g.wg.Add(1)
			go c.park()
			return
		}
	}
	c.end()
}

// end cleans up after the connection's last read.
func (c *conn) end() {
	c.finish()
	c.g.untrack(c)
}

// buffered reports whether a packet may be waiting in crypto/tls or the
// socket. It tries to read one byte with a deadline that has passed: a
// byte is kept for the next read; a timeout (which crypto/tls does not
// treat as fatal) means nothing is waiting; another error is kept for the
// next read.
func (c *conn) buffered() bool {
	c.nc.SetReadDeadline(time.Now())
	n, err := c.nc.Read(c.peek[:])
	if n == 1 {
		c.hasPeek = true
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	c.peekErr = err
	return true
}

// park waits for the socket to become readable, or for the keep-alive
// deadline, on a fresh goroutine: its stack stays at the minimum while
// the device is idle, where a goroutine blocked inside crypto/tls's Read
// keeps the larger stack that the read path needs. When data arrives the
// same goroutine reads on (loop).
func (c *conn) park() {
	defer c.g.wg.Done()
	c.nc.SetReadDeadline(c.lastActive().Add(c.idle))
	// Ask the socket itself: RawConn.Read forgets a readiness that came
	// before it was called, so waiting without looking could miss data
	// that arrived since buffered looked.
	err := c.raw.Read(socketReadable)
	if err != nil {
		c.readFailed(err)
		c.end()
		return
	}
	c.loop()
}

// Read reads from the connection, first the byte buffered kept.
func (c *conn) Read(p []byte) (int, error) {
	if c.hasPeek && len(p) > 0 {
		p[0], c.hasPeek = c.peek[0], false
		return 1, nil
	}
	if err := c.peekErr; err != nil {
		c.peekErr = nil
		return 0, err
	}
	return c.nc.Read(p)
}

// errClientDisconnect ends the read loop after a DISCONNECT.
var errClientDisconnect = errors.New("client disconnect")

// protocolError ends the connection with a reason and a detail.
type protocolError struct {
	reason tether.Reason
	detail string
}

func (e *protocolError) Error() string { return e.detail }

func protoErr(reason tether.Reason, format string, args ...any) error {
	return &protocolError{reason: reason, detail: fmt.Sprintf(format, args...)}
}

// readFailed turns the error that ended the read loop into a reason,
// unless the hub had already chosen one.
func (c *conn) readFailed(err error) {
	var pe *protocolError
	var ne net.Error
	switch {
	case errors.Is(err, errClientDisconnect):
		c.close(tether.ReasonClientDisconnect, "the device sent DISCONNECT")
	case errors.As(err, &pe):
		c.close(pe.reason, pe.detail)
	case c.closed.Load():
		c.close(tether.ReasonServerError, "closed") // the reason set by whoever closed it wins
	case errors.As(err, &ne) && ne.Timeout():
		last := time.Unix(0, c.lastActivity.Load())
		c.close(tether.ReasonKeepAliveTimeout, fmt.Sprintf("no packet for %v (1.5 × keep-alive %v, capped at 1767s); last activity at %s",
			c.idle, c.keepAlive, last.UTC().Format(time.RFC3339)))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		c.close(tether.ReasonConnectionLost, "the device closed the connection without DISCONNECT (EOF)")
	case errors.Is(err, syscall.ECONNRESET):
		c.close(tether.ReasonConnectionLost, "connection reset by the device or the network (TCP RST)")
	default:
		c.close(tether.ReasonConnectionLost, "read failed: "+netErrText(err))
	}
}

// maxPacket is the largest packet the hub reads: a 256 KB message plus
// room for its topic.
const maxPacket = tether.MaxTelemetryBytes + 16*1024

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readPacket reads one packet into a pooled buffer, decodes it and calls
// handle; the buffer is reused afterwards, so handle copies what it keeps.
func (c *conn) readPacket(handle func(*packets.Packet, []byte) error) error {
	var hdr [1]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(hdr[0]); err != nil {
		return protoErr(tether.ReasonProtocolError, "malformed fixed header 0x%02x: %v", hdr[0], err)
	}
	n, err := c.readLength()
	if err != nil {
		return err
	}
	if n > maxPacket {
		return protoErr(tether.ReasonMessageTooLarge, "a %s packet of %d bytes is over the limit of %d (messages are limited to %d bytes)",
			packets.PacketNames[fh.Type], n, maxPacket, tether.MaxTelemetryBytes)
	}
	fh.Remaining = n
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64*1024 {
			bufPool.Put(bp)
		}
	}()
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	buf := (*bp)[:n]
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	c.bytesIn.Add(int64(n + 2))
	c.lastActivity.Store(time.Now().UnixNano())
	pk := packets.Packet{FixedHeader: fh, ProtocolVersion: 4}
	return handle(&pk, buf)
}

// readLength reads the remaining-length varint.
func (c *conn) readLength() (int, error) {
	var b [1]byte
	n, mult := 0, 1
	for i := 0; i < 4; i++ {
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return 0, err
		}
		n += int(b[0]&127) * mult
		if b[0]&128 == 0 {
			return n, nil
		}
		mult *= 128
	}
	return 0, protoErr(tether.ReasonProtocolError, "malformed remaining length (more than 4 bytes)")
}

// send queues an encoded packet and makes sure a writer runs.
func (c *conn) send(b []byte) {
	c.mu.Lock()
	if len(c.out)+len(b) > maxOutbound {
		c.mu.Unlock()
		c.close(tether.ReasonConnectionLost, fmt.Sprintf("the device is not reading: over %d bytes waiting to be sent", maxOutbound))
		return
	}
	c.out = append(c.out, b...)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	c.msgsOut.Add(1)
	if start {
		go c.flush()
	}
}

// flush writes the queue until it is empty, coalescing packets queued
// meanwhile into one write.
func (c *conn) flush() {
	var buf []byte
	for {
		c.mu.Lock()
		if len(c.out) == 0 {
			c.writing = false
			c.out = nil // an idle connection keeps no buffer
			c.mu.Unlock()
			return
		}
		buf, c.out = c.out, buf[:0]
		c.mu.Unlock()
		c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(buf); err != nil {
			c.close(tether.ReasonConnectionLost, "write failed: "+netErrText(err))
			c.mu.Lock()
			c.writing, c.out = false, nil
			c.mu.Unlock()
			return
		}
		c.bytesOut.Add(int64(len(buf)))
	}
}

var encPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// sendPacket encodes pk with enc and queues it.
func (c *conn) sendPacket(pk *packets.Packet, enc func(*packets.Packet, *bytes.Buffer) error) {
	b := encPool.Get().(*bytes.Buffer)
	b.Reset()
	if err := enc(pk, b); err != nil {
		c.g.log.Error("encode packet", "type", packets.PacketNames[pk.FixedHeader.Type], "err", err)
	} else {
		c.send(b.Bytes())
	}
	if b.Cap() <= 64*1024 {
		encPool.Put(b)
	}
}

// netErrText is an error's text without the socket addresses that
// net.OpError adds: diagnostic records carry only masked addresses.
func netErrText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}
