package hubclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// maxQueryAnswer caps how much of a query answer is read: 30,000 wide
// rows fit well within it.
const maxQueryAnswer = 256 << 20

// Query runs a KQL query over the hub's diagnostic logs (POST /v1/query).
// Numbers in the rows are json.Number, so 64-bit values keep every digit.
// A refused query is a *wire.QueryError carrying the hub's precise code,
// message, line and column.
func (c *Client) Query(ctx context.Context, q wire.QueryRequest) (wire.QueryResponse, error) {
	var out wire.QueryResponse
	b, err := json.Marshal(q)
	if err != nil {
		return out, err
	}
	u := *c.base
	u.Path = "/v1/query"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return out, err
	}
	cs := c.o.ConnectionString
	tok, err := sas.Sign(cs.HostName, cs.Key, cs.KeyName, c.o.Now().Add(time.Hour))
	if err != nil {
		return out, err
	}
	req.Header.Set("Authorization", tok.String())
	req.Header.Set("User-Agent", "tether-cli")
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Prefer", "include-render=true")
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("POST %s: %w", c.base.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if err != nil {
			return out, fmt.Errorf("POST /v1/query: read error answer: %w", err)
		}
		var eb wire.QueryErrorBody
		if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
			return out, eb.Err(resp.StatusCode)
		}
		if resp.StatusCode == http.StatusNotFound {
			return out, fmt.Errorf("the hub at %s has no log query endpoint (POST /v1/query): it runs an older Tether", c.base.Host)
		}
		return out, wire.ParseError(resp.StatusCode, resp.Header.Get("iothub-errorcode"), body)
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxQueryAnswer))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return out, fmt.Errorf("decode query answer: %w", err)
	}
	if len(out.Tables) == 0 {
		return out, fmt.Errorf("the query answer holds no table")
	}
	if t := out.Tables[0]; !strings.EqualFold(t.Name, "PrimaryResult") {
		return out, fmt.Errorf("the query answer's first table is %q, not PrimaryResult", t.Name)
	}
	return out, nil
}
