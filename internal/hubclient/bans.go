package hubclient

import (
	"context"
	"net/http"

	"github.com/tether-iot/tether/internal/wire"
)

// Bans lists the auth-failure bans in force on the hub.
func (c *Client) Bans(ctx context.Context) ([]wire.Ban, error) {
	var out wire.BanList
	return out.Bans, c.do(ctx, http.MethodGet, "/v1/bans", "", nil, &out)
}
