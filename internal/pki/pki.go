package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Lifetimes of what Load generates.
const (
	CALifetime     = 10 * 365 * 24 * time.Hour
	ServerLifetime = 397 * 24 * time.Hour
	renewBefore    = 30 * 24 * time.Hour
)

// Options says where the TLS material lives and what it must cover.
type Options struct {
	Dir      string    // the data folder; files go to Dir/tls
	Hostname string    // the name devices dial; default "localhost"
	CertFile string    // operator's certificate chain (PEM); with KeyFile, replaces the generated one
	KeyFile  string    // operator's private key (PEM)
	Now      time.Time // the current time; zero means time.Now()
}

// Bundle is the hub's loaded TLS identity.
type Bundle struct {
	Cert      tls.Certificate
	Leaf      *x509.Certificate
	CAFile    string // the PEM file clients trust; empty with an operator certificate
	Generated bool   // whether Load created or renewed a file this time
}

// Load returns the hub's TLS identity, creating or renewing the local CA
// and server certificate as needed.
func Load(o Options) (*Bundle, error) {
	if o.Hostname == "" {
		o.Hostname = "localhost"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("tls: --tls-cert and --tls-key go together; give both or neither")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: load --tls-cert %s and --tls-key %s: %w", o.CertFile, o.KeyFile, err)
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("tls: parse %s: %w", o.CertFile, err)
		}
		if err := leaf.VerifyHostname(o.Hostname); err != nil {
			return nil, fmt.Errorf("tls: certificate %s does not cover --hostname %q: %w", o.CertFile, o.Hostname, err)
		}
		cert.Leaf = leaf
		return &Bundle{Cert: cert, Leaf: leaf}, nil
	}
	dir := filepath.Join(o.Dir, "tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tls: create %s: %w", dir, err)
	}
	b := &Bundle{CAFile: filepath.Join(dir, "ca.pem")}
	caCert, caKey, created, err := loadOrCreateCA(dir, o.Now)
	if err != nil {
		return nil, err
	}
	b.Generated = created
	certPath, keyPath := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0])
	}
	if err != nil || created || needsRenewal(cert.Leaf, caCert, o.Hostname, o.Now) {
		if err := writeServerCert(certPath, keyPath, caCert, caKey, o.Hostname, o.Now); err != nil {
			return nil, err
		}
		b.Generated = true
		if cert, err = tls.LoadX509KeyPair(certPath, keyPath); err != nil {
			return nil, fmt.Errorf("tls: reload %s: %w", certPath, err)
		}
		cert.Leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	b.Cert, b.Leaf = cert, cert.Leaf
	return b, nil
}

func needsRenewal(leaf, ca *x509.Certificate, host string, now time.Time) bool {
	if leaf.VerifyHostname(host) != nil || leaf.VerifyHostname("127.0.0.1") != nil {
		return true
	}
	if leaf.CheckSignatureFrom(ca) != nil {
		return true
	}
	return now.Add(renewBefore).After(leaf.NotAfter)
}

func loadOrCreateCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, bool, error) {
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		ca, err := x509.ParseCertificate(pair.Certificate[0])
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if err != nil || !ok {
			return nil, nil, false, fmt.Errorf("tls: %s is not an ECDSA CA; move %s aside to generate a new one", keyPath, dir)
		}
		return ca, key, false, nil
	}
	if _, statErr := os.Stat(certPath); statErr == nil {
		return nil, nil, false, fmt.Errorf("tls: local CA in %s is unreadable (%v); move the folder aside to generate a new CA, then redistribute ca.pem to devices", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, fmt.Errorf("tls: generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Tether local CA", Organization: []string{"Tether"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, false, fmt.Errorf("tls: create CA: %w", err)
	}
	if err := writePair(certPath, keyPath, der, key); err != nil {
		return nil, nil, false, err
	}
	ca, _ := x509.ParseCertificate(der)
	return ca, key, true, nil
}

func writeServerCert(certPath, keyPath string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, host string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tls: generate server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: host, Organization: []string{"Tether"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(ServerLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	names := []string{host, "localhost"}
	for _, n := range slices.Compact(names) {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("tls: create server certificate: %w", err)
	}
	chain := append(pemBlock("CERTIFICATE", der), pemBlock("CERTIFICATE", ca.Raw)...)
	return writeFiles(certPath, chain, keyPath, key)
}

func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	return writeFiles(certPath, pemBlock("CERTIFICATE", der), keyPath, key)
}

func writeFiles(certPath string, certPEM []byte, keyPath string, key *ecdsa.PrivateKey) error {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("tls: encode key: %w", err)
	}
	if err := os.WriteFile(keyPath, pemBlock("EC PRIVATE KEY", kb), 0o600); err != nil {
		return fmt.Errorf("tls: write %s: %w", keyPath, err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return fmt.Errorf("tls: write %s: %w", certPath, err)
	}
	return nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
