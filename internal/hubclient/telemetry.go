package hubclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tether-iot/tether/internal/wire"
)

// maxEventBytes bounds one line of the telemetry stream: a 256 KB message
// whose body is escaped or base64-encoded, with its properties.
const maxEventBytes = 8 << 20

// TelemetryOptions says which part of the telemetry stream to read.
type TelemetryOptions struct {
	ConsumerGroup string // "": $Default
	DeviceID      string // "": every device
	// From is where to start: "start", "end" or a sequence number. ""
	// means the consumer group's committed offset, else the end.
	From  string
	Limit int  // stop after this many events; 0: no limit
	Wait  bool // keep streaming new events; false stops after those that exist now
}

func (o TelemetryOptions) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("consumerGroup", o.ConsumerGroup)
	set("device", o.DeviceID)
	set("from", o.From)
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if !o.Wait {
		q.Set("wait", "0")
	}
	return q
}

// Telemetry reads the hub's telemetry stream (GET /telemetry, server-sent
// events) and calls fn for each event, in order. It returns nil when the
// hub ends the stream (after Limit events, or at the end without Wait),
// fn's error when fn fails, ctx's error when ctx ends, and the hub's
// error when the hub refuses the request or ends the stream with one.
//
// The hub commits the consumer group's offset as it sends, so a later
// call without From resumes after the last event sent.
func (c *Client) Telemetry(ctx context.Context, o TelemetryOptions, fn func(wire.TelemetryEvent) error) error {
	resp, err := c.request(ctx, http.MethodGet, "/telemetry", o.query(), http.Header{"Accept": {"text/event-stream"}}, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("GET /telemetry: the hub answered %q, not an event stream", resp.Header.Get("Content-Type"))
	}
	err = readEvents(resp.Body, func(ev sseEvent) error {
		switch ev.typ {
		case wire.EventMessage:
			var te wire.TelemetryEvent
			if err := json.Unmarshal([]byte(ev.data), &te); err != nil {
				return fmt.Errorf("telemetry event %s: %w", ev.id, err)
			}
			return fn(te)
		case wire.EventError:
			return wire.ParseError(http.StatusInternalServerError, "", []byte(ev.data))
		}
		return nil // an event type this client does not know
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// sseEvent is one server-sent event.
type sseEvent struct {
	id, typ, data string
}

// readEvents parses a text/event-stream (the WHATWG HTML "server-sent
// events" format) and calls fn for each event until the stream ends or fn
// fails. Comments and unknown fields are skipped.
func readEvents(r io.Reader, fn func(sseEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxEventBytes)
	sc.Split(scanLines)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if data != nil {
				ev.data = strings.Join(data, "\n")
				if ev.typ == "" {
					ev.typ = wire.EventMessage
				}
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev, data = sseEvent{id: ev.id}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id = value
		case "event":
			ev.typ = value
		case "data":
			data = append(data, value)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read telemetry stream: %w", err)
	}
	return nil
}

// scanLines splits at "\n", "\r\n" or a lone "\r", as event streams may.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // need the next byte to tell \r from \r\n
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
