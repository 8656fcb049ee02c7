package hubclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-iot/tether/internal/wire"
)

// C2DSend is a cloud-to-device message to send. Zero fields are left to
// the hub: it makes up a message ID and gives the message its default
// time to live (one hour).
type C2DSend struct {
	Body            []byte
	MessageID       string
	CorrelationID   string
	UserID          string
	ContentType     string
	ContentEncoding string
	TTL             time.Duration // whole seconds, up to 48h; or Expiry
	Expiry          time.Time     // an absolute expiry instead of TTL
	Ack             string        // none, positive, negative or full
	// Properties are the application properties. The hub receives their
	// names as HTTP header names, so it stores them in lower case.
	Properties map[string]string
}

// header returns m's properties as the send route's request headers.
func (m C2DSend) header() http.Header {
	h := http.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set(wire.HeaderMessageID, m.MessageID)
	set(wire.HeaderCorrelationID, m.CorrelationID)
	set(wire.HeaderUserID, m.UserID)
	set(wire.HeaderContentType, m.ContentType)
	set(wire.HeaderContentEncoding, m.ContentEncoding)
	set(wire.HeaderAck, m.Ack)
	if m.TTL != 0 {
		h.Set(wire.HeaderTTL, strconv.FormatInt(int64(m.TTL/time.Second), 10))
	}
	if !m.Expiry.IsZero() {
		h.Set(wire.HeaderExpiry, m.Expiry.UTC().Format(time.RFC3339Nano))
	}
	for k, v := range m.Properties {
		h.Set(wire.HeaderAppPrefix+k, v)
	}
	return h
}

// SendC2D queues a cloud-to-device message for a device.
func (c *Client) SendC2D(ctx context.Context, id string, m C2DSend) (wire.C2DResult, error) {
	var out wire.C2DResult
	resp, err := c.request(ctx, http.MethodPost, devicePath(id)+"/messages/deviceBound", nil, m.header(), bytes.NewReader(m.Body))
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&out); err != nil {
		return out, fmt.Errorf("decode cloud-to-device send answer: %w", err)
	}
	return out, nil
}

// PurgeC2D drops every cloud-to-device message waiting for a device.
func (c *Client) PurgeC2D(ctx context.Context, id string) (wire.PurgeResult, error) {
	var out wire.PurgeResult
	return out, c.do(ctx, http.MethodDelete, devicePath(id)+"/commands", "", nil, &out)
}
