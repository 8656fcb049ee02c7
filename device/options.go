package device

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// Transport is how the client reaches the hub.
type Transport string

const (
	MQTT   Transport = "mqtt"   // MQTT 3.1.1 over TLS, port 8883
	MQTTWS Transport = "mqttws" // MQTT over WebSockets over TLS, port 443, path /$iothub/websocket
)

// Defaults, as in the Azure IoT SDKs.
const (
	DefaultKeepAlive     = 180 * time.Second // the Node SDK's; the hub drops a silent device after 1.5×
	DefaultTokenLifetime = time.Hour
	DefaultRenewBefore   = 15 * time.Minute // renew 45 min into a 60 min token, like the Node SDK
	DefaultOpTimeout     = 30 * time.Second // PUBACK, twin and connect waits without a context deadline
	APIVersion           = "2021-04-12"
	ClientType           = "tether-device-go/1"
)

// Options configure a [Client]. Credentials is required; everything else
// has a default.
type Options struct {
	// Credentials is a device or module connection string with a
	// SharedAccessKey (or a fixed SharedAccessSignature, which is then
	// never renewed). [NewFromConnectionString] fills it.
	Credentials sas.ConnectionString
	Transport   Transport // MQTT (default) or MQTTWS
	// Addr is the host:port to dial; "": GatewayHostName or HostName, on
	// 8883 (MQTT) or 443 (MQTTWS). The TLS server name and the token
	// audience stay HostName.
	Addr string
	// CA is PEM text, or the path of a PEM file, of the CA to trust
	// instead of the system roots (Tether's is DATA/tls/ca.pem).
	CA string
	// RootCAs, when set, is used instead of CA.
	RootCAs *x509.CertPool
	// KeepAlive is the MQTT keep-alive; 0: DefaultKeepAlive. Keep it below
	// the idle timeout of any NAT or load balancer on the way.
	KeepAlive time.Duration
	// TokenLifetime is how long each generated SAS token is valid;
	// 0: one hour.
	TokenLifetime time.Duration
	// RenewBefore is how long before a token's expiry the client renews
	// it (by reconnecting); 0: 15 minutes, or a quarter of a shorter
	// lifetime.
	RenewBefore time.Duration
	// DisableRenewal stops the client from renewing tokens before they
	// expire: the hub then closes the connection at expiry (plus its
	// clock-skew allowance) and the client reconnects with a new token,
	// as the .NET and Java SDKs do. For reproducing that pattern only.
	DisableRenewal bool
	// Retry is the reconnect policy; the zero value is the default.
	Retry RetryPolicy
	// OpTimeout bounds a connect, a PUBACK or a twin answer when the
	// context has no deadline; 0: 30 s.
	OpTimeout time.Duration
	// OnConnectionState is called, from the client's goroutine, at each
	// change of the connection. It must not block.
	OnConnectionState func(ConnectionState)
	// Dial opens the TCP connection; nil: a net.Dialer. With MQTTWS it is
	// not used.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// WrapConn, when set, wraps each established connection (after TLS or
	// the WebSocket upgrade). The fleet simulator injects faults with it.
	WrapConn func(net.Conn) net.Conn
	// Now is the clock tokens are signed with; nil: time.Now. A skewed
	// clock here reproduces a device with a wrong clock.
	Now func() time.Time
	// ClientType is sent as DeviceClientType and logged by the hub as the
	// SDK version; "": ClientType.
	ClientType string
	ModelID    string       // an IoT Plug and Play model ID, optional
	Logger     *slog.Logger // nil: discard
}

func (o *Options) fill() error {
	cs := o.Credentials
	switch {
	case cs.HostName == "":
		return errors.New("device: Options.Credentials needs a HostName")
	case cs.Kind() == sas.KindPolicy:
		return errors.New("device: Options.Credentials is a policy connection string; give a device connection string (HostName=…;DeviceId=…;SharedAccessKey=…)")
	case cs.X509:
		return errors.New("device: X.509 authentication is not supported yet; use a SharedAccessKey")
	case cs.Key == "" && cs.Signature == "":
		return errors.New("device: the connection string has neither SharedAccessKey nor SharedAccessSignature")
	}
	if cs.Key != "" {
		if _, err := tether.DecodeKey(cs.Key.Reveal()); err != nil {
			return fmt.Errorf("device: SharedAccessKey: %s", tether.ErrorMessage(err))
		}
	}
	switch o.Transport {
	case "":
		o.Transport = MQTT
	case MQTT, MQTTWS:
	default:
		return fmt.Errorf("device: transport %q: use %q or %q", o.Transport, MQTT, MQTTWS)
	}
	if o.Addr == "" {
		host := cs.HostName
		if cs.GatewayHostName != "" {
			host = cs.GatewayHostName
		}
		port := "8883"
		if o.Transport == MQTTWS {
			port = "443"
		}
		if _, _, err := net.SplitHostPort(host); err == nil {
			o.Addr = host
		} else {
			o.Addr = net.JoinHostPort(host, port)
		}
	}
	if o.RootCAs == nil && o.CA != "" {
		pem := []byte(o.CA)
		if !strings.Contains(o.CA, "-----BEGIN") {
			b, err := os.ReadFile(o.CA)
			if err != nil {
				return fmt.Errorf("device: CA: %w", err)
			}
			pem = b
		}
		o.RootCAs = x509.NewCertPool()
		if !o.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("device: CA: no PEM certificate in %.40q", o.CA)
		}
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.KeepAlive < time.Second {
		o.KeepAlive = time.Second
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	if o.RenewBefore <= 0 {
		o.RenewBefore = min(DefaultRenewBefore, o.TokenLifetime/4)
	}
	if o.RenewBefore >= o.TokenLifetime {
		return fmt.Errorf("device: RenewBefore %v must be shorter than TokenLifetime %v", o.RenewBefore, o.TokenLifetime)
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClientType == "" {
		o.ClientType = ClientType
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Retry = o.Retry.withDefaults()
	return nil
}

// hostOnly is HostName without a port: the token audience and the TLS
// server name.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}
