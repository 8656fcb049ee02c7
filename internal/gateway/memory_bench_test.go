package gateway

// Benchmarks of the gateway's cost per TLS device connection, measured in
// process: an idle connection's memory (heap, goroutine stacks, RSS), the
// CPU of a keep-alive PINGREQ and of a full connect. The devices run in a child process (this test
// binary again, as TestBenchDeviceProcess), so every number is the
// gateway's alone. bench/run.sh and docs/benchmarks.md use them:
//
//	go test ./internal/gateway -run '^$' -bench 'IdleTLSConn|IdlePing|TLSConnect' -benchtime 1x
//
// Each benchmark has two sub-benchmarks: "gateway", the real Gateway with
// in-memory dependencies (every device exists, nothing is stored), and
// "floor", a naive crypto/tls server with one goroutine per connection
// that answers CONNACK and PINGRESP: what Go and crypto/tls cost alone.
//
// Environment:
//
//	TETHER_BENCH_CONNS        idle connections to hold (default 2000)
//	TETHER_BENCH_CONNECTS     connects for BenchmarkTLSConnect (default 2000)
//	TETHER_BENCH_HEAPPROFILE  write an in-use heap profile with the connections
//	                          open to this file (prefixed by the sub-benchmark name)
//	TETHER_BENCH_DEVICE_CPUS  run the device process under taskset -c with this list
//	TETHER_BENCH_CPUPROFILE   profile the CPU during the measured phase to this file
//	                          (prefixed by the sub-benchmark name)
//	TETHER_BENCH_PING_RATE, TETHER_BENCH_PING_SECONDS  BenchmarkIdlePing's load (1000/s, 5 s)
//
// Run it under GODEBUG=adaptivestackstart=0, GOGC or GOMEMLIMIT to see
// their effect; pin it with taskset to compare with the hub process.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

const (
	benchHost = "localhost"
	benchKey  = tether.Secret("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	benchKey2 = tether.Secret("AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=")
)

// The gateway's dependencies, reduced to what CONNECT needs: every device
// exists with benchKey, and nothing is stored.
type benchRegistry struct{}

func (benchRegistry) Device(_ context.Context, id string) (tether.Device, error) {
	return tether.Device{ID: id, Status: tether.StatusEnabled,
		Auth: tether.Authentication{Type: tether.AuthSAS, PrimaryKey: benchKey, SecondaryKey: benchKey2}}, nil
}

func (benchRegistry) Policy(context.Context, string) (tether.Policy, error) {
	return tether.Policy{}, &tether.Error{Kind: tether.KindNotFound, Message: "no such policy"}
}

type benchDeps struct{}

func (benchDeps) Twin(context.Context, string) (tether.Twin, error) {
	return tether.Twin{}, &tether.Error{Kind: tether.KindNotFound, Message: "no twins in the benchmark"}
}

func (benchDeps) UpdateTwin(context.Context, string, func(*tether.Twin) error) (tether.Twin, error) {
	return tether.Twin{}, &tether.Error{Kind: tether.KindNotFound, Message: "no twins in the benchmark"}
}

func (benchDeps) Submit(_ tether.Message, done func(int64, error)) { done(1, nil) }

func (benchDeps) PendingC2D(context.Context, string, time.Time) ([]tether.C2DMessage, error) {
	return nil, nil
}
func (benchDeps) MarkC2DDelivered(context.Context, string, int64) error { return nil }
func (benchDeps) CompleteC2D(context.Context, string, int64) error      { return nil }
func (benchDeps) SetPresence(context.Context, []PresenceUpdate) error   { return nil }
func (benchDeps) C2DSince(_ context.Context, after int64) ([]string, int64, error) {
	return nil, after, nil
}

// benchTLS returns a server config like pki.ServerConfig's, with a fresh
// ECDSA P-256 certificate for localhost, and the certificate's PEM file.
func benchTLS(tb testing.TB) (*tls.Config, string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: benchHost},
		DNSNames: []string{benchHost}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	caFile := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
		},
	}
	return cfg, caFile
}

// benchServer is an MQTT-over-TLS listener in this process.
type benchServer struct {
	addr      string
	connected func() int
	stop      func()
}

// startGateway serves the real gateway on a loopback port.
func startGateway(tb testing.TB, cfg *tls.Config) *benchServer {
	tb.Helper()
	g, err := New(Options{Hostname: benchHost, Registry: benchRegistry{}, Twins: benchDeps{}, Telemetry: benchDeps{},
		C2D: benchDeps{}, Presence: benchDeps{}, PresenceEvery: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); g.Run(ctx) }()
	go func() { defer wg.Done(); g.Serve(ctx, ln, cfg) }()
	return &benchServer{addr: ln.Addr().String(), connected: g.Connected, stop: func() { cancel(); wg.Wait() }}
}

// startFloor serves the naive floor of RESULTS.md: one goroutine per
// connection does the handshake, answers CONNACK without checking the
// token and then blocks in a 1-byte Read, answering PINGREQs.
func startFloor(tb testing.TB, cfg *tls.Config) *benchServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open[nc] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { mu.Lock(); delete(open, nc); mu.Unlock(); nc.Close() }()
				tc := tls.Server(nc, cfg)
				r := bufio.NewReaderSize(tc, 16) // the smallest bufio allows
				if _, _, err := readBenchPacket(r); err != nil {
					return
				}
				if _, err := tc.Write([]byte{0x20, 2, 0, 0}); err != nil {
					return
				}
				n.Add(1)
				defer n.Add(-1)
				for {
					typ, _, err := readBenchPacket(r)
					if err != nil || typ == packets.Disconnect {
						return
					}
					if typ == packets.Pingreq {
						tc.Write([]byte{0xd0, 0})
					}
				}
			}()
		}
	}()
	return &benchServer{addr: ln.Addr().String(), connected: func() int { return int(n.Load()) }, stop: func() {
		ln.Close()
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}}
}

func readBenchPacket(r io.Reader) (byte, []byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, nil, err
	}
	typ := b[0] >> 4
	n, mult := 0, 1
	for i := 0; ; i++ {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n += int(b[0]&127) * mult
		mult *= 128
		if b[0]&128 == 0 {
			break
		}
		if i == 3 {
			return 0, nil, fmt.Errorf("bad length")
		}
	}
	body := make([]byte, n)
	_, err := io.ReadFull(r, body)
	return typ, body, err
}

// deviceProcess is the child process that plays the devices.
type deviceProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startDevices runs the devices: mode "hold" opens n connections and keeps
// them open until stop; mode "connect" connects and disconnects n times.
func startDevices(tb testing.TB, mode, addr, caFile string, n, conc int) *deviceProcess {
	tb.Helper()
	args := []string{os.Args[0], "-test.run=^TestBenchDeviceProcess$", "-test.v=false"}
	if cpus := os.Getenv("TETHER_BENCH_DEVICE_CPUS"); cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "TETHER_BENCH_DEVICES="+strings.Join([]string{mode, addr, caFile, strconv.Itoa(n), strconv.Itoa(conc)}, ","),
		"GODEBUG=", "GOGC=", "GOMEMLIMIT=")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return &deviceProcess{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
}

// wait returns the child's "ready ok failed seconds" line.
func (d *deviceProcess) wait(tb testing.TB) (ok, failed int, secs float64) {
	tb.Helper()
	for d.out.Scan() {
		if f := strings.Fields(d.out.Text()); len(f) == 4 && f[0] == "ready" {
			ok, _ = strconv.Atoi(f[1])
			failed, _ = strconv.Atoi(f[2])
			secs, _ = strconv.ParseFloat(f[3], 64)
			return ok, failed, secs
		}
	}
	tb.Fatalf("the device process ended without reporting: %v", d.out.Err())
	return 0, 0, 0
}

// stop closes the child's stdin (it then closes its connections) and
// waits for it to exit.
func (d *deviceProcess) stop() {
	d.stdin.Close()
	for d.out.Scan() {
	}
	d.cmd.Wait()
}

// TestBenchDeviceProcess is not a test: it is the device side of the
// benchmarks in this file, run in a child process.
func TestBenchDeviceProcess(t *testing.T) {
	spec := os.Getenv("TETHER_BENCH_DEVICES")
	if spec == "" {
		t.Skip("the device process of the benchmarks in memory_bench_test.go")
	}
	f := strings.Split(spec, ",")
	mode, addr, caFile := f[0], f[1], f[2]
	n, _ := strconv.Atoi(f[3])
	conc, _ := strconv.Atoi(f[4])
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	cfg := &tls.Config{ServerName: benchHost, RootCAs: pool, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}
	conns := make([]net.Conn, n)
	var next, ok, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := benchConnect(addr, cfg, i)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				ok.Add(1)
				if mode == "connect" {
					c.Write([]byte{0xe0, 0})
					c.Close()
					continue
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "device process: first error: %v\n", e)
	}
	fmt.Printf("ready %d %d %.3f\n", ok.Load(), failed.Load(), time.Since(start).Seconds())
	if mode == "ping" {
		devicePings(conns, benchEnvInt("TETHER_BENCH_PING_RATE", 1000), benchEnvInt("TETHER_BENCH_PING_SECONDS", 5))
	}
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if c != nil {
			c.Write([]byte{0xe0, 0})
			c.Close()
		}
	}
}

// devicePings sends PINGREQs round-robin over the open connections at
// rate per second for secs seconds, 50 at a time, reading each PINGRESP,
// then reports "ready pings failures seconds".
func devicePings(all []net.Conn, rate, secs int) {
	var conns []net.Conn
	for _, c := range all {
		if c != nil {
			conns = append(conns, c)
		}
	}
	const workers = 50
	var done, failed atomic.Int64
	start := time.Now()
	end := start.Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every := time.Duration(float64(time.Second) * workers / float64(rate))
			var resp [2]byte
			for k, next := w, start; k < len(conns)*1000; k += workers {
				if time.Until(next) > 0 {
					time.Sleep(time.Until(next))
				}
				if time.Now().After(end) {
					return
				}
				next = next.Add(every)
				c := conns[k%len(conns)]
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write([]byte{0xc0, 0}); err != nil {
					failed.Add(1)
					continue
				}
				if _, err := io.ReadFull(c, resp[:]); err != nil || resp[0] != 0xd0 {
					failed.Add(1)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("ready %d %d %.3f\n", done.Load(), failed.Load(), time.Since(start).Seconds())
}

// benchConnect opens a TLS connection as device bdev-i and waits for a
// CONNACK that accepts it.
func benchConnect(addr string, cfg *tls.Config, i int) (net.Conn, error) {
	id := "bdev-" + strconv.Itoa(i)
	tok, err := sas.Sign(sas.ResourceURI(benchHost, id, ""), benchKey, "", time.Now().Add(time.Hour))
	if err != nil {
		return nil, err
	}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: true, Keepalive: 300,
			UsernameFlag: true, Username: []byte(benchHost + "/" + id + "/?api-version=2021-04-12"),
			PasswordFlag: true, Password: []byte(tok.String())}}
	var bb bytes.Buffer
	if err := pk.ConnectEncode(&bb); err != nil {
		return nil, err
	}
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c := tls.Client(nc, cfg)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(bb.Bytes()); err != nil {
		c.Close()
		return nil, err
	}
	var ack [4]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		c.Close()
		return nil, fmt.Errorf("CONNACK: %w", err)
	}
	if ack[0] != 0x20 || ack[3] != 0 {
		c.Close()
		return nil, fmt.Errorf("refused: % x", ack)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// memSnap is the process's memory at one moment.
type memSnap struct {
	ms    runtime.MemStats
	rssKB int64
	gs    int
}

func snapMem() memSnap {
	var s memSnap
	runtime.ReadMemStats(&s.ms)
	s.rssKB = benchVmRSS()
	s.gs = runtime.NumGoroutine()
	return s
}

func benchVmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb
		}
	}
	return 0
}

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var benchServers = []struct {
	name  string
	start func(testing.TB, *tls.Config) *benchServer
}{{"gateway", startGateway}, {"floor", startFloor}}

// BenchmarkIdleTLSConn holds TETHER_BENCH_CONNS idle TLS connections
// (keep-alive 300 s) and reports, per connection: the live heap and the
// goroutine stacks after forced GCs, the same without forcing a GC (the
// state a running hub sits in), the RSS growth of this process, and the
// bytes allocated to set the connection up.
func BenchmarkIdleTLSConn(b *testing.B) {
	n := benchEnvInt("TETHER_BENCH_CONNS", 2000)
	cfg, caFile := benchTLS(b)
	for _, s := range benchServers {
		b.Run(s.name, func(b *testing.B) {
			for range b.N {
				benchIdle(b, s.name, s.start(b, cfg), caFile, n)
			}
		})
	}
}

func benchIdle(b *testing.B, name string, srv *benchServer, caFile string, n int) {
	defer srv.stop()
	profile := os.Getenv("TETHER_BENCH_HEAPPROFILE")
	if profile != "" {
		old := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = old }()
	}
	runtime.GC()
	debug.FreeOSMemory()
	base := snapMem()
	devs := startDevices(b, "hold", srv.addr, caFile, n, 50)
	defer devs.stop()
	ok, failed, secs := devs.wait(b)
	if ok == 0 {
		b.Fatalf("no connection succeeded (%d failed)", failed)
	}
	for deadline := time.Now().Add(30 * time.Second); srv.connected() < ok && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // writer goroutines exit; background GC and scavenger run
	natural := snapMem()
	// A GC shrinks an idle goroutine's stack by half at most, while it
	// uses less than a quarter of it: a few cycles reach the floor.
	for range 4 {
		runtime.GC()
	}
	live := snapMem()
	if profile != "" {
		f, err := os.Create(filepath.Join(filepath.Dir(profile), name+"-"+filepath.Base(profile)))
		if err != nil {
			b.Fatal(err)
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	debug.FreeOSMemory()
	freed := snapMem()
	per := func(a, z uint64) float64 { return (float64(a) - float64(z)) / float64(ok) }
	rss := func(s memSnap) float64 { return float64(s.rssKB-base.rssKB) * 1024 / float64(ok) }
	b.ReportMetric(float64(ok), "conns")
	b.ReportMetric(float64(ok)/secs, "conns/s")
	b.ReportMetric(float64(live.gs-base.gs)/float64(ok), "goroutines/conn")
	b.ReportMetric(per(live.ms.HeapAlloc, base.ms.HeapAlloc), "heap-live-B/conn")
	b.ReportMetric(per(live.ms.StackInuse, base.ms.StackInuse), "stack-B/conn")
	b.ReportMetric(per(natural.ms.StackInuse, base.ms.StackInuse), "stack-noGC-B/conn")
	b.ReportMetric(per(live.ms.HeapInuse, base.ms.HeapInuse), "heap-inuse-B/conn")
	b.ReportMetric(per(natural.ms.HeapInuse, base.ms.HeapInuse), "heap-inuse-noGC-B/conn")
	b.ReportMetric(per(natural.ms.HeapSys-natural.ms.HeapReleased, base.ms.HeapSys-base.ms.HeapReleased), "heap-retained-noGC-B/conn")
	b.ReportMetric(per(natural.ms.Sys-natural.ms.HeapReleased, base.ms.Sys-base.ms.HeapReleased), "sys-noGC-B/conn")
	b.ReportMetric(rss(natural), "rss-noGC-B/conn")
	b.ReportMetric(rss(freed), "rss-freed-B/conn")
	b.ReportMetric(per(live.ms.TotalAlloc, base.ms.TotalAlloc), "alloc-B/conn")
	b.ReportMetric(float64(live.ms.NumGC-base.ms.NumGC), "gcs")
}

// benchCPUProfile profiles this process's CPU to
// $TETHER_BENCH_CPUPROFILE (prefixed by name) until the returned func is
// called; without the variable it does nothing.
func benchCPUProfile(tb testing.TB, name string) func() {
	path := os.Getenv("TETHER_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(filepath.Dir(path), name+"-"+filepath.Base(path)))
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		tb.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// BenchmarkIdlePing holds TETHER_BENCH_CONNS connections and has them
// send TETHER_BENCH_PING_RATE PINGREQs per second in all for
// TETHER_BENCH_PING_SECONDS, and reports this process's CPU time per
// PINGREQ answered: the cost of keeping idle devices alive.
func BenchmarkIdlePing(b *testing.B) {
	n := benchEnvInt("TETHER_BENCH_CONNS", 2000)
	cfg, caFile := benchTLS(b)
	for _, s := range benchServers {
		b.Run(s.name, func(b *testing.B) {
			for range b.N {
				srv := s.start(b, cfg)
				devs := startDevices(b, "ping", srv.addr, caFile, n, 50)
				if ok, failed, _ := devs.wait(b); ok == 0 {
					b.Fatalf("no connection succeeded (%d failed)", failed)
				}
				var ru0, ru1 syscall.Rusage
				var m0, m1 runtime.MemStats
				stopProfile := benchCPUProfile(b, s.name+"-ping")
				runtime.ReadMemStats(&m0)
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
				pings, failed, secs := devs.wait(b)
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
				runtime.ReadMemStats(&m1)
				stopProfile()
				devs.stop()
				srv.stop()
				cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
				b.ReportMetric(float64(pings)/secs, "pings/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(pings), "cpu-us/ping")
				b.ReportMetric(100*cpu.Seconds()/secs, "cpu-%")
				b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(pings), "alloc-B/ping")
				b.ReportMetric(float64(m1.NumGC-m0.NumGC), "gcs")
				b.ReportMetric(float64(failed), "failed")
			}
		})
	}
}

// BenchmarkTLSConnect connects and disconnects TETHER_BENCH_CONNECTS
// devices, 50 at a time, and reports this process's CPU time and
// allocations per connect (a full ECDSA P-256 TLS 1.3 handshake, CONNECT
// with a SAS token, CONNACK, DISCONNECT).
func BenchmarkTLSConnect(b *testing.B) {
	n := benchEnvInt("TETHER_BENCH_CONNECTS", 2000)
	cfg, caFile := benchTLS(b)
	for _, s := range benchServers {
		b.Run(s.name, func(b *testing.B) {
			for range b.N {
				srv := s.start(b, cfg)
				var ru0, ru1 syscall.Rusage
				var m0, m1 runtime.MemStats
				stopProfile := benchCPUProfile(b, s.name+"-connect")
				runtime.ReadMemStats(&m0)
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
				devs := startDevices(b, "connect", srv.addr, caFile, n, 50)
				ok, failed, secs := devs.wait(b)
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
				runtime.ReadMemStats(&m1)
				stopProfile()
				devs.stop()
				srv.stop()
				if ok == 0 {
					b.Fatalf("no connect succeeded (%d failed)", failed)
				}
				cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) + 0
				b.ReportMetric(float64(ok)/secs, "connects/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(ok), "cpu-us/connect")
				b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(ok), "alloc-B/connect")
				b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(ok), "allocs/connect")
				b.ReportMetric(float64(failed), "failed")
			}
		})
	}
}
