package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-iot/tether"
)

// Gateway accepts device connections. Lock order: Gateway.mu before
// conn.mu; Gateway.mmu is never held with either.
type Gateway struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session // by client id (deviceId or deviceId/moduleId)
	conns    map[*conn]struct{}  // every open connection, for shutdown
	closing  bool

	mmu     sync.Mutex
	methods map[string]*methodCall // pending direct methods by request id
	nextRID atomic.Uint64

	connected atomic.Int64
	nextConn  atomic.Uint64
	wg        sync.WaitGroup // connection goroutines

	presence presenceQueue

	limiter *connectLimiter // nil: no connect-rate limit
	slots   *handshakeSlots // nil: no handshake limit
	bans    *banList        // nil: no bans
	refused [3]atomic.Int64 // by admission refusal: rate, handshakes, banned

	acceptLogged atomic.Int64 // unix nanos of the last logged Accept failure
}

// session is a device's state across connections: its subscriptions
// survive a reconnect when the device asked for a persistent session.
type session struct {
	conn    *conn // the current connection, or nil
	subs    subscription
	persist bool            // CleanSession=0: stored so that it survives a restart
	waiters []chan struct{} // method callers waiting for the device to connect
}

// New returns a Gateway.
func New(o Options) (*Gateway, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	return &Gateway{o: o, log: o.Logger, sessions: map[string]*session{}, conns: map[*conn]struct{}{},
		methods: map[string]*methodCall{},
		limiter: newConnectLimiter(o.ConnectRate, o.ConnectBurst, o.Now()),
		slots:   newHandshakeSlots(o.MaxHandshakes, o.HandshakeWait),
		bans:    newBanList(o.AuthBanThreshold, o.AuthBanIPThreshold, o.AuthBanWindow, o.AuthBanDuration),
	}, nil
}

// Connected is the number of connected devices.
func (g *Gateway) Connected() int { return int(g.connected.Load()) }

// Run writes presence updates until ctx ends, then closes every
// connection with reason server_shutdown and waits for them.
func (g *Gateway) Run(ctx context.Context) error {
	t := time.NewTicker(presenceFlushEvery)
	defer t.Stop()
	activity := time.NewTicker(g.o.PresenceEvery)
	defer activity.Stop()
	poll := time.NewTicker(g.o.C2DPollEvery)
	defer poll.Stop()
	_, seen, err := g.o.C2D.C2DSince(ctx, 0)
	if err != nil {
		g.log.Error("read the C2D queue", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			g.shutdown()
			g.flushPresence(context.Background())
			return nil
		case <-t.C:
			g.flushPresence(ctx)
		case <-activity.C:
			g.queueActivity()
		case <-poll.C:
			seen = g.pollC2D(ctx, seen)
		}
	}
}

func (g *Gateway) shutdown() {
	g.mu.Lock()
	g.closing = true
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.close(tether.ReasonServerShutdown, "the hub is shutting down")
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		g.log.Warn("connections still open 10s after shutdown")
	}
}

// Serve accepts MQTT over TLS connections on ln until it is closed or ctx
// ends. ln is a plain TCP listener; the gateway does the TLS handshake
// within the CONNECT timeout.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if acceptRetryable(err) {
				g.acceptFailed(err)
				continue
			}
			return fmt.Errorf("mqtt accept: %w", err)
		}
		if !g.track(nil) {
			nc.Close()
			continue
		}
		g.wg.Add(1)
		go g.handshake(nc, cfg)
	}
}

// track reports whether the gateway still takes connections, adding c to
// the open set when it is not nil.
func (g *Gateway) track(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	if c != nil {
		g.conns[c] = struct{}{}
	}
	return true
}

// handshake completes TLS and CONNECT within the CONNECT timeout, then
// hands the connection to a fresh goroutine, so that the stack grown by
// the handshake and the authentication is freed while the device idles.
func (g *Gateway) handshake(nc net.Conn, cfg *tls.Config) {
	defer g.wg.Done()
	start := g.o.Now()
	if !g.slots.acquire() {
		g.refused[refusedHandshakes].Add(1)
		g.emit(tether.ConnectionEvent{Kind: tether.EventConnectFailed, Time: g.o.Now(), ConnectionID: g.newConnID(),
			Protocol: tether.ProtocolMQTT, RemoteAddr: nc.RemoteAddr().String(), Reason: tether.ReasonThrottled, Code: tether.ThrottlingBacklogTimeout,
			Detail: fmt.Sprintf("closed before TLS: %d TLS handshakes were already in progress (--max-handshakes) and none finished within %v; retry with back-off",
				cap(g.slots.slots), g.slots.wait)})
		nc.Close()
		return
	}
	tc := tls.Server(nc, cfg)
	tc.SetDeadline(start.Add(g.o.ConnectTimeout))
	err := tc.Handshake()
	g.slots.release()
	if err != nil {
		reason, detail := tether.ReasonTLSError, "TLS handshake failed: "+err.Error()+tlsHint(err)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			reason, detail = tether.ReasonConnectTimeout, fmt.Sprintf("TLS handshake not completed within %v", g.o.ConnectTimeout)
		}
		g.emit(tether.ConnectionEvent{Kind: tether.EventConnectFailed, Time: g.o.Now(), ConnectionID: g.newConnID(),
			Protocol: tether.ProtocolMQTT, RemoteAddr: nc.RemoteAddr().String(), Reason: reason, Code: reason.Code(), Detail: detail})
		nc.Close()
		return
	}
	st := tc.ConnectionState()
	c := g.newConn(tc, tether.ProtocolMQTT, start)
	c.tlsVersion, c.cipher = tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)
	c.raw = parkable(nc)
	if !c.start() {
		return
	}
	g.wg.Add(1)
	if c.raw != nil && !c.buffered() {
		go c.park()
		return
	}
	go func() {
		defer g.wg.Done()
		c.loop()
	}()
}

func (g *Gateway) newConnID() string {
	return strconv.FormatUint(g.nextConn.Add(1), 36) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
}

func (g *Gateway) emit(ev tether.ConnectionEvent) {
	if g.o.Events != nil {
		g.o.Events(ev)
		return
	}
	g.log.Debug("connection event", "kind", ev.Kind.String(), "device", ev.DeviceID, "reason", ev.Reason, "code", int(ev.Code), "detail", ev.Detail)
}

func tlsVersionName(v uint16) string { return tls.VersionName(v) }
func tlsCipherName(s uint16) string  { return tls.CipherSuiteName(s) }

// servePlain serves an already-established connection (tests use
// net.Pipe) until it ends.
func (g *Gateway) servePlain(nc net.Conn) {
	c := g.newConn(nc, tether.ProtocolMQTT, g.o.Now())
	g.wg.Add(1)
	defer g.wg.Done()
	c.serve()
}

// pollC2D wakes the connected devices that have messages queued after
// seq seen, and returns the newest seq.
func (g *Gateway) pollC2D(ctx context.Context, seen int64) int64 {
	devices, last, err := g.o.C2D.C2DSince(ctx, seen)
	if err != nil {
		g.log.Error("poll the C2D queue", "err", err)
		return seen
	}
	for _, d := range devices {
		g.NotifyC2D(d)
	}
	return last
}

// tlsHint explains the handshake failures that usually mean the client
// does not trust the hub's certificate.
func tlsHint(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, io.EOF), strings.Contains(msg, "bad record MAC"), strings.Contains(msg, "unknown certificate"),
		strings.Contains(msg, "bad certificate"), strings.Contains(msg, "certificate unknown"):
		return " (the client gave up during the handshake: most often it does not trust the hub's certificate; give it DATA/tls/ca.pem, and check that the host name it dials is covered by --hostname)"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return " (the client speaks plain MQTT or another protocol: this port is MQTT over TLS)"
	case strings.Contains(msg, "no cipher suite") || strings.Contains(msg, "protocol version"):
		return " (the client offers only TLS versions or cipher suites the hub does not accept: TLS 1.2+ with ECDHE and AES-GCM or ChaCha20)"
	}
	return ""
}
