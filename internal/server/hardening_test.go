package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/sas"
)

// startTestServer runs a hub on :0 ports until the test ends.
func startTestServer(t *testing.T, change func(*Config)) *Server {
	t.Helper()
	cfg := testConfig(t)
	if change != nil {
		change(&cfg)
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func caPool(t *testing.T, s *Server) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

// TestHTTPSHardening: the HTTPS listener refuses old TLS and weak suites,
// cuts off a client that sends its headers slowly, and refuses oversized
// headers and bodies.
func TestHTTPSHardening(t *testing.T) {
	s := startTestServer(t, func(c *Config) { c.HeaderTimeout = 300 * time.Millisecond })
	addr := s.HTTPSAddr().String()
	pool := caPool(t, s)
	t.Run("TLS policy", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			min, max uint16
			suites   []uint16
			ok       bool
		}{
			{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, nil, false},
			{"TLS 1.1", tls.VersionTLS11, tls.VersionTLS11, nil, false},
			{"TLS 1.2 CBC only", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}, false},
			{"TLS 1.2 RSA key exchange", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}, false},
			{"TLS 1.2 3DES", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA}, false},
			{"TLS 1.2 ECDHE AES-GCM", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, true},
			{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, nil, true},
		} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
				&tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tc.min, MaxVersion: tc.max, CipherSuites: tc.suites})
			if err == nil {
				c.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("%s: handshake error %v, want accepted=%v", tc.name, err, tc.ok)
			}
		}
	})
	dial := func(t *testing.T) *tls.Conn {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Run("slow headers are cut off", func(t *testing.T) {
		c := dial(t)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n") // and never the blank line
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("waiting for the server to close: %v", err)
		}
		if strings.Contains(string(b), "200 OK") {
			t.Errorf("incomplete request answered: %q", b)
		}
	})
	t.Run("oversized headers", func(t *testing.T) {
		c := dial(t)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 200<<10))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("200 KB of headers: status %d, want 431", resp.StatusCode)
		}
	})
	t.Run("oversized JSON body", func(t *testing.T) {
		cs, err := s.PolicyConnectionString(context.Background(), "iothubowner")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		body := `{"deviceId":"big","tags":{"x":"` + strings.Repeat("a", 300<<10) + `"}}`
		req, _ := http.NewRequest("PUT", "https://"+addr+"/devices/big?api-version=2021-04-12", strings.NewReader(body))
		req.Header.Set("Authorization", tok.String())
		req.Header.Set("Content-Type", "application/json")
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "limit") {
			t.Errorf("300 KB body: %d %s, want 413 naming the limit", resp.StatusCode, msg)
		}
	})
}

// TestBodyLimitsEveryRoute sends 1 MB to every route of the API that
// can take a body (from the route table): none may accept it. Routes that
// read a body refuse it with 413; routes that take none (enable, test)
// may answer before reading it (here 404: the rule does not exist).
func TestBodyLimitsEveryRoute(t *testing.T) {
	s := startTestServer(t, nil)
	cs, err := s.PolicyConnectionString(context.Background(), "iothubowner")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, s), ServerName: "localhost"}}}
	big := `{"x":"` + strings.Repeat("a", 1<<20) + `"}`
	got := map[string]int{}
	for _, route := range bodyRoutes(s) {
		method, url, _ := routeRequest(route, "https://"+s.HTTPSAddr().String())
		req, _ := http.NewRequest(method, url, strings.NewReader(big))
		req.Header.Set("Authorization", tok.String())
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("%s: %v", route, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s with a 1 MB body: %d, want it refused", route, resp.StatusCode)
		}
		got[route] = resp.StatusCode
	}
	for _, route := range []string{"PUT /devices/{id}", "PATCH /twins/{id}", "PUT /twins/{id}", "POST /twins/{id}/methods",
		"POST /devices/{id}/messages/deviceBound", "PUT /v1/eventSubscriptions/{name}", "PUT /v1/diagnosticSettings"} {
		if got[route] != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with a 1 MB body: %d, want 413", route, got[route])
		}
	}
}
