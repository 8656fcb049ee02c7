package portal

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/tether-iot/tether"
)

// Querier runs read-only SQL on the log store (logs.db); *sql.DB is one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// PolicyFunc looks up a shared access policy by name.
type PolicyFunc func(ctx context.Context, name string) (tether.Policy, error)

// Health is the hub's state as the overview shows it.
type Health struct {
	Started      time.Time        `json:"started"`
	LogQueued    int              `json:"logQueued"`  // records waiting for the log writer
	LogDropped   int64            `json:"logDropped"` // records the writer had to drop
	LogWritten   int64            `json:"logWritten"`
	StoreBytes   map[string]int64 `json:"storeBytes"` // file name to size
	Connected    int              `json:"connected"`
	Version      string           `json:"version,omitempty"`
	LastLogWrite *time.Time       `json:"lastLogWrite,omitempty"`
}

// Options configures a Portal.
type Options struct {
	Hostname string       // the hub's host name, the audience of the SAS tokens it signs; required
	API      http.Handler // the service API; required
	Policy   PolicyFunc   // required
	Logs     Querier      // the log store; nil: the overview and timeline answer 503
	// Passwords holds the admin password; nil: only connection strings log in.
	Passwords *Passwords
	// Health reports the hub's health for the overview; nil: not shown.
	Health func(ctx context.Context) (Health, error)
	// SessionTTL is how long a login lasts; 0: 12h.
	SessionTTL time.Duration
	Logger     *slog.Logger     // nil: discard
	Now        func() time.Time // nil: time.Now
}

// Portal is the portal's HTTP handler. Mount it at "GET /{$}" and
// "/portal/".
type Portal struct {
	o         Options
	log       *slog.Logger
	mux       *http.ServeMux
	sessions  *sessions
	limiter   *limiter
	overviews overviewCache
}

// New returns a Portal ready to serve.
func New(o Options) (*Portal, error) {
	if o.Hostname == "" || o.API == nil || o.Policy == nil {
		return nil, errors.New("portal: Hostname, API and Policy are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	p := &Portal{o: o, log: o.Logger, mux: http.NewServeMux(),
		sessions: newSessions(o.SessionTTL), limiter: newLimiter()}
	p.routes()
	return p, nil
}

func (p *Portal) routes() {
	p.mux.HandleFunc("GET /{$}", p.index)
	p.mux.HandleFunc("GET /portal/{$}", p.index)
	p.mux.HandleFunc("GET /portal/assets/{file}", p.asset)
	p.mux.HandleFunc("GET /portal/api/session", p.session)
	p.mux.HandleFunc("POST /portal/api/login", p.login)
	p.mux.HandleFunc("POST /portal/api/logout", p.logout)
	p.mux.Handle("GET /portal/api/overview", p.authed(tether.ServiceConnect, p.overview))
	p.mux.Handle("GET /portal/api/devices/{id}/timeline", p.authed(tether.ServiceConnect, p.timeline))
	p.mux.Handle("/portal/api/svc/", p.authed(0, p.proxy))
	p.mux.HandleFunc("/portal/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "NotFound", "no such portal endpoint: "+r.Method+" "+r.URL.Path)
	})
}

// ServeHTTP serves the portal with its security headers.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	p.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows only the portal's own scripts, styles and
// calls: no inline script or style, no framing, no plugins.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}
