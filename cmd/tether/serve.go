package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/server"
)

func newServeCmd(g *globals) *cobra.Command {
	cfg := server.DefaultConfig()
	var logLevel, logFormat, smtpPassword string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub",
		Long: `Run the hub: the HTTPS service API and MQTT over WebSockets on --https-addr,
MQTT over TLS on --mqtt-addr, on the embedded SQLite store under --data.

On first start it creates the store, a local CA and server certificate
(DATA/tls/ca.pem is the file devices must trust) and the shared access policies
iothubowner, service, device, registryRead and registryReadWrite.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.DataDir, cfg.Hostname = g.dataDir, g.hostname
			cfg.SMTP.Password = tether.Secret(smtpPassword)
			if cfg.DeviceRate <= 0 {
				return usagef("--device-rate %v must be a positive number of messages per second", cfg.DeviceRate)
			}
			if cfg.TelemetryRetention <= 0 {
				return usagef("--telemetry-retention %v must be positive (for example 24h or 168h)", cfg.TelemetryRetention)
			}
			logger, err := newLogger(logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			srv, err := server.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			printBanner(cmd, srv)
			return srv.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.HTTPSAddr, "https-addr", cfg.HTTPSAddr, "address of the HTTPS listener (service API, MQTT over WebSockets)")
	f.StringVar(&cfg.MQTTAddr, "mqtt-addr", cfg.MQTTAddr, "address of the MQTT over TLS listener")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "your own server certificate chain (PEM) instead of the generated one")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "the private key (PEM) of --tls-cert")
	f.DurationVar(&cfg.ConnectTimeout, "connect-timeout", cfg.ConnectTimeout, "close connections that send no MQTT CONNECT within this time")
	f.Float64Var(&cfg.DeviceRate, "device-rate", cfg.DeviceRate, "telemetry messages per second one device may send before it is throttled (429005)")
	f.Float64Var(&cfg.MaxConnectRate, "max-connect-rate", cfg.MaxConnectRate, "MQTT CONNECTs admitted per second, hub-wide; excess connects get CONNACK 3 and are logged as 429001 (0: no limit)")
	f.IntVar(&cfg.MaxHandshakes, "max-handshakes", cfg.MaxHandshakes, "TLS handshakes in progress at once on the MQTT listener; beyond it a connection waits up to --handshake-wait, then is closed before TLS (429003) (0: no limit)")
	f.DurationVar(&cfg.HandshakeWait, "handshake-wait", cfg.HandshakeWait, "how long a connection waits for one of the --max-handshakes slots before it is closed")
	f.IntVar(&cfg.AuthBanThreshold, "auth-ban-threshold", cfg.AuthBanThreshold, "authentication failures for one device id within --auth-ban-window that ban it (0: no device bans)")
	f.IntVar(&cfg.AuthBanIPThreshold, "auth-ban-ip-threshold", cfg.AuthBanIPThreshold, "authentication failures from one source address within --auth-ban-window that ban the address (0: no address bans)")
	f.DurationVar(&cfg.AuthBanWindow, "auth-ban-window", cfg.AuthBanWindow, "the window in which --auth-ban-threshold failures are counted")
	f.DurationVar(&cfg.AuthBanDuration, "auth-ban-duration", cfg.AuthBanDuration, "how long a ban lasts; connects during it get CONNACK 3 and are logged as flapping_banned (429001)")
	f.DurationVar(&cfg.TelemetryRetention, "telemetry-retention", cfg.TelemetryRetention, "how long the built-in telemetry stream keeps messages")
	f.StringVar(&cfg.ResourceID, "resource-id", "", "the hub's resource path in diagnostic logs (default /SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/TETHER/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/TETHER)")
	f.DurationVar(&cfg.LogRetention, "log-retention", cfg.LogRetention, "how long diagnostic logs and metric samples are kept")
	f.DurationVar(&cfg.MetricsGrain, "metrics-grain", cfg.MetricsGrain, "time grain of the AzureMetrics samples (at least 10s)")
	f.DurationVar(&cfg.PresenceGrace, "presence-grace", cfg.PresenceGrace, "how long a disconnect waits for a reconnect before lifecycle events announce it")
	f.StringVar(&cfg.SMTP.Addr, "smtp-addr", "", "mail server (host:port) for email receivers of action groups; STARTTLS is used when offered")
	f.StringVar(&cfg.SMTP.From, "smtp-from", "", "sender address of alert emails (with --smtp-addr)")
	f.StringVar(&cfg.SMTP.User, "smtp-user", "", "SMTP user name (PLAIN authentication, only over TLS or to loopback)")
	f.StringVar(&smtpPassword, "smtp-password", "", "SMTP password (better: the TETHER_SMTP_PASSWORD environment variable)")
	f.DurationVar(&cfg.QueryTimeout, "query-timeout", cfg.QueryTimeout, "longest a log query (POST /v1/query, tether logs query) may run")
	f.IntVar(&cfg.QueryMaxRows, "query-max-rows", cfg.QueryMaxRows, "most rows a log query returns; longer results are cut and marked truncated")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return cmd
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: use text or json", format)
}

func printBanner(cmd *cobra.Command, srv *server.Server) {
	w := cmd.OutOrStdout()
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	fmt.Fprintf(w, "Tether hub %s\n", srv.Hostname())
	fmt.Fprintf(w, "  data:          %s\n", abs(srv.DataDir()))
	if ca := srv.CAFile(); ca != "" {
		fmt.Fprintf(w, "  trust this CA: %s\n", abs(ca))
	}
	fmt.Fprintf(w, "  service API:   https://%s:%s/  (listening on %s)\n", srv.Hostname(), port(srv.HTTPSAddr().String()), srv.HTTPSAddr())
	fmt.Fprintf(w, "  MQTT devices:  mqtts://%s:%s  and  wss://%s:%s/$iothub/websocket\n", srv.Hostname(), port(srv.MQTTAddr().String()), srv.Hostname(), port(srv.HTTPSAddr().String()))
	if p := srv.CreatedPolicies(); len(p) > 0 {
		fmt.Fprintf(w, "  created policies: %s\n", strings.Join(p, ", "))
	}
	fmt.Fprintf(w, "  web portal:    https://%s:%s/\n", srv.Hostname(), port(srv.HTTPSAddr().String()))
	if pw := srv.PortalPassword(); pw != "" {
		fmt.Fprintf(w, "  portal admin password (shown once; tether portal reset-password makes a new one): %s\n", pw)
	}
	fmt.Fprintf(w, "Owner connection string: tether hub connection-string --data %s\n", shellQuote(srv.DataDir()))
}

func port(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
