package events

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// Limits on what a subscription may hold.
const (
	MaxURLLength      = 2048
	MinSecretLength   = 16
	MaxSecretLength   = 256
	DefaultDeliveries = 100  // attempts Deliveries returns when no limit is given
	MaxDeliveries     = 1000 // the most it returns
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidateName checks a subscription name: 1 to 64 letters, digits,
// '-', '_' and '.'.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return tether.Errorf(tether.ArgumentInvalid, "subscription name %q is not valid; use 1 to 64 letters, digits, '-', '_' or '.'", name)
	}
	return nil
}

// parse validates in and returns it as a Subscription: types and schema
// normalised, no types meaning all of them.
func parse(in wire.EventSubscription) (Subscription, error) {
	s := Subscription{Name: in.Name, URL: strings.TrimSpace(in.URL), Secret: tether.Secret(in.Secret)}
	if err := ValidateName(s.Name); err != nil {
		return s, err
	}
	if err := validateURL(s.URL); err != nil {
		return s, err
	}
	types := in.Types
	if len(types) == 0 {
		for _, t := range Types() {
			types = append(types, string(t))
		}
	}
	seen := map[EventType]bool{}
	for _, name := range types {
		t, err := ParseType(name)
		if err != nil {
			return s, err
		}
		seen[t] = true
	}
	for _, t := range Types() {
		if seen[t] {
			s.Types = append(s.Types, string(t))
		}
	}
	switch strings.ToLower(strings.TrimSpace(in.Schema)) {
	case "", SchemaEventGrid, "eventgridschema":
		s.Schema = SchemaEventGrid
	case SchemaCloudEvents, "cloudeventschemav1_0":
		s.Schema = SchemaCloudEvents
	default:
		return s, tether.Errorf(tether.ArgumentInvalid, "schema %q is not known; use eventgrid or cloudevents", in.Schema)
	}
	if in.Secret != "" {
		switch n := len(in.Secret); {
		case n < MinSecretLength || n > MaxSecretLength:
			return s, tether.Errorf(tether.ArgumentInvalid, "the secret is %d characters long; use %d to %d (or leave it out and the hub makes one)", n, MinSecretLength, MaxSecretLength)
		case strings.ContainsFunc(in.Secret, unicode.IsControl):
			return s, tether.Errorf(tether.ArgumentInvalid, "the secret may not contain control characters")
		}
	}
	return s, nil
}

func validateURL(raw string) error {
	if raw == "" {
		return tether.Errorf(tether.ArgumentInvalid, "url is required: the http:// or https:// address events are posted to")
	}
	if len(raw) > MaxURLLength {
		return tether.Errorf(tether.ArgumentInvalid, "url is %d characters long; the limit is %d", len(raw), MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return tether.Errorf(tether.ArgumentInvalid, "url %q is not a valid URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return tether.Errorf(tether.ArgumentInvalid, "url %q: use an absolute http:// or https:// URL", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return tether.Errorf(tether.ArgumentInvalid, "url %q has no host", raw)
	}
	if u.Fragment != "" {
		return tether.Errorf(tether.ArgumentInvalid, "url %q has a #fragment, which is never sent; remove it", raw)
	}
	return nil
}

// toWire returns s as the API shows it, without its secret.
func toWire(s Subscription) wire.EventSubscription {
	w := wire.EventSubscription{Name: s.Name, URL: s.URL, Types: s.Types, Schema: s.Schema,
		CreatedTime: wire.Time(s.Created), UpdatedTime: wire.Time(s.Updated), PendingCount: s.Pending,
		DeadCount: s.Dead, ConsecutiveFailures: s.Failures}
	if w.Types == nil {
		w.Types = []string{}
	}
	if !s.NextAttempt.IsZero() {
		t := wire.Time(s.NextAttempt)
		w.NextAttemptTime = &t
	}
	return w
}

// PutSubscription creates the subscription in.Name, or replaces its URL,
// types and schema, and reports whether it created it. A missing secret
// is generated on create (and shown in the answer, only then) and kept on
// replace. Bad input is an ArgumentInvalid error that says what to fix.
func (e *Events) PutSubscription(ctx context.Context, in wire.EventSubscription) (wire.EventSubscription, bool, error) {
	s, err := parse(in)
	if err != nil {
		return wire.EventSubscription{}, false, err
	}
	given := s.Secret != ""
	if !given {
		if s.Secret, err = e.newSecret(); err != nil {
			return wire.EventSubscription{}, false, err
		}
	}
	now := e.o.Now()
	s.Created, s.Updated = now, now
	out, created, err := e.o.Store.PutEventSubscription(ctx, s, given)
	if err != nil {
		return wire.EventSubscription{}, false, err
	}
	w := toWire(out)
	if created && !given {
		w.Secret = out.Secret.Reveal()
	}
	verb := "replaced"
	if created {
		verb = "created"
	}
	e.log.Info("event subscription "+verb, "subscription", s.Name, "types", strings.Join(s.Types, ","), "schema", s.Schema)
	e.notify() // a replaced subscription's back-off was cleared
	return w, created, nil
}

// Subscription returns one subscription, without its secret.
func (e *Events) Subscription(ctx context.Context, name string) (wire.EventSubscription, error) {
	if err := ValidateName(name); err != nil {
		return wire.EventSubscription{}, err
	}
	s, err := e.o.Store.EventSubscription(ctx, name)
	if err != nil {
		return wire.EventSubscription{}, err
	}
	return toWire(s), nil
}

// Subscriptions returns every subscription, by name, without secrets.
func (e *Events) Subscriptions(ctx context.Context) ([]wire.EventSubscription, error) {
	subs, err := e.o.Store.EventSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.EventSubscription, len(subs))
	for i, s := range subs {
		out[i] = toWire(s)
	}
	return out, nil
}

// DeleteSubscription removes a subscription and the events waiting for
// it; its delivery record is kept until Retention ends.
func (e *Events) DeleteSubscription(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := e.o.Store.DeleteEventSubscription(ctx, name); err != nil {
		return err
	}
	e.log.Info("event subscription deleted", "subscription", name)
	return nil
}

// Deliveries returns the newest limit delivery attempts, newest first, of
// one subscription or, for "", of all. limit 0 means DefaultDeliveries.
func (e *Events) Deliveries(ctx context.Context, subscription string, limit int) ([]wire.EventDelivery, error) {
	if subscription != "" {
		if err := ValidateName(subscription); err != nil {
			return nil, err
		}
	}
	if limit < 0 || limit > MaxDeliveries {
		return nil, tether.Errorf(tether.ArgumentInvalid, "limit %d is out of range; use 1 to %d", limit, MaxDeliveries)
	}
	if limit == 0 {
		limit = DefaultDeliveries
	}
	ds, err := e.o.Store.EventDeliveries(ctx, subscription, limit)
	if err != nil {
		return nil, err
	}
	out := make([]wire.EventDelivery, len(ds))
	for i, d := range ds {
		w := wire.EventDelivery{ID: d.ID, Subscription: d.Subscription, Time: wire.Time(d.Time), Attempt: d.Attempt,
			EventIDs: d.EventIDs, StatusCode: d.StatusCode, Error: d.Error,
			LatencyMs: float64(d.Latency.Microseconds()) / 1000, Outcome: d.Outcome}
		if w.EventIDs == nil {
			w.EventIDs = []string{}
		}
		if !d.NextAttempt.IsZero() {
			t := wire.Time(d.NextAttempt)
			w.NextAttemptTime = &t
		}
		out[i] = w
	}
	return out, nil
}
