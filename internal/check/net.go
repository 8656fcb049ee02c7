package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tether-iot/tether/device"
)

// host is what the device dials; tlsName is the name it expects on the
// certificate (its HostName, or GatewayHostName), as the device SDKs do.
func (c *checker) host() string { return hostOnly(c.o.Addr) }

func (c *checker) tlsName() string {
	if c.o.Credentials.GatewayHostName != "" {
		return hostOnly(c.o.Credentials.GatewayHostName)
	}
	return hostOnly(c.o.Credentials.HostName)
}

// dns resolves the host the device dials.
func (c *checker) dns(ctx context.Context) Step {
	h := c.host()
	if ip := net.ParseIP(h); ip != nil {
		c.ips = []string{h}
		return Step{Status: Pass, Detail: h + " is an IP address: no lookup needed (the hub's certificate must list it as an IP address)"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupHost(ctx, h)
	if err != nil {
		return Step{Status: Fail, Detail: fmt.Sprintf("cannot resolve %s: %v", h, err),
			Fix: "check the spelling of HostName (or GatewayHostName) in the connection string and the device's DNS settings; for a hub on this machine use localhost"}
	}
	c.ips = ips
	return Step{Status: Pass, Detail: h + " → " + strings.Join(ips, ", ")}
}

// tcp opens the TCP connection.
func (c *checker) tcp(ctx context.Context) Step {
	d := net.Dialer{Timeout: c.o.Timeout}
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", c.o.Addr)
	took := time.Since(start)
	if err != nil {
		_, port, _ := net.SplitHostPort(c.o.Addr)
		s := Step{Status: Fail, Detail: fmt.Sprintf("cannot connect to %s after %v: %v", c.o.Addr, took.Round(time.Millisecond), err)}
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			s.Fix = fmt.Sprintf("nothing listens on port %s there: start the hub (tether serve), or check the port it listens on (--mqtt-addr for MQTT, default 8883; --https-addr for MQTT over WebSockets, default 443)", port)
		case errors.As(err, &ne) && ne.Timeout():
			s.Fix = fmt.Sprintf("no answer: a firewall drops the packets or the host is down; allow outbound TCP %s from the device's network", port)
		default:
			s.Fix = "check the device's network route to the hub"
		}
		return s
	}
	c.raw = conn
	return Step{Status: Pass, Detail: fmt.Sprintf("connected to %s in %v", conn.RemoteAddr(), took.Round(time.Microsecond))}
}

// tls handshakes without trusting anything, then checks what a device
// would: the chain against the trusted roots, the host name, the validity
// dates by the device's clock, and the version.
func (c *checker) tls(ctx context.Context) Step {
	roots, rootsName, err := c.loadRoots()
	if err != nil {
		return Step{Status: Fail, Detail: err.Error(), Fix: "give --ca the hub's CA certificate file (Tether: DATA/tls/ca.pem)"}
	}
	c.roots = roots
	tc := tls.Client(c.raw, &tls.Config{ServerName: c.tlsName(), InsecureSkipVerify: true, MinVersion: tls.VersionTLS10})
	hctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return Step{Status: Fail, Detail: "TLS handshake failed: " + err.Error(),
			Fix: fmt.Sprintf("make sure %s is the hub's TLS port (MQTT over TLS: 8883, WebSockets: 443), not a plain-text or other service", c.o.Addr)}
	}
	st := tc.ConnectionState()
	chain := st.PeerCertificates
	leaf := chain[0]
	var names []string
	for _, cert := range chain {
		names = append(names, cert.Subject.CommonName)
	}
	detail := fmt.Sprintf("%s, %s; chain: %s; valid until %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite),
		strings.Join(names, " ← "), leaf.NotAfter.UTC().Format("2006-01-02"))
	var fails, fixes []string
	inter := x509.NewCertPool()
	for _, cert := range chain[1:] {
		inter.AddCert(cert)
	}
	now := c.o.Now()
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: leaf.NotBefore.Add(time.Second)}); err != nil {
		fails = append(fails, fmt.Sprintf("the certificate is not trusted by %s: %v", rootsName, err))
		fixes = append(fixes, "pass --ca DATA/tls/ca.pem (the hub's CA; Tether makes one on first start) here, and give the device the same file (device.Options.CA, the Azure SDK's setOptions({ca}), or the OS trust store)")
	} else {
		detail += "; trusted by " + rootsName
	}
	if err := leaf.VerifyHostname(c.tlsName()); err != nil {
		covered := append(append([]string{}, leaf.DNSNames...), ipStrings(leaf.IPAddresses)...)
		fails = append(fails, fmt.Sprintf("the certificate does not cover %q; it covers %s", c.tlsName(), strings.Join(covered, ", ")))
		fixes = append(fixes, fmt.Sprintf("use one of %s as HostName in the connection string, or start the hub with --hostname %s so that its certificate covers that name", strings.Join(covered, ", "), c.tlsName()))
	} else {
		detail += "; covers " + c.tlsName()
	}
	switch {
	case now.After(leaf.NotAfter):
		fails = append(fails, fmt.Sprintf("the certificate expired on %s by the device's clock (%s)", leaf.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
		fixes = append(fixes, "renew the hub's certificate (Tether renews its own on start), or fix the device's clock if it is wrong (see the clock step)")
	case now.Before(leaf.NotBefore):
		fails = append(fails, fmt.Sprintf("the certificate is not valid before %s, and the device's clock says %s", leaf.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
		fixes = append(fixes, "the device's clock is behind: sync it with NTP (see the clock step)")
	}
	if st.Version < tls.VersionTLS12 {
		fails = append(fails, tls.VersionName(st.Version)+" is older than TLS 1.2, the minimum IoT Hub devices use")
		fixes = append(fixes, "configure the hub for TLS 1.2 or later")
	}
	if len(fails) > 0 {
		return Step{Status: Fail, Detail: strings.Join(fails, "; ") + " (" + detail + ")", Fix: strings.Join(fixes, "; ")}
	}
	s := Step{Status: Pass, Detail: detail}
	if left := leaf.NotAfter.Sub(now); left < 14*24*time.Hour {
		s.Status, s.Fix = Warn, fmt.Sprintf("the certificate expires in %v: renew it", left.Round(time.Hour))
	}
	if c.o.Transport == device.MQTT {
		c.raw = tc // MQTT goes over this connection
	} else {
		tc.Close() // the WebSocket connection is a new one, made by the connect step
		c.raw = nil
	}
	return s
}

func (c *checker) loadRoots() (*x509.CertPool, string, error) {
	if c.o.CAFile == "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, "", fmt.Errorf("cannot read the system's trusted CAs: %v", err)
		}
		return pool, "the system's trusted CAs", nil
	}
	pem, err := os.ReadFile(c.o.CAFile)
	if err != nil {
		return nil, "", fmt.Errorf("--ca: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, "", fmt.Errorf("--ca %s holds no PEM certificate", c.o.CAFile)
	}
	return pool, c.o.CAFile, nil
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}
