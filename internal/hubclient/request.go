package hubclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 1 << 20

// request sends a signed request with a raw body and headers and returns
// the response of a 2xx answer, its body unread; the caller closes it.
// Other answers become the *tether.Error their body describes.
func (c *Client) request(ctx context.Context, method, path string, query url.Values, hdr http.Header, body io.Reader) (*http.Response, error) {
	u := *c.base
	u.RawPath = path
	u.Path, _ = url.PathUnescape(path)
	q := url.Values{}
	for k, vs := range query {
		q[k] = vs
	}
	q.Set("api-version", APIVersion)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	cs := c.o.ConnectionString
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, c.o.Now().Add(time.Hour))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", tok.String())
	req.Header.Set("User-Agent", "tether-cli")
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.base.Host, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if err != nil {
			return nil, fmt.Errorf("%s %s: read error answer: %w", method, path, err)
		}
		return nil, wire.ParseError(resp.StatusCode, resp.Header.Get("iothub-errorcode"), b)
	}
	return resp, nil
}
