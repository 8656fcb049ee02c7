package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProc is a tether serve process.
type serveProc struct {
	cmd    *exec.Cmd
	https  string
	mqtt   string
	log    *syncBuffer
	exited chan error
	pool   *x509.CertPool
	http   *http.Client
}

// cleanEnv is the environment without TETHER_ settings, which would
// change what serve does.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TETHER_") {
			env = append(env, kv)
		}
	}
	return env
}

// startServe runs tether serve on free loopback ports in dir and waits
// until it is healthy. It is stopped with SIGTERM when the test ends,
// unless it has exited.
func startServe(t *testing.T, bin, dir string, extra ...string) *serveProc {
	t.Helper()
	p := &serveProc{https: freeAddr(t), mqtt: freeAddr(t), log: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"serve", "--data", dir, "--hostname", "localhost", "--https-addr", p.https, "--mqtt-addr", p.mqtt}, extra...)...)
	p.cmd.Env = cleanEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start tether serve: %v", err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState != nil {
			return
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			t.Errorf("tether serve did not stop within 20s of SIGTERM")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("tether serve exited early (%v); log:\n%s", err, p.log)
		default:
		}
		if p.http == nil {
			if pem, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem")); err == nil {
				pool := x509.NewCertPool()
				if pool.AppendCertsFromPEM(pem) {
					p.pool = pool
					tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
					t.Cleanup(tr.CloseIdleConnections)
					p.http = &http.Client{Timeout: 10 * time.Second, Transport: tr}
				}
			}
		}
		if p.http != nil {
			if resp, err := p.http.Get("https://" + p.https + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tether serve not healthy within 30s; log:\n%s", p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill SIGKILLs the process and waits for it.
func (p *serveProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("tether serve still running 10s after SIGKILL")
	}
}

// apiClient is an iothubowner client of the hub, from tether hub
// connection-string.
func (p *serveProc) apiClient(t *testing.T, bin, dir string) *hubclient.Client {
	t.Helper()
	cmd := exec.Command(bin, "hub", "connection-string", "--data", dir)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tether hub connection-string: %v", err)
	}
	cs, err := sas.ParseConnectionString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := hubclient.New(hubclient.Options{ConnectionString: cs, HTTPClient: p.http, BaseURL: "https://" + p.https})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// attempt is what a storm client saw of one connection.
type attempt struct {
	device int
	acked  time.Time // CONNACK 0 received
	clean  bool      // ended with DISCONNECT
	ended  time.Time // DISCONNECT sent, or the socket closed without it
}

// stormClient connects and disconnects its devices, in turn, until stop
// is closed or it made max attempts; it returns the connections the hub
// accepted.
func stormClient(addr string, pool *x509.CertPool, host string, devices []int, keys []tether.Secret, stop <-chan struct{}, max int) []attempt {
	var out []attempt
	for i := 0; i < max; i++ {
		select {
		case <-stop:
			return out
		default:
		}
		dev := devices[i%len(devices)]
		id := fmt.Sprintf("storm-%03d", dev)
		c, err := tryDialTLS(addr, pool)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		tok, err := sas.Sign(sas.ResourceURI(host, id, ""), keys[dev], "", time.Now().Add(time.Hour))
		if err != nil {
			c.close()
			return out
		}
		if c.send(connectPacket(host, id, tok.String(), true, 60)) != nil {
			c.close()
			continue
		}
		ack, err := c.readPacket(5 * time.Second)
		if err != nil || ack.FixedHeader.Type != packets.Connack || ack.ReasonCode != 0 {
			c.close()
			continue
		}
		a := attempt{device: dev, acked: time.Now()}
		time.Sleep(time.Duration(10+(i*7)%40) * time.Millisecond)
		if i%3 != 0 {
			if c.disconnect() == nil {
				a.clean, a.ended = true, time.Now()
			}
			c.readPacket(2 * time.Second) // the hub closes the connection
		} else {
			a.ended = time.Now()
		}
		c.close()
		out = append(out, a)
	}
	return out
}

// TestCrashRecovery kill -9s tether serve in the middle of a connect
// storm of 200 devices, restarts it on the same data folder and checks
// that the stores open cleanly, every device is still registered, and
// every connect and disconnect that happened at least 2 s (two flush
// intervals) before the kill has its row in logs.db, and that the
// DeviceCreated events waiting in the outbox at the kill are all delivered
// after the restart.
func TestCrashRecovery(t *testing.T) {
	bin := tetherBinary(t)
	dir := t.TempDir()
	p := startServe(t, bin, dir)
	api := p.apiClient(t, bin, dir)
	const nDevices, workers = 200, 8
	// A lifecycle-event receiver that refuses everything until the hub has
	// crashed and restarted: the DeviceCreated events must wait in the
	// outbox across the kill -9 and be delivered afterwards.
	var accept atomic.Bool
	var recvMu sync.Mutex
	created := map[string]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !accept.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var evs []struct {
			EventType string `json:"eventType"`
			Data      struct {
				DeviceID string `json:"deviceId"`
			} `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&evs); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		recvMu.Lock()
		for _, e := range evs {
			if e.EventType == "Microsoft.Devices.DeviceCreated" {
				created[e.Data.DeviceID] = true
			}
		}
		recvMu.Unlock()
	}))
	defer recv.Close()
	if _, _, err := api.PutEventSubscription(context.Background(), wire.EventSubscription{Name: "crash", URL: recv.URL, Types: []string{"DeviceCreated"}}); err != nil {
		t.Fatal(err)
	}
	keys := make([]tether.Secret, nDevices)
	var wg sync.WaitGroup
	errs := make(chan error, nDevices)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < nDevices; i += 4 {
				d, err := api.CreateDevice(context.Background(), wire.Device{DeviceID: fmt.Sprintf("storm-%03d", i)})
				if err != nil {
					errs <- err
					return
				}
				keys[i] = primaryKey(d)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create devices: %v", err)
	}

	stop := make(chan struct{})
	results := make([][]attempt, workers)
	for w := 0; w < workers; w++ {
		var devices []int
		for i := w; i < nDevices; i += workers {
			devices = append(devices, i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = stormClient(p.mqtt, p.pool, "localhost", devices, keys, stop, 5000)
		}()
	}
	time.Sleep(4 * time.Second)
	killed := time.Now()
	p.kill(t)
	close(stop)
	wg.Wait()

	p = startServe(t, bin, dir) // new ports; the store must open
	api = p.apiClient(t, bin, dir)
	accept.Store(true)
	deadline := time.Now().Add(45 * time.Second)
	for {
		recvMu.Lock()
		n := len(created)
		recvMu.Unlock()
		if n == nDevices {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("outbox: %d of %d DeviceCreated events delivered after the crash and restart", n, nDevices)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	devs, err := api.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]wire.Device{}
	for _, d := range devs {
		registered[d.DeviceID] = d
	}
	for i := 0; i < nDevices; i++ {
		if _, ok := registered[fmt.Sprintf("storm-%03d", i)]; !ok {
			t.Errorf("device storm-%03d is gone after the crash", i)
		}
	}
	for _, f := range []string{"tether.db", "logs.db"} {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, f)+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var res string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Errorf("%s after the crash: integrity_check %q, %v", f, res, err)
		}
		db.Close()
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "logs.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := queryRows(context.Background(), db, `_DeviceId LIKE 'storm-%'`)
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ connects, disconnects, lost int }
	logged := map[string]*counts{}
	seen := map[string]bool{}
	for _, r := range rows {
		if r.P.ConnectionID == "" {
			continue // not a Connections row (registry operations are logged too)
		}
		k := r.P.ConnectionID + "|" + r.Op + "|" + r.ResultType
		if seen[k] {
			t.Errorf("duplicate row: %s", r)
		}
		seen[k] = true
		c := logged[r.DeviceCol]
		if c == nil {
			c = &counts{}
			logged[r.DeviceCol] = c
		}
		switch {
		case r.Op == opConnect && r.Level == "Information":
			c.connects++
		case r.Op == opDisconnect && r.P.Reason == string(tether.ReasonClientDisconnect):
			c.disconnects++
		case r.Op == opDisconnect && r.P.Reason == string(tether.ReasonConnectionLost):
			c.lost++
		}
	}
	cutoff := killed.Add(-2 * time.Second)
	old := map[string]*counts{}
	acks := 0
	for _, res := range results {
		for _, a := range res {
			acks++
			id := fmt.Sprintf("storm-%03d", a.device)
			c := old[id]
			if c == nil {
				c = &counts{}
				old[id] = c
			}
			if a.acked.Before(cutoff) {
				c.connects++
			}
			if !a.ended.IsZero() && a.ended.Before(cutoff) {
				if a.clean {
					c.disconnects++
				} else {
					c.lost++
				}
			}
		}
	}
	if acks < 200 {
		t.Errorf("only %d connections in the storm; the test proves little", acks)
	}
	totalRows, oldConnects := 0, 0
	for id, c := range old {
		l := logged[id]
		if l == nil {
			l = &counts{}
		}
		oldConnects += c.connects
		if l.connects < c.connects || l.disconnects < c.disconnects || l.lost < c.lost {
			t.Errorf("%s: rows after the crash: %d connects, %d client_disconnect, %d connection_lost; the device saw at least %d, %d, %d before kill-2s",
				id, l.connects, l.disconnects, l.lost, c.connects, c.disconnects, c.lost)
		}
	}
	for _, l := range logged {
		totalRows += l.connects
	}
	if totalRows > acks+workers {
		t.Errorf("%d deviceConnect rows for %d CONNACKs the clients got (at most %d in flight at the kill)", totalRows, acks, workers)
	}
	t.Logf("storm: %d connections acknowledged, %d of them 2s or more before the kill; %d deviceConnect rows survived the crash",
		acks, oldConnects, totalRows)

	if l := p.log.String(); strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
		t.Errorf("the restarted hub complains; log:\n%s", l)
	}
	// No device is connected to the restarted hub.
	stale := 0
	for _, d := range devs {
		if strings.HasPrefix(d.DeviceID, "storm-") && d.ConnectionState != string(tether.Disconnected) {
			stale++
		}
	}
	if stale > 0 {
		t.Errorf("after the crash and restart %d devices are still %q though nothing is connected", stale, tether.Connected)
	}
}
