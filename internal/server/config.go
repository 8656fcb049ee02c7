package server

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/notify"
	"github.com/tether-iot/tether/internal/store"
)

// Config is everything tether serve takes.
type Config struct {
	DataDir        string        // the data folder: store, TLS material
	Hostname       string        // the name devices and SDKs dial
	HTTPSAddr      string        // service API, MQTT over WebSockets, portal
	MQTTAddr       string        // MQTT over TLS
	TLSCert        string        // operator's certificate chain (PEM); optional
	TLSKey         string        // operator's key (PEM); with TLSCert
	ConnectTimeout time.Duration // a connection must send CONNECT within this
	ShutdownGrace  time.Duration // how long Run waits for requests to finish
	// TelemetryRetention is how long the telemetry stream keeps messages.
	TelemetryRetention time.Duration
	// LogRetention is how long diagnostic logs and metric samples are kept.
	LogRetention time.Duration
	// MetricsGrain is the time grain of AzureMetrics samples.
	MetricsGrain time.Duration
	// PresenceGrace is how long a disconnect waits for a reconnect before
	// it is announced as a lifecycle event.
	PresenceGrace time.Duration
	// ResourceID is the hub's Azure-style resource path in the logs.
	ResourceID string
	// SMTP is the mail server of email receivers; zero: no email.
	SMTP notify.SMTPConfig
	// DeviceRate caps each device's telemetry messages per second.
	DeviceRate float64
	// MaxConnectRate caps CONNECTs admitted per second, hub-wide; 0: no limit.
	MaxConnectRate float64
	// MaxHandshakes caps TLS handshakes in progress on the MQTT listener; 0: no limit.
	MaxHandshakes int
	// HandshakeWait is how long a connection waits for a handshake slot
	// before it is closed before TLS.
	HandshakeWait time.Duration
	// AuthBanThreshold authentication failures for one device id, or
	// AuthBanIPThreshold from one source address, within AuthBanWindow ban
	// it for AuthBanDuration; 0: no bans of that kind.
	AuthBanThreshold   int
	AuthBanIPThreshold int
	AuthBanWindow      time.Duration
	AuthBanDuration    time.Duration
	// QueryTimeout bounds each log query (POST /v1/query).
	QueryTimeout time.Duration
	// QueryMaxRows caps the rows of a log query's answer; more rows are
	// cut and the answer says truncated.
	QueryMaxRows int
	// Events receives every connection event; nil: the gateway logs them
	// at debug level (the diagnostics recorder takes this over).
	Events func(tether.ConnectionEvent)
	Logger *slog.Logger // nil: discard
	// HeaderTimeout is how long an HTTPS client may take to send its
	// request headers (slow-loris protection); 0: 10 s. Not a flag.
	HeaderTimeout time.Duration
	// PortalPasswordIterations is the PBKDF2 work factor of the portal's
	// admin password hash; 0: the default (tests lower it).
	PortalPasswordIterations int
}

// DefaultConfig returns the settings tether serve starts with.
func DefaultConfig() Config {
	return Config{
		DataDir:            "./tether-data",
		Hostname:           "localhost",
		HTTPSAddr:          ":443",
		MQTTAddr:           ":8883",
		ConnectTimeout:     30 * time.Second,
		ShutdownGrace:      10 * time.Second,
		TelemetryRetention: 24 * time.Hour,
		LogRetention:       30 * 24 * time.Hour,
		MetricsGrain:       time.Minute,
		PresenceGrace:      10 * time.Second,
		DeviceRate:         5000,
		MaxConnectRate:     2000,
		MaxHandshakes:      512,
		HandshakeWait:      25 * time.Second, // under the SDKs' 30 s connect timeout: docs/security.md
		AuthBanThreshold:   15,
		AuthBanIPThreshold: 100,
		AuthBanWindow:      time.Minute,
		AuthBanDuration:    5 * time.Minute,
		QueryTimeout:       30 * time.Second,
		QueryMaxRows:       30000,
	}
}

// Validate checks c and fills defaults for zero values.
func (c *Config) Validate() error {
	d := DefaultConfig()
	if c.DataDir == "" {
		c.DataDir = d.DataDir
	}
	if c.Hostname == "" {
		c.Hostname = d.Hostname
	}
	if strings.ContainsAny(c.Hostname, "/: ") {
		return fmt.Errorf("--hostname %q must be a bare host name or IP address, without scheme, port or path", c.Hostname)
	}
	for _, a := range []struct{ flag, v string }{{"--https-addr", c.HTTPSAddr}, {"--mqtt-addr", c.MQTTAddr}} {
		if a.v == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			return fmt.Errorf("%s %q is not host:port (for example :443 or 127.0.0.1:8443): %v", a.flag, a.v, err)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together; give both or neither")
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	if c.MetricsGrain == 0 {
		c.MetricsGrain = d.MetricsGrain
	}
	if c.MetricsGrain < 10*time.Second {
		return fmt.Errorf("--metrics-grain %v: the shortest grain is 10s", c.MetricsGrain)
	}
	if c.ResourceID != "" {
		if _, _, _, err := store.ParseResourceID(c.ResourceID); err != nil {
			return fmt.Errorf("--resource-id: %w", err)
		}
	}
	if c.MaxConnectRate < 0 || c.MaxHandshakes < 0 || c.AuthBanThreshold < 0 || c.AuthBanIPThreshold < 0 {
		return fmt.Errorf("--max-connect-rate, --max-handshakes, --auth-ban-threshold and --auth-ban-ip-threshold must not be negative (0 turns them off)")
	}
	if (c.AuthBanThreshold > 0 || c.AuthBanIPThreshold > 0) && (c.AuthBanWindow <= 0 || c.AuthBanDuration <= 0) {
		return fmt.Errorf("--auth-ban-window and --auth-ban-duration must be positive (set --auth-ban-threshold 0 and --auth-ban-ip-threshold 0 to turn bans off)")
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = 10 * time.Second
	}
	if err := c.SMTP.Validate(); err != nil {
		return err
	}
	if c.QueryTimeout < 0 || c.QueryMaxRows < 0 {
		return fmt.Errorf("--query-timeout and --query-max-rows must not be negative (0 means the default: %v, %d rows)", d.QueryTimeout, d.QueryMaxRows)
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = d.QueryTimeout
	}
	if c.QueryMaxRows == 0 {
		c.QueryMaxRows = d.QueryMaxRows
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = d.ShutdownGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
