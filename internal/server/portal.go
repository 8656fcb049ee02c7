package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/tether-iot/tether/internal/portal"
)

// portalPasswordPath is where the portal's admin password hash lives.
func portalPasswordPath(dataDir string) string {
	return filepath.Join(dataDir, "portal", "admin-password")
}

// newPortal builds the web portal over the service API svc. On the data
// folder's first start it creates the admin password and returns it, to
// be printed once.
func (s *Server) newPortal(svc http.Handler) (*portal.Portal, string, error) {
	pw := portal.NewPasswords(portalPasswordPath(s.cfg.DataDir), s.cfg.PortalPasswordIterations)
	first, err := pw.Ensure()
	if err != nil {
		return nil, "", err
	}
	p, err := portal.New(portal.Options{
		Hostname: s.cfg.Hostname, API: svc, Policy: s.st.Policy, Logs: s.st.LogsDB(), Passwords: pw,
		Health: s.portalHealth, Logger: s.log.With("component", "portal"),
	})
	return p, first, err
}

// portalHealth is the overview's hub health.
func (s *Server) portalHealth(ctx context.Context) (portal.Health, error) {
	h := portal.Health{Started: s.started, Connected: s.gw.Connected(), StoreBytes: map[string]int64{},
		LogQueued: s.diag.rec.Queued(), LogDropped: s.diag.rec.Dropped(), LogWritten: s.diag.rec.Written()}
	for _, name := range []string{"tether.db", "telemetry.db", "logs.db"} {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			if st, err := os.Stat(filepath.Join(s.cfg.DataDir, name+suffix)); err == nil {
				n += st.Size()
			}
		}
		h.StoreBytes[name] = n
	}
	return h, nil
}

// ResetPortalPassword gives the portal of the hub in dataDir a new random
// admin password and returns it. A running hub uses it at once.
func ResetPortalPassword(dataDir string) (string, error) {
	if _, err := os.Stat(storePath(dataDir)); err != nil {
		return "", fmt.Errorf("%s holds no Tether hub (no tether.db); give the hub's data folder with --data", dataDir)
	}
	return portal.NewPasswords(portalPasswordPath(dataDir), 0).Reset()
}
