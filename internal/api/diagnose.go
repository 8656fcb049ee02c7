package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// DiagnoseQuery is what GET /v1/diagnose asks for.
type DiagnoseQuery struct {
	DeviceID    string        // "" for the whole hub
	Since       time.Duration // how far back; 0 means the default (24h)
	SilentAfter time.Duration // 0 means the default (1h)
	Now         time.Time
}

// Diagnoser runs the doctor's detectors over the connection history.
type Diagnoser interface {
	Diagnose(ctx context.Context, q DiagnoseQuery) (wire.Diagnosis, error)
}

// getDiagnosis serves GET /v1/diagnose?deviceId=&since=&silentAfter=.
func (a *API) getDiagnosis(w http.ResponseWriter, r *http.Request) error {
	if a.o.Doctor == nil {
		return tether.Errorf(tether.ServiceUnavailable, "the doctor is not configured on this hub")
	}
	q := DiagnoseQuery{DeviceID: r.URL.Query().Get("deviceId"), Now: a.o.Now()}
	var err error
	if q.Since, err = ParseSince("since", r.URL.Query().Get("since")); err != nil {
		return err
	}
	if q.SilentAfter, err = ParseSince("silentAfter", r.URL.Query().Get("silentAfter")); err != nil {
		return err
	}
	d, err := a.o.Doctor.Diagnose(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", d)
}

// ParseSince parses a look-back duration: Go's form (90m, 24h, 1h30m) or
// whole days (7d). "" is 0.
func ParseSince(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	bad := func() (time.Duration, error) {
		return 0, tether.Errorf(tether.ArgumentInvalid, "%s %q is not a duration: write for example 90m, 24h or 7d", name, s)
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 366 {
			return bad()
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return bad()
	}
	return d, nil
}

// handleDiagnose registers the /v1/diagnose route: ServiceConnect (it
// reads the connection log), versioned by its path.
func (a *API) handleDiagnose(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err := a.authorize(r, tether.ServiceConnect)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}
