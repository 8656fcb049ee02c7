package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/sas"
)

// hubConn is what a command works on: a remote hub (a policy connection
// string) or the local data folder (the service API in-process).
type hubConn struct {
	client *hubclient.Client
	cs     sas.ConnectionString // the policy the client signs with
	admin  *server.Admin        // nil for a remote hub
}

func (h *hubConn) Close() {
	if h.admin != nil {
		h.admin.Close()
	}
}

func (h *hubConn) hostname() string { return h.cs.HostName }

// withHub opens the hub the flags name, runs fn on it and closes it.
func withHub(cmd *cobra.Command, g *globals, fn func(h *hubConn) error) error {
	h, err := openHub(cmd.Context(), g)
	if err != nil {
		return err
	}
	defer h.Close()
	return fn(h)
}

// openHub connects to the hub the flags name.
func openHub(ctx context.Context, g *globals) (*hubConn, error) {
	if g.connectionString != "" {
		cs, err := sas.ParseConnectionString(g.connectionString)
		if err != nil {
			return nil, usagef("--connection-string: %v", err)
		}
		if cs.Kind() != sas.KindPolicy {
			return nil, usagef("--connection-string must be a policy connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…), not a %s one", cs.Kind())
		}
		httpc, err := httpClient(g)
		if err != nil {
			return nil, err
		}
		c, err := hubclient.New(hubclient.Options{ConnectionString: cs, HTTPClient: httpc, BaseURL: g.apiURL})
		if err != nil {
			return nil, err
		}
		return &hubConn{client: c, cs: cs}, nil
	}
	admin, err := server.OpenAdmin(ctx, server.AdminOptions{DataDir: g.dataDir, Hostname: g.hostname})
	if err != nil {
		return nil, err
	}
	cs, err := admin.PolicyConnectionString(ctx, "iothubowner")
	if err != nil {
		admin.Close()
		return nil, err
	}
	// With a tether serve running on this data folder, go through it, so
	// that connected devices see the change (methods, desired properties,
	// disabling); otherwise call the API in-process on the store.
	opts := hubclient.Options{ConnectionString: cs, HTTPClient: &http.Client{Transport: hubclient.HandlerTransport(admin.Handler())}}
	if ri, ok := server.Running(g.dataDir); ok {
		if httpc, err := httpClient(g); err == nil && reachable(ri.HTTPSAddr) {
			// The certificate covers the hub's host name, not necessarily
			// the address it listens on: check it against the name.
			if tr, ok := httpc.Transport.(*http.Transport); ok && httpc != http.DefaultClient && ri.Hostname != "" {
				tr.TLSClientConfig.ServerName = ri.Hostname
			}
			opts.HTTPClient, opts.BaseURL = httpc, "https://"+ri.HTTPSAddr
		}
	}
	c, err := hubclient.New(opts)
	if err != nil {
		admin.Close()
		return nil, err
	}
	return &hubConn{client: c, cs: cs, admin: admin}, nil
}

// reachable reports whether a TCP connection to addr opens quickly.
func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// httpClient trusts --ca, else DATA/tls/ca.pem when present, else the
// system roots.
func httpClient(g *globals) (*http.Client, error) {
	ca := g.caFile
	if ca == "" {
		p := filepath.Join(g.dataDir, "tls", "ca.pem")
		if _, err := os.Stat(p); err == nil {
			ca = p
		}
	}
	if ca == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s holds no PEM certificate", ca)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}
