package hubclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tether-iot/tether/internal/wire"
)

func eventSubscriptionPath(name string) string {
	return "/v1/eventSubscriptions/" + url.PathEscape(name)
}

// PutEventSubscription creates or replaces the lifecycle-event
// subscription s.Name with s's URL, types, schema and secret (empty ones
// are left to the hub) and reports whether it was created. The answer
// carries the secret only when the hub generated it for a new
// subscription.
func (c *Client) PutEventSubscription(ctx context.Context, s wire.EventSubscription) (wire.EventSubscription, bool, error) {
	var out wire.EventSubscription
	body, err := json.Marshal(struct {
		URL    string   `json:"url"`
		Types  []string `json:"types,omitempty"`
		Schema string   `json:"schema,omitempty"`
		Secret string   `json:"secret,omitempty"`
	}{s.URL, s.Types, s.Schema, s.Secret})
	if err != nil {
		return out, false, err
	}
	resp, err := c.request(ctx, http.MethodPut, eventSubscriptionPath(s.Name), nil,
		http.Header{"Content-Type": {"application/json; charset=utf-8"}}, bytes.NewReader(body))
	if err != nil {
		return out, false, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&out); err != nil {
		return out, false, fmt.Errorf("decode event subscription answer: %w", err)
	}
	return out, resp.StatusCode == http.StatusCreated, nil
}

// EventSubscription reads one subscription.
func (c *Client) EventSubscription(ctx context.Context, name string) (wire.EventSubscription, error) {
	var out wire.EventSubscription
	return out, c.do(ctx, http.MethodGet, eventSubscriptionPath(name), "", nil, &out)
}

// EventSubscriptions lists the subscriptions.
func (c *Client) EventSubscriptions(ctx context.Context) ([]wire.EventSubscription, error) {
	var out []wire.EventSubscription
	return out, c.do(ctx, http.MethodGet, "/v1/eventSubscriptions", "", nil, &out)
}

// DeleteEventSubscription removes a subscription and its waiting events.
func (c *Client) DeleteEventSubscription(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, eventSubscriptionPath(name), "", nil, nil)
}

// EventDeliveries reads the newest limit delivery attempts (0: the hub's
// default) of one subscription, or of all for "", newest first.
func (c *Client) EventDeliveries(ctx context.Context, subscription string, limit int) ([]wire.EventDelivery, error) {
	q := url.Values{}
	if subscription != "" {
		q.Set("subscription", subscription)
	}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	resp, err := c.request(ctx, http.MethodGet, "/v1/eventDeliveries", q, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []wire.EventDelivery
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode event deliveries: %w", err)
	}
	return out, nil
}
