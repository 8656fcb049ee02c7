package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// ActionGroups keeps the action groups that alert rules notify and reads
// the record of notifications. Bad input is an ArgumentInvalid error that
// names the receiver and what to fix; an unknown name is a not found
// error, an existing one a conflict. Receiver URLs come back redacted.
type ActionGroups interface {
	// CreateGroup creates in.Name; the answer carries the generated
	// webhook signing secret, shown only this once.
	CreateGroup(ctx context.Context, in wire.ActionGroup) (wire.ActionGroup, error)
	Group(ctx context.Context, name string) (wire.ActionGroup, error)
	GroupList(ctx context.Context) ([]wire.ActionGroup, error)
	DeleteGroup(ctx context.Context, name string) error
	// History returns the newest limit attempts (0: a default) of one
	// group or, for "", of all, newest first.
	History(ctx context.Context, group string, limit int) ([]wire.NotificationAttempt, error)
	// TestGroup sends a test notification to each receiver at once and
	// reports each answer.
	TestGroup(ctx context.Context, name string) (wire.NotificationTest, error)
}

// AlertTester sends a test notification of an alert rule to its action
// groups and reports each receiver's answer.
type AlertTester interface {
	TestRule(ctx context.Context, name string) (wire.NotificationTest, error)
}

func (a *API) actionGroupRoutes() {
	a.handleNotify("POST /v1/actionGroups", a.createActionGroup)
	a.handleNotify("GET /v1/actionGroups", a.listActionGroups)
	a.handleNotify("GET /v1/actionGroups/{name}", a.getActionGroup)
	a.handleNotify("DELETE /v1/actionGroups/{name}", a.deleteActionGroup)
	a.handleNotify("GET /v1/actionGroups/{name}/history", a.actionGroupHistory)
	a.handleNotify("POST /v1/actionGroups/{name}/test", a.testActionGroup)
	a.handleNotify("GET /v1/notificationHistory", a.actionGroupHistory)
	a.handleNotify("POST /v1/alertRules/{name}/test", a.testAlertRule)
}

// handleNotify registers an /v1/actionGroups route: ServiceConnect,
// versioned by its path.
func (a *API) handleNotify(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err := a.authorize(r, tether.ServiceConnect)
		if err == nil && (a.o.ActionGroups == nil || a.o.AlertTests == nil && strings.HasPrefix(pattern, "POST /v1/alertRules/")) {
			err = tether.Errorf(tether.ServiceUnavailable, "alert notifications are not configured on this hub")
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// createActionGroup answers POST /v1/actionGroups: 201 with the secret.
func (a *API) createActionGroup(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return err
	}
	var in wire.ActionGroup
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return tether.Errorf(tether.ArgumentInvalid, "request body is not valid: %s; the fields are name and receivers (each with type and url or address)", describeJSONError(err))
	}
	out, err := a.o.ActionGroups.CreateGroup(r.Context(), wire.ActionGroup{Name: in.Name, Receivers: in.Receivers})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, "", out)
}

func (a *API) listActionGroups(w http.ResponseWriter, r *http.Request) error {
	gs, err := a.o.ActionGroups.GroupList(r.Context())
	if err != nil {
		return err
	}
	if gs == nil {
		gs = []wire.ActionGroup{}
	}
	return writeJSON(w, http.StatusOK, "", gs)
}

func (a *API) getActionGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.o.ActionGroups.Group(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", g)
}

// deleteActionGroup answers DELETE /v1/actionGroups/{name}[?force=true]:
// 204. A group that alert rules still notify is refused with the rules'
// names, unless force is given: those rules would otherwise go on firing
// with nobody told.
func (a *API) deleteActionGroup(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	force := false
	if s := r.URL.Query().Get("force"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return tether.Errorf(tether.ArgumentInvalid, "force %q is not true or false", s)
		}
		force = b
	}
	if !force && a.o.Alerts != nil {
		if _, err := a.o.ActionGroups.Group(r.Context(), name); err != nil {
			return err
		}
		rules, err := a.o.Alerts.Rules(r.Context())
		if err != nil {
			return err
		}
		var users []string
		for _, rule := range rules {
			if slices.Contains(rule.ActionGroups, name) {
				users = append(users, rule.Name)
			}
		}
		if len(users) > 0 {
			return &tether.Error{Kind: tether.KindConflict, Code: tether.Conflict, Message: fmt.Sprintf(
				"Action group '%s' is used by alert rule(s) %s: they would fire with nobody told. Delete or re-create those rules without it, or delete it anyway with force=true (tether action-group delete %s --force).",
				name, strings.Join(users, ", "), name)}
		}
	}
	if err := a.o.ActionGroups.DeleteGroup(r.Context(), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// actionGroupHistory answers GET /v1/actionGroups/{name}/history?limit=
// and, for every group, GET /v1/notificationHistory?limit=.
func (a *API) actionGroupHistory(w http.ResponseWriter, r *http.Request) error {
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return tether.Errorf(tether.ArgumentInvalid, "limit %q is not a whole number from 1 to 10000", s)
		}
		limit = n
	}
	hs, err := a.o.ActionGroups.History(r.Context(), r.PathValue("name"), limit)
	if err != nil {
		return err
	}
	if hs == nil {
		hs = []wire.NotificationAttempt{}
	}
	return writeJSON(w, http.StatusOK, "", hs)
}

// testActionGroup answers POST /v1/actionGroups/{name}/test: 200 with
// each receiver's answer, whether or not it was delivered.
func (a *API) testActionGroup(w http.ResponseWriter, r *http.Request) error {
	res, err := a.o.ActionGroups.TestGroup(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", res)
}

// testAlertRule answers POST /v1/alertRules/{name}/test: 200 with each
// receiver's answer to a test notification of the rule.
func (a *API) testAlertRule(w http.ResponseWriter, r *http.Request) error {
	res, err := a.o.AlertTests.TestRule(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", res)
}
