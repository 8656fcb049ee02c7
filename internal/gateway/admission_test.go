package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestConnectRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	h := newTestHub(t, func(o *Options) { o.ConnectRate, o.ConnectBurst, o.Now = 1, 1, clock.Now })
	k1 := h.device(t, "d1", tether.StatusEnabled)
	h.device(t, "d2", tether.StatusEnabled)
	h.connect(t, "d1", k1, true)
	c := h.dial(t)
	c.write(connectPacket("d2", token(t, testHost+"/devices/d2", k1, "", time.Now().Add(time.Hour)), true, 60))
	if ack := c.expect(packets.Connack); ack.ReasonCode != connUnavailable {
		t.Fatalf("CONNACK %d over the connect rate, want 3 (server unavailable)", ack.ReasonCode)
	}
	c.expectClosed()
	ev := h.waitEvent(t, "throttled connect", func(ev tether.ConnectionEvent) bool {
		return ev.Kind == tether.EventConnectFailed && ev.DeviceID == "d2"
	})
	if ev.Reason != tether.ReasonThrottled || ev.Code != tether.ThrottlingException || !strings.Contains(ev.Detail, "--max-connect-rate") {
		t.Errorf("refused connect logged as %s %v %q, want throttled 429001 naming --max-connect-rate", ev.Reason, ev.Code, ev.Detail)
	}
	if got := h.g.Admission(clock.Now()).RefusedRate; got != 1 {
		t.Errorf("RefusedRate = %d, want 1", got)
	}
	clock.Add(time.Second) // one token refills; d2 holds a retry credit
	h.connect(t, "d2", k1, true)
}

// TestConnectFairness measures who gets in when a hot device (two clones
// taking the session from each other, reconnecting every 5 ms) competes
// with 200 devices that retry with jittered exponential back-off, at a
// limit of 50 connects per second, on a simulated clock. With a plain
// token bucket the hot device takes nearly every token; with the fair
// limiter the other devices get in as fast as they would without it.
func TestConnectFairness(t *testing.T) {
	alone := simulateStorm(true, false)
	plain := simulateStorm(false, true)
	fair := simulateStorm(true, true)
	for _, r := range []struct {
		name string
		stormResult
	}{{"fair, no hot device", alone}, {"plain bucket, hot device", plain}, {"fair, hot device", fair}} {
		t.Logf("%-26s cold devices in %3d/200, median %v, last %v; hot device admitted %d times while others waited", r.name, r.in, r.median, r.last, r.hot)
	}
	if plain.in == 200 {
		t.Errorf("the plain bucket let every cold device in: the scenario does not show starvation")
	}
	if fair.in != 200 || fair.last > alone.last+2*time.Second || fair.median > alone.median+time.Second {
		t.Errorf("fair limiter with a hot device: %d/200 in, median %v, last %v; without the hot device median %v, last %v",
			fair.in, fair.median, fair.last, alone.median, alone.last)
	}
}

type stormResult struct {
	in, hot      int // hot: admissions while a cold device still waited
	median, last time.Duration
}

func simulateStorm(fair, withHot bool) stormResult {
	start := time.Unix(1_700_000_000, 0)
	l := newConnectLimiter(50, 50, start)
	l.tokens = 0 // the storm begins with an empty bucket
	if !fair {
		l.reserve, l.window = 0, 0 // no credit, no heat: a plain token bucket
	}
	const cold = 200
	next := make([]time.Time, cold)
	attempt := make([]int, cold)
	in := make([]time.Duration, 0, cold)
	done := make([]bool, cold)
	rngs := make([]*rand.Rand, cold) // one per device: the same draws in every scenario
	for i := range next {
		rngs[i] = rand.New(rand.NewPCG(uint64(i), 2))
		next[i] = start.Add(time.Duration(rngs[i].Int64N(int64(time.Second))))
	}
	var r stormResult
	for now := start; now.Before(start.Add(60 * time.Second)); now = now.Add(5 * time.Millisecond) {
		if withHot {
			if ok, _ := l.allow("hot", now); ok && len(in) < cold {
				r.hot++ // counted while some device still waits
			}
		}
		for i := range next {
			if done[i] || now.Before(next[i]) {
				continue
			}
			if ok, _ := l.allow("cold-"+strconv.Itoa(i), now); ok {
				done[i] = true
				in = append(in, now.Sub(start))
				continue
			}
			attempt[i]++
			ceil := min(time.Second<<min(attempt[i], 5), 30*time.Second)
			next[i] = now.Add(time.Duration(rngs[i].Int64N(int64(ceil)))) // full jitter
		}
	}
	r.in = len(in)
	if len(in) > 0 {
		r.median, r.last = in[len(in)/2], in[len(in)-1]
	}
	return r
}

func TestConnectLimiterBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newConnectLimiter(1, 1, now)
	for i := 0; i < maxTracked+10; i++ {
		l.allow("d"+strconv.Itoa(i), now)
	}
	if len(l.recent) > maxTracked {
		t.Fatalf("limiter tracks %d devices, bound %d", len(l.recent), maxTracked)
	}
	l.allow("late", now.Add(time.Hour)) // a sweep frees the old entries
	if len(l.recent) != 1 {
		t.Fatalf("after an hour the limiter still tracks %d devices, want 1", len(l.recent))
	}
}

// TestHandshakeLimit holds the only handshake slot with a client that
// sends nothing; the next connection is closed before TLS and logged.
func TestHandshakeLimit(t *testing.T) {
	cfg, _ := benchTLS(t)
	h := newTestHub(t, func(o *Options) {
		o.MaxHandshakes, o.HandshakeWait, o.ConnectTimeout = 1, 50*time.Millisecond, 2*time.Second
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.g.Serve(ctx, ln, cfg); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	deadline := time.Now().Add(5 * time.Second)
	for h.g.Admission(time.Now()).Handshakes != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	second, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := second.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the second connection got %d bytes, want it closed before TLS", n)
	}
	ev := h.waitEvent(t, "handshake refusal", func(ev tether.ConnectionEvent) bool {
		return ev.Kind == tether.EventConnectFailed && ev.Reason == tether.ReasonThrottled
	})
	if ev.Code != tether.ThrottlingBacklogTimeout || !strings.Contains(ev.Detail, "--max-handshakes") {
		t.Errorf("closed before TLS logged as %v %q, want 429003 naming --max-handshakes", ev.Code, ev.Detail)
	}
	// The silent client is cut off at the connect timeout, freeing the slot.
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Fatal("the silent client was not cut off")
	}
	h.waitEvent(t, "TLS timeout", func(ev tether.ConnectionEvent) bool { return ev.Reason == tether.ReasonConnectTimeout })
	if n := h.g.Admission(time.Now()).Handshakes; n != 0 {
		t.Errorf("%d handshakes in progress after the timeout, want 0", n)
	}
}

// TestTLSPolicy offers the MQTT listener old protocol versions and weak
// suites: every one is refused, TLS 1.2 with ECDHE+AES-GCM and TLS 1.3
// are accepted.
func TestTLSPolicy(t *testing.T) {
	cfg, caFile := benchTLS(t)
	h := newTestHub(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.g.Serve(ctx, ln, cfg); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	TLSPolicyCheck(t, ln.Addr().String(), benchHost, caFile)
}

// TLSPolicyCheck dials addr with clients that offer TLS 1.0/1.1, CBC and
// RSA key-exchange suites (all must fail) and with TLS 1.2 and 1.3 (must
// succeed).
func TLSPolicyCheck(t *testing.T, addr, host, caFile string) {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for _, tc := range []struct {
		name   string
		min    uint16
		max    uint16
		suites []uint16
		ok     bool
	}{
		{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, nil, false},
		{"TLS 1.1", tls.VersionTLS11, tls.VersionTLS11, nil, false},
		{"TLS 1.2 CBC only", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}, false},
		{"TLS 1.2 RSA key exchange", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384}, false},
		{"TLS 1.2 3DES", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}, false},
		{"TLS 1.2 ECDHE AES-GCM", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, true},
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			c := tls.Client(nc, &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tc.min, MaxVersion: tc.max, CipherSuites: tc.suites})
			c.SetDeadline(time.Now().Add(5 * time.Second))
			err = c.Handshake()
			if tc.ok && err != nil {
				t.Errorf("handshake refused: %v", err)
			}
			if !tc.ok && err == nil {
				st := c.ConnectionState()
				t.Errorf("handshake accepted %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
			}
		})
	}
}

func TestAcceptRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}, true},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ENFILE)}, true},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}, true},
		{net.ErrClosed, false},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EINVAL)}, false},
	} {
		if got := acceptRetryable(tc.err); got != tc.want {
			t.Errorf("acceptRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
