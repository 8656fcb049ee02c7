package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// AlertRules manages alert rules and reads their history. Bad input is an
// ArgumentInvalid error that says what to fix (an unknown metric, a query
// that does not compile, with its position, an impossible window and
// frequency, an unknown action group); an unknown name is a not found
// error.
type AlertRules interface {
	PutRule(ctx context.Context, in wire.AlertRule) (wire.AlertRule, bool, error)
	Rule(ctx context.Context, name string) (wire.AlertRule, error)
	Rules(ctx context.Context) ([]wire.AlertRule, error)
	DeleteRule(ctx context.Context, name string) error
	SetEnabled(ctx context.Context, name string, enabled bool) (wire.AlertRule, error)
	History(ctx context.Context, name string, limit int) ([]wire.AlertEvent, error)
	// ExportPrometheus writes the rules as a Prometheus rule file (YAML).
	ExportPrometheus(ctx context.Context) ([]byte, error)
}

// alertRoutes registers /v1/alertRules.
func (a *API) alertRoutes() {
	a.handleAlert("PUT /v1/alertRules/{name}", a.putAlertRule)
	a.handleAlert("GET /v1/alertRules", a.listAlertRules)
	a.handleAlert("GET /v1/alertRules/{name}", a.getAlertRule)
	a.handleAlert("DELETE /v1/alertRules/{name}", a.deleteAlertRule)
	a.handleAlert("POST /v1/alertRules/{name}/enable", a.enableAlertRule(true))
	a.handleAlert("POST /v1/alertRules/{name}/disable", a.enableAlertRule(false))
	a.handleAlert("GET /v1/alertRules/{name}/history", a.alertHistory)
	a.handleAlert("GET /v1/alertHistory", a.alertHistory)
}

// handleAlert registers an alert route: ServiceConnect, versioned by its
// path.
func (a *API) handleAlert(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err := a.authorize(r, tether.ServiceConnect)
		if err == nil && a.o.Alerts == nil {
			err = tether.Errorf(tether.ServiceUnavailable, "alert rules are not configured on this hub")
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// putAlertRule creates (201) or replaces (200) a rule.
func (a *API) putAlertRule(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return err
	}
	var in wire.AlertRule
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return tether.Errorf(tether.ArgumentInvalid, "request body is not valid: %s; the fields are described in docs/alerts.md", describeJSONError(err))
	}
	if in.Name != "" && in.Name != name {
		return tether.Errorf(tether.ArgumentInvalid, "name %q in the body does not match %q in the URL", in.Name, name)
	}
	in.Name = name
	out, created, err := a.o.Alerts.PutRule(r.Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, "", out)
}

// listAlertRules answers GET /v1/alertRules, or with ?format=prometheus
// the rules as a Prometheus rule file.
func (a *API) listAlertRules(w http.ResponseWriter, r *http.Request) error {
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
	case "prometheus":
		b, err := a.o.Alerts.ExportPrometheus(r.Context())
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, err = w.Write(b)
		return err
	default:
		return tether.Errorf(tether.ArgumentInvalid, "format %q: use json or prometheus", f)
	}
	rs, err := a.o.Alerts.Rules(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", rs)
}

func (a *API) getAlertRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := a.o.Alerts.Rule(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", rule)
}

func (a *API) deleteAlertRule(w http.ResponseWriter, r *http.Request) error {
	if err := a.o.Alerts.DeleteRule(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) enableAlertRule(enabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rule, err := a.o.Alerts.SetEnabled(r.Context(), r.PathValue("name"), enabled)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, "", rule)
	}
}

// alertHistory answers GET /v1/alertRules/{name}/history?limit= and, for
// every rule, GET /v1/alertHistory?limit=.
func (a *API) alertHistory(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return tether.Errorf(tether.ArgumentInvalid, "limit %q: use a whole number from 1 to 10000", s)
		}
		limit = n
	}
	name := r.PathValue("name")
	if name != "" {
		if _, err := a.o.Alerts.Rule(r.Context(), name); err != nil && tether.ErrorKind(err) == tether.KindNotFound {
			// a deleted rule's history is still there: show it if any
			es, herr := a.o.Alerts.History(r.Context(), name, limit)
			if herr != nil || len(es) == 0 {
				return err
			}
			return writeJSON(w, http.StatusOK, "", es)
		}
	}
	es, err := a.o.Alerts.History(r.Context(), name, limit)
	if err != nil {
		return err
	}
	if es == nil {
		es = []wire.AlertEvent{}
	}
	return writeJSON(w, http.StatusOK, "", es)
}
