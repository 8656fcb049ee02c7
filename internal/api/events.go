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

// EventSubscriptions manages the webhooks that device lifecycle events
// are delivered to, and reads the record of deliveries. Bad input is an
// ArgumentInvalid error that says what to fix; an unknown name is a not
// found error.
type EventSubscriptions interface {
	// PutSubscription creates or replaces in.Name and reports whether it
	// created it. The answer carries the secret only when it was made
	// for a new subscription.
	PutSubscription(ctx context.Context, in wire.EventSubscription) (wire.EventSubscription, bool, error)
	Subscription(ctx context.Context, name string) (wire.EventSubscription, error)
	Subscriptions(ctx context.Context) ([]wire.EventSubscription, error)
	DeleteSubscription(ctx context.Context, name string) error
	// Deliveries returns the newest limit attempts (0: a default) of one
	// subscription or, for "", of all, newest first.
	Deliveries(ctx context.Context, subscription string, limit int) ([]wire.EventDelivery, error)
}

// handleV1 registers one of Tether's own /v1/ routes: versioned by its
// path, so api-version is accepted but not required.
func (a *API) handleV1(pattern string, need tether.Rights, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err := a.authorize(r, need)
		if err == nil && a.o.Events == nil {
			err = tether.Errorf(tether.ServiceUnavailable, "event subscriptions are not configured on this hub")
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// putEventSubscription creates or replaces a subscription: 201 with the
// generated secret when it is new, else 200.
func (a *API) putEventSubscription(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return err
	}
	var in wire.EventSubscription
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return tether.Errorf(tether.ArgumentInvalid, "request body is not valid: %s; the fields are url, types, schema and secret", describeJSONError(err))
	}
	if in.Name != "" && in.Name != name {
		return tether.Errorf(tether.ArgumentInvalid, "name %q in the body does not match %q in the URL", in.Name, name)
	}
	in.Name = name
	out, created, err := a.o.Events.PutSubscription(r.Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, "", out)
}

func (a *API) getEventSubscription(w http.ResponseWriter, r *http.Request) error {
	s, err := a.o.Events.Subscription(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", s)
}

func (a *API) listEventSubscriptions(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.o.Events.Subscriptions(r.Context())
	if err != nil {
		return err
	}
	if subs == nil {
		subs = []wire.EventSubscription{}
	}
	return writeJSON(w, http.StatusOK, "", subs)
}

func (a *API) deleteEventSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := a.o.Events.DeleteSubscription(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listEventDeliveries answers GET /v1/eventDeliveries?subscription=&limit=.
func (a *API) listEventDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return tether.Errorf(tether.ArgumentInvalid, "limit %q is not a positive whole number", s)
		}
		limit = n
	}
	ds, err := a.o.Events.Deliveries(r.Context(), q.Get("subscription"), limit)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []wire.EventDelivery{}
	}
	return writeJSON(w, http.StatusOK, "", ds)
}
