// Package hubtest starts a complete hub for tests: the same assembly as
// tether serve, on 127.0.0.1:0 ports, in a temporary data folder, stopped
// when the test ends.
package hubtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/sas"
)

// Hub is a running hub.
type Hub struct {
	*server.Server
	Config server.Config
	URL    string       // https://127.0.0.1:PORT
	HTTP   *http.Client // trusts the hub's CA
	Owner  sas.ConnectionString
}

// Start runs a hub until tb ends. Options adjust the configuration.
func Start(tb testing.TB, opts ...func(*server.Config)) *Hub {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = tb.TempDir()
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.MQTTAddr = "127.0.0.1:0"
	cfg.PortalPasswordIterations = 1000 // the default work factor is for real passwords
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		tb.Fatalf("hubtest: start hub: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("hubtest: hub stopped with error: %v", err)
			}
		case <-time.After(15 * time.Second):
			tb.Errorf("hubtest: hub did not stop within 15s")
		}
	})
	h := &Hub{Server: srv, Config: cfg, URL: "https://" + srv.HTTPSAddr().String()}
	h.HTTP = httpClient(tb, srv.CAFile())
	if h.Owner, err = srv.PolicyConnectionString(ctx, "iothubowner"); err != nil {
		tb.Fatalf("hubtest: owner connection string: %v", err)
	}
	return h
}

func httpClient(tb testing.TB, caFile string) *http.Client {
	tb.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		tb.Fatalf("hubtest: read CA: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Policy returns the connection string of a policy of the hub.
func (h *Hub) Policy(tb testing.TB, name string) sas.ConnectionString {
	tb.Helper()
	cs, err := h.PolicyConnectionString(context.Background(), name)
	if err != nil {
		tb.Fatalf("hubtest: policy %s: %v", name, err)
	}
	return cs
}

// Client returns a service API client signed with policy cs.
func (h *Hub) Client(tb testing.TB, cs sas.ConnectionString) *hubclient.Client {
	tb.Helper()
	c, err := hubclient.New(hubclient.Options{ConnectionString: cs, HTTPClient: h.HTTP, BaseURL: h.URL})
	if err != nil {
		tb.Fatalf("hubtest: client: %v", err)
	}
	return c
}
