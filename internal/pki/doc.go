// Package pki gives the hub its TLS identity: on first start it creates a
// local certificate authority and an ECDSA P-256 server certificate under
// DIR/tls, and on later starts it reuses them, renewing the server
// certificate when it nears expiry or no longer covers the host name.
// Operators may bring their own certificate and key instead.
//
// DIR/tls/ca.pem is the one file devices and SDKs must trust. The CA key
// never leaves DIR/tls and is written with mode 0600.
//
// The package imports only the standard library.
package pki
