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

func alertRulePath(name string) string { return "/v1/alertRules/" + url.PathEscape(name) }

// PutAlertRule creates or replaces the alert rule r.Name and reports
// whether it was created.
func (c *Client) PutAlertRule(ctx context.Context, r wire.AlertRule) (wire.AlertRule, bool, error) {
	var out wire.AlertRule
	body, err := json.Marshal(r)
	if err != nil {
		return out, false, err
	}
	resp, err := c.request(ctx, http.MethodPut, alertRulePath(r.Name), nil,
		http.Header{"Content-Type": {"application/json; charset=utf-8"}}, bytes.NewReader(body))
	if err != nil {
		return out, false, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&out); err != nil {
		return out, false, fmt.Errorf("decode alert rule answer: %w", err)
	}
	return out, resp.StatusCode == http.StatusCreated, nil
}

// AlertRule reads one rule with its state.
func (c *Client) AlertRule(ctx context.Context, name string) (wire.AlertRule, error) {
	var out wire.AlertRule
	return out, c.do(ctx, http.MethodGet, alertRulePath(name), "", nil, &out)
}

// AlertRules lists the rules.
func (c *Client) AlertRules(ctx context.Context) ([]wire.AlertRule, error) {
	var out []wire.AlertRule
	return out, c.do(ctx, http.MethodGet, "/v1/alertRules", "", nil, &out)
}

// DeleteAlertRule removes a rule.
func (c *Client) DeleteAlertRule(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, alertRulePath(name), "", nil, nil)
}

// SetAlertRuleEnabled enables or disables a rule.
func (c *Client) SetAlertRuleEnabled(ctx context.Context, name string, enabled bool) (wire.AlertRule, error) {
	verb := "/disable"
	if enabled {
		verb = "/enable"
	}
	var out wire.AlertRule
	return out, c.do(ctx, http.MethodPost, alertRulePath(name)+verb, "", nil, &out)
}

// AlertHistory reads a rule's newest limit state changes (0: the hub's
// default), or every rule's for "", newest first.
func (c *Client) AlertHistory(ctx context.Context, name string, limit int) ([]wire.AlertEvent, error) {
	path := "/v1/alertHistory"
	if name != "" {
		path = alertRulePath(name) + "/history"
	}
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	resp, err := c.request(ctx, http.MethodGet, path, q, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []wire.AlertEvent
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode alert history: %w", err)
	}
	return out, nil
}

// ExportAlertRules returns the rules as a Prometheus rule file.
func (c *Client) ExportAlertRules(ctx context.Context, format string) ([]byte, error) {
	resp, err := c.request(ctx, http.MethodGet, "/v1/alertRules", url.Values{"format": {format}}, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}
