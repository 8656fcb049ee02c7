package hubclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/tether-iot/tether/internal/wire"
)

// Diagnose asks the hub's doctor about one device (or, with deviceID "",
// the whole hub) over the window since (such as "24h" or "7d"; "" for the
// hub's default); silentAfter ("" for the default) is the silence after
// which a connected device is reported.
func (c *Client) Diagnose(ctx context.Context, deviceID, since, silentAfter string) (wire.Diagnosis, error) {
	q := url.Values{}
	for k, v := range map[string]string{"deviceId": deviceID, "since": since, "silentAfter": silentAfter} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out wire.Diagnosis
	resp, err := c.request(ctx, http.MethodGet, "/v1/diagnose", q, nil, nil)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return out, fmt.Errorf("decode diagnosis: %w", err)
	}
	return out, nil
}
