package server

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/alert"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/events"
	"github.com/tether-iot/tether/internal/gateway"
	"github.com/tether-iot/tether/internal/notify"
	"github.com/tether-iot/tether/internal/pki"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/stream"
	"github.com/tether-iot/tether/sas"
)

// Server is an assembled hub, its listeners bound, ready to Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	st       *store.Store
	tls      *pki.Bundle
	stream   *stream.Stream
	gw       *gateway.Gateway
	diag     *diagnostics
	events   *events.Events
	alerts   *alert.Engine
	notify   *notify.Dispatcher
	presence chan diag.PresenceChange
	httpsLn  net.Listener
	mqttLn   net.Listener
	http     *http.Server
	started  time.Time
	baseCtx  context.Context // of every request; cancelled at shutdown so streams end
	stopBase context.CancelFunc
	policies []string // default policies created by this start
	api      *api.API
	portal   http.Handler
	// portalPassword is the admin password created by this start, "" if
	// it existed before.
	portalPassword string
}

// New assembles a hub from cfg. Everything that can fail on bad
// configuration fails here, with advice.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now()}
	if err := prepareDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	var err error
	if s.st, err = store.Open(ctx, store.Options{Path: storePath(cfg.DataDir), Logger: s.log.With("component", "store"), ResourceID: cfg.ResourceID}); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	if s.policies, err = ensurePolicies(ctx, s.st, nil); err != nil {
		return nil, err
	}
	// After a crash the registry may still show devices as connected.
	if n, err := s.st.ResetPresence(ctx, s.started); err != nil {
		return nil, err
	} else if n > 0 {
		s.log.Info("devices marked disconnected: the hub was not running", "devices", n)
	}
	if s.tls, err = pki.Load(pki.Options{Dir: cfg.DataDir, Hostname: cfg.Hostname, CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey}); err != nil {
		return nil, err
	}
	if s.stream, err = stream.New(stream.Options{Storage: streamStorage{s.st}, Logger: s.log.With("component", "stream"),
		Retention: cfg.TelemetryRetention}); err != nil {
		return nil, err
	}
	var gwRef *gateway.Gateway
	if s.diag, err = newDiagnostics(s.st, cfg, func() int { return gwRef.Connected() }); err != nil {
		return nil, err
	}
	if s.gw, err = gateway.New(gateway.Options{
		Hostname: cfg.Hostname, Registry: s.st, Twins: s.st, Telemetry: s.stream, C2D: s.st, Presence: presence{s.st}, Sessions: sessions{s.st},
		Events: s.diag.event, Observer: s.diag.metrics, Logger: s.log.With("component", "gateway"), ConnectTimeout: cfg.ConnectTimeout,
		DeviceRate: cfg.DeviceRate, ConnectRate: cfg.MaxConnectRate, MaxHandshakes: cfg.MaxHandshakes, HandshakeWait: cfg.HandshakeWait,
		AuthBanThreshold: cfg.AuthBanThreshold, AuthBanIPThreshold: cfg.AuthBanIPThreshold, AuthBanWindow: cfg.AuthBanWindow, AuthBanDuration: cfg.AuthBanDuration,
	}); err != nil {
		return nil, err
	}
	gwRef = s.gw
	s.diag.metrics.AddAdmission(admissionStats(s.gw))
	if s.events, err = newEvents(s.st, cfg.Hostname, cfg.ResourceID, s.log.With("component", "events")); err != nil {
		return nil, err
	}
	if s.notify, err = newNotifier(s.st, cfg.ResourceID, cfg.SMTP, s.log.With("component", "notify")); err != nil {
		return nil, err
	}
	s.diag.metrics.AddNotifications(notificationCounts(s.notify))
	s.presence = make(chan diag.PresenceChange, 4096)
	if s.alerts, err = newAlerts(s.st, alertMetrics{m: s.diag.metrics, presence: s.diag.online}, alertParts{logs: alertLogs{s.st.LogsDB()}, groups: alertGroups{s.notify}, notifier: alertNotifier{s.notify}}, s.log.With("component", "alert")); err != nil {
		return nil, err
	}
	s.diag.changes = func(c diag.PresenceChange) {
		select {
		case s.presence <- c:
		default:
			s.log.Error("lifecycle event dropped: the outbox writer is behind", "device", c.DeviceID, "state", c.State)
		}
	}
	svc, err := newAPI(cfg.Hostname, s.st, s.events, s.diag.apiOptions(&api.Options{Events: s.events, ActionGroups: s.notify,
		Logger: s.log.With("component", "api"), Methods: methods{s.gw}, Connected: s.gw.Connected,
		C2D: c2dQueue{s.st, s.gw}, Telemetry: telemetrySource{s.stream, s.st}, Changes: changes{s.gw},
		Alerts: s.alerts, AlertTests: ruleTester{s.alerts, s.notify},
		Bans: banList(s.gw),
		Logs: newLogQuerier(s.st.LogsDB(), cfg.QueryTimeout, cfg.QueryMaxRows),
	}))
	if err != nil {
		return nil, err
	}
	s.api = svc
	if s.portal, s.portalPassword, err = s.newPortal(svc); err != nil {
		return nil, err
	}
	if s.httpsLn, err = listen("--https-addr", cfg.HTTPSAddr); err != nil {
		return nil, err
	}
	if s.mqttLn, err = listen("--mqtt-addr", cfg.MQTTAddr); err != nil {
		return nil, err
	}
	// Remember the host name only once the hub can really start with it.
	if err := s.st.PutSetting(ctx, settingHostname, cfg.Hostname); err != nil {
		return nil, err
	}
	s.baseCtx, s.stopBase = context.WithCancel(context.Background())
	s.http = &http.Server{
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
		Handler:           s.routes(svc),
		TLSConfig:         s.tls.ServerConfig(),
		ReadHeaderTimeout: cfg.HeaderTimeout,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.With("component", "https").Handler(), slog.LevelDebug),
	}
	ok = true
	return s, nil
}

func (s *Server) routes(svc http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"status":"ok","uptimeSeconds":%d}`+"\n", int(time.Since(s.started).Seconds()))
	})
	mux.HandleFunc("GET /$iothub/websocket", s.gw.ServeWS)
	mux.Handle("GET /metrics", s.diag.metrics.Handler())
	mux.Handle("GET /{$}", s.portal)
	mux.Handle("/portal/", s.portal)
	mux.Handle("/", svc)
	return mux
}

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets requests in flight finish within the grace period, and
// closes the store.
func (s *Server) Run(ctx context.Context) error {
	defer s.close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := s.http.Serve(tls.NewListener(s.httpsLn, s.http.TLSConfig))
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("https: %w", err)
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
		defer cancel()
		s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace)
		s.stopBase() // ends telemetry streams and waiting method calls
		return s.http.Shutdown(sctx)
	})
	// The gateway closes its connections first; the stream keeps
	// committing their last messages until the gateway has stopped.
	streamCtx, stopStream := context.WithCancel(context.Background())
	streamDone := make(chan error, 1)
	go func() { streamDone <- s.stream.Run(streamCtx) }()
	diagCtx, stopDiag := context.WithCancel(context.Background())
	diagDone := make(chan error, 1)
	go func() { diagDone <- s.diag.run(diagCtx) }()
	g.Go(func() error { return s.gw.Serve(ctx, s.mqttLn, s.tls.ServerConfig()) })
	g.Go(func() error { return s.gw.Run(ctx) })
	if err := s.writeRunFile(); err != nil {
		s.log.Warn("cannot write run.json; local CLI commands will not reach this hub", "err", err)
	}
	defer s.removeRunFile()
	g.Go(func() error { return s.maintain(ctx) })
	g.Go(func() error { return s.events.Run(ctx) })
	g.Go(func() error { return s.alerts.Run(ctx) })
	g.Go(func() error { return s.notify.Run(ctx) })
	go presenceEvents(diagCtx, s.presence, logPublisher{s.events, s.log})
	s.log.Info("hub started", "https", s.httpsLn.Addr().String(), "mqtt", s.mqttLn.Addr().String(), "data", s.cfg.DataDir, "hostname", s.cfg.Hostname)
	err := g.Wait()
	stopStream()
	if serr := <-streamDone; err == nil {
		err = serr
	}
	stopDiag() // after the gateway: its last disconnects are recorded
	if derr := <-diagDone; err == nil {
		err = derr
	}
	return err
}

func (s *Server) close() {
	if s.httpsLn != nil {
		s.httpsLn.Close()
	}
	if s.mqttLn != nil {
		s.mqttLn.Close()
	}
	if s.st != nil {
		s.st.Close()
	}
}

// MQTTAddr is the bound address of the MQTT over TLS listener.
func (s *Server) MQTTAddr() net.Addr { return s.mqttLn.Addr() }

// Connected is the number of connected devices.
func (s *Server) Connected() int { return s.gw.Connected() }

// HTTPSAddr is the bound address of the HTTPS listener.
func (s *Server) HTTPSAddr() net.Addr { return s.httpsLn.Addr() }

// Hostname is the name devices and SDKs use.
func (s *Server) Hostname() string { return s.cfg.Hostname }

// DataDir is the data folder.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// CAFile is the PEM file clients must trust, or "" with an operator
// certificate.
func (s *Server) CAFile() string { return s.tls.CAFile }

// PortalPassword is the portal's admin password when this start created
// it, to be shown once; "" otherwise.
func (s *Server) PortalPassword() string { return s.portalPassword }

// CreatedPolicies lists the default policies this start created.
func (s *Server) CreatedPolicies() []string { return s.policies }

// PolicyConnectionString returns the connection string of a policy.
func (s *Server) PolicyConnectionString(ctx context.Context, name string) (sas.ConnectionString, error) {
	return policyConnectionString(ctx, s.st, s.cfg.Hostname, name)
}

// Policies lists the hub's shared access policies, keys included.
func (s *Server) Policies(ctx context.Context) ([]tether.Policy, error) { return s.st.Policies(ctx) }

// LogsDB is the read-only pool of the diagnostic log store, for queries.
func (s *Server) LogsDB() *sql.DB { return s.st.LogsDB() }

// FlushLogs writes the queued diagnostic records now (tests use it rather
// than waiting for the next flush).
func (s *Server) FlushLogs(ctx context.Context) { s.diag.rec.Flush(ctx) }

// maintain does the hub's periodic housekeeping until ctx ends: expired
// cloud-to-device messages are removed once a minute.
func (s *Server) maintain(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if n, err := s.diag.expireC2D(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Error("expire C2D messages", "err", err)
			} else if n > 0 {
				s.log.Info("expired C2D messages", "count", n)
			}
		}
	}
}
