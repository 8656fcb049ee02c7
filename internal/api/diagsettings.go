package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// DiagnosticSettings reads and changes the hub's diagnostic settings.
// PutDiagnosticSettings validates them (known categories, a writable
// absolute file path, an http or https URL) with ArgumentInvalid errors
// that say what to fix, stores them and applies them at once; both return
// the settings in force, every category listed and defaults filled in.
type DiagnosticSettings interface {
	DiagnosticSettings(ctx context.Context) (wire.DiagnosticSettings, error)
	PutDiagnosticSettings(ctx context.Context, s wire.DiagnosticSettings) (wire.DiagnosticSettings, error)
}

// handleDiag registers a /v1/diagnosticSettings route: ServiceConnect,
// versioned by its path.
func (a *API) handleDiag(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err := a.authorize(r, tether.ServiceConnect)
		if err == nil && a.o.Diagnostics == nil {
			err = tether.Errorf(tether.ServiceUnavailable, "diagnostic settings are not configured on this hub")
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

func (a *API) getDiagnosticSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.o.Diagnostics.DiagnosticSettings(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", s)
}

// putDiagnosticSettings replaces the settings: a category left out is on,
// a destination left out is off.
func (a *API) putDiagnosticSettings(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return err
	}
	var in wire.DiagnosticSettings
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return tether.Errorf(tether.ArgumentInvalid, "diagnostic settings are not valid: %s (fields: logs, store, file, http)", describeJSONError(err))
	}
	s, err := a.o.Diagnostics.PutDiagnosticSettings(r.Context(), in)
	if err != nil {
		return err
	}
	a.log.Info("diagnostic settings changed")
	return writeJSON(w, http.StatusOK, "", s)
}
