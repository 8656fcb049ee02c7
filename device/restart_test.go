package device_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"

	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/sas"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
)

// runHub runs a hub on cfg until the returned stop is called.
func runHub(t *testing.T, cfg server.Config) (*server.Server, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("start hub: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Errorf("hub did not stop within 15s")
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

// TestReconnectAfterHubRestart: the client notices the hub going away
// (404104), retries with jittered, growing delays while it is down, and
// reconnects once it is back on the same address.
func TestReconnectAfterHubRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := server.DefaultConfig()
	cfg.DataDir, cfg.MQTTAddr, cfg.HTTPSAddr = dir, "127.0.0.1:0", "127.0.0.1:0"
	srv, stop := runHub(t, cfg)
	o := mustDevice(t, &hubtest.Hub{Server: srv, HTTP: trustingClient(t, srv.CAFile()), URL: "https://" + srv.HTTPSAddr().String(), Owner: mustOwner(t, srv)}, "dev-1")
	o.Addr, o.CA = srv.MQTTAddr().String(), srv.CAFile()
	o.Retry = device.RetryPolicy{Min: 50 * time.Millisecond, Max: 400 * time.Millisecond}
	st := newStates()
	o.OnConnectionState = st.record
	dc := mustOpen(t, o)

	cfg.MQTTAddr, cfg.HTTPSAddr = srv.MQTTAddr().String(), srv.HTTPSAddr().String()
	stop()
	lost := st.next(t, 10*time.Second, "disconnected", func(cs device.ConnectionState) bool { return cs.Status == device.Disconnected })
	if lost.Err == nil || lost.Err.Code != tether.DeviceConnectionClosedRemotely {
		t.Errorf("lost connection: %s, want 404104", lost.Explain())
	}
	var delays []time.Duration
	for len(delays) < 6 {
		cs := st.next(t, 10*time.Second, "failed retry", func(cs device.ConnectionState) bool { return cs.Status == device.Disconnected && cs.RetryIn > 0 })
		if !cs.Err.Retryable() {
			t.Fatalf("a refused dial is final: %s", cs.Explain())
		}
		ceil := min(400*time.Millisecond, 50*time.Millisecond<<(cs.Attempt-1))
		if cs.RetryIn > ceil {
			t.Errorf("attempt %d: retry in %v, above the ceiling %v", cs.Attempt, cs.RetryIn, ceil)
		}
		delays = append(delays, cs.RetryIn)
	}
	distinct := map[time.Duration]bool{}
	for _, d := range delays {
		distinct[d] = true
	}
	if len(distinct) < 3 {
		t.Errorf("retry delays %v: no jitter", delays)
	}
	runHub(t, cfg)
	st.next(t, 10*time.Second, "reconnected", func(cs device.ConnectionState) bool { return cs.Status == device.Connected })
	if err := dc.SendEvent(ctxT(t), device.Message{Payload: []byte("back")}); err != nil {
		t.Errorf("SendEvent after the restart: %v", err)
	}
}

func trustingClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func mustOwner(t *testing.T, srv *server.Server) sas.ConnectionString {
	t.Helper()
	cs, err := srv.PolicyConnectionString(context.Background(), "iothubowner")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func exampleService(owner sas.ConnectionString, srv *server.Server) *hubclient.Client {
	pem, _ := os.ReadFile(srv.CAFile())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := hubclient.New(hubclient.Options{ConnectionString: owner, BaseURL: "https://" + srv.HTTPSAddr().String(),
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}, Timeout: 10 * time.Second}})
	if err != nil {
		panic(err)
	}
	return c
}
