package hubclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tether-iot/tether/internal/wire"
)

func actionGroupPath(name string) string { return "/v1/actionGroups/" + url.PathEscape(name) }

// CreateActionGroup creates the action group g.Name with g.Receivers.
// The answer carries the webhook signing secret, shown only this once.
func (c *Client) CreateActionGroup(ctx context.Context, g wire.ActionGroup) (wire.ActionGroup, error) {
	var out wire.ActionGroup
	in := struct {
		Name      string          `json:"name"`
		Receivers []wire.Receiver `json:"receivers"`
	}{g.Name, g.Receivers}
	return out, c.do(ctx, http.MethodPost, "/v1/actionGroups", "", in, &out)
}

// ActionGroup reads one action group, its URLs redacted.
func (c *Client) ActionGroup(ctx context.Context, name string) (wire.ActionGroup, error) {
	var out wire.ActionGroup
	return out, c.do(ctx, http.MethodGet, actionGroupPath(name), "", nil, &out)
}

// ActionGroups lists the action groups.
func (c *Client) ActionGroups(ctx context.Context) ([]wire.ActionGroup, error) {
	var out []wire.ActionGroup
	return out, c.do(ctx, http.MethodGet, "/v1/actionGroups", "", nil, &out)
}

// DeleteActionGroup removes an action group and its waiting
// notifications. The hub refuses a group that alert rules use (a
// conflict naming them) unless force is set.
func (c *Client) DeleteActionGroup(ctx context.Context, name string, force bool) error {
	p := actionGroupPath(name)
	if force {
		p += "?force=true"
	}
	return c.do(ctx, http.MethodDelete, p, "", nil, nil)
}

// TestActionGroup sends a test notification to each receiver of an
// action group and returns each answer.
func (c *Client) TestActionGroup(ctx context.Context, name string) (wire.NotificationTest, error) {
	var out wire.NotificationTest
	return out, c.do(ctx, http.MethodPost, actionGroupPath(name)+"/test", "", nil, &out)
}

// NotificationHistory reads the newest limit notification attempts (0:
// the hub's default) of one action group, or of all for "", newest first.
func (c *Client) NotificationHistory(ctx context.Context, group string, limit int) ([]wire.NotificationAttempt, error) {
	path := "/v1/notificationHistory"
	if group != "" {
		path = actionGroupPath(group) + "/history"
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
	var out []wire.NotificationAttempt
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode notification history: %w", err)
	}
	return out, nil
}

// TestAlertRule sends a test notification of an alert rule to each
// receiver of its action groups and returns each answer.
func (c *Client) TestAlertRule(ctx context.Context, rule string) (wire.NotificationTest, error) {
	var out wire.NotificationTest
	return out, c.do(ctx, http.MethodPost, "/v1/alertRules/"+url.PathEscape(rule)+"/test", "", nil, &out)
}
