package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// TelemetrySource is the hub's built-in telemetry endpoint: an ordered
// log of device-to-cloud messages, numbered by Seq from 1, and the
// committed positions of its consumer groups.
type TelemetrySource interface {
	// ReadTelemetry returns up to limit messages with Seq > after, in
	// order, only those of deviceID unless it is "".
	ReadTelemetry(ctx context.Context, after int64, deviceID string, limit int) ([]tether.Message, error)
	// WaitTelemetry returns nil once a message with Seq > after exists,
	// or ctx's error when ctx ends first. It should also return (with a
	// ServiceUnavailable error) when the hub shuts down, so that open
	// streams end.
	WaitTelemetry(ctx context.Context, after int64) error
	// LastTelemetrySeq returns the Seq of the newest message, 0 if none.
	LastTelemetrySeq(ctx context.Context) (int64, error)
	// TelemetryOffset returns a consumer group's committed position: the
	// Seq up to which it has read. ok is false when it has none.
	TelemetryOffset(ctx context.Context, group string) (seq int64, ok bool, err error)
	// SetTelemetryOffset commits a consumer group's position.
	SetTelemetryOffset(ctx context.Context, group string, seq int64) error
}

const (
	defaultKeepAlive = 15 * time.Second
	telemetryBatch   = 100 // messages read, written and committed at a time
	commitTimeout    = 5 * time.Second
)

// consumerGroupRE follows Event Hubs' rule for consumer group names.
var consumerGroupRE = regexp.MustCompile(`^(\$Default|[A-Za-z0-9]([A-Za-z0-9._-]{0,48}[A-Za-z0-9])?)$`)

// telemetryQuery is what a GET /telemetry asks for.
type telemetryQuery struct {
	group, device string
	from          string // "start", "end", a Seq, or "" for the committed offset
	lastEventID   int64  // -1: no Last-Event-ID header
	limit         int    // 0: no limit
	wait          bool
}

func parseTelemetryQuery(r *http.Request) (telemetryQuery, error) {
	v := r.URL.Query()
	q := telemetryQuery{group: v.Get("consumerGroup"), device: v.Get("device"), from: v.Get("from"), lastEventID: -1, wait: true}
	if q.group == "" {
		q.group = wire.DefaultConsumerGroup
	}
	if !consumerGroupRE.MatchString(q.group) {
		return q, tether.Errorf(tether.ArgumentInvalid, "consumerGroup %q: use 1 to 50 letters, digits, '.', '-' or '_', starting and ending with a letter or digit", q.group)
	}
	if q.device != "" {
		if err := tether.ValidateDeviceID(q.device); err != nil {
			return q, err
		}
	}
	switch q.from {
	case "", "start", "end":
	default:
		if n, err := strconv.ParseInt(q.from, 10, 64); err != nil || n < 0 {
			return q, tether.Errorf(tether.ArgumentInvalid, "from=%q: use start, end or a sequence number", q.from)
		}
	}
	if s := r.Header.Get("Last-Event-ID"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return q, tether.Errorf(tether.ArgumentInvalid, "Last-Event-ID %q is not a sequence number", s)
		}
		q.lastEventID = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, tether.Errorf(tether.ArgumentInvalid, "limit=%q: use a whole number of events, 1 or more", s)
		}
		q.limit = n
	}
	switch s := v.Get("wait"); s {
	case "", "1", "true":
	case "0", "false":
		q.wait = false
	default:
		return q, tether.Errorf(tether.ArgumentInvalid, "wait=%q: use 1 to keep streaming new events or 0 to stop after those that exist", s)
	}
	return q, nil
}

// start returns the position to stream after: the Last-Event-ID, else
// from, else the group's committed offset, else the end.
func (q telemetryQuery) start(ctx context.Context, src TelemetrySource) (int64, error) {
	switch {
	case q.lastEventID >= 0:
		return q.lastEventID, nil
	case q.from == "start":
		return 0, nil
	case q.from == "end":
		return src.LastTelemetrySeq(ctx)
	case q.from != "":
		n, _ := strconv.ParseInt(q.from, 10, 64)
		return max(n-1, 0), nil // from=SEQ includes SEQ
	}
	seq, ok, err := src.TelemetryOffset(ctx, q.group)
	if err != nil || ok {
		return seq, err
	}
	return src.LastTelemetrySeq(ctx)
}

// streamTelemetry serves the telemetry endpoint as server-sent events.
// Errors before the stream starts are ordinary error answers; later ones
// end the stream with an "error" event.
func (a *API) streamTelemetry(w http.ResponseWriter, r *http.Request) error {
	q, err := parseTelemetryQuery(r)
	if err != nil {
		return err
	}
	src := a.o.Telemetry
	if src == nil {
		return tether.Errorf(tether.ServiceUnavailable, "the telemetry endpoint is not configured on this hub")
	}
	ctx := r.Context()
	if q.device != "" {
		if _, err := a.o.Devices.Device(ctx, q.device); err != nil {
			return err
		}
	}
	after, err := q.start(ctx, src)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // ask reverse proxies not to buffer
	w.WriteHeader(http.StatusOK)
	s := &sseStream{w: w, rc: http.NewResponseController(w)}
	if err := s.rc.Flush(); err != nil {
		return nil // the client is gone
	}
	keepAlive := a.o.KeepAlive
	if keepAlive <= 0 {
		keepAlive = defaultKeepAlive
	}
	t := &telemetryStream{sse: s, src: src, q: q, after: after, committed: -1, keepAlive: keepAlive}
	a.log.Debug("telemetry stream opened", "group", q.group, "device", q.device, "after", after)
	err = t.run(ctx)
	switch {
	case ctx.Err() != nil || errors.Is(err, errClientGone):
		a.log.Debug("telemetry stream closed by the client", "group", q.group, "sent", t.sent)
	case err != nil:
		a.streamError(s, r, err)
	}
	return nil
}

// telemetryStream is one open GET /telemetry.
type telemetryStream struct {
	sse       *sseStream
	src       TelemetrySource
	q         telemetryQuery
	after     int64 // every message up to here has been sent or skipped
	committed int64 // the offset last committed, -1 for none
	sent      int
	keepAlive time.Duration
}

var errClientGone = errors.New("api: the client went away")

func (t *telemetryStream) run(ctx context.Context) error {
	for {
		n := telemetryBatch
		if t.q.limit > 0 {
			n = min(n, t.q.limit-t.sent)
		}
		// last, read before the batch, lets a filtered stream skip past
		// other devices' messages instead of reading them again.
		last, err := t.src.LastTelemetrySeq(ctx)
		if err != nil {
			return err
		}
		msgs, err := t.src.ReadTelemetry(ctx, t.after, t.q.device, n)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := t.sse.event(strconv.FormatInt(m.Seq, 10), wire.EventMessage, wire.FromMessage(m)); err != nil {
				return err
			}
			t.after = m.Seq
		}
		t.sent += len(msgs)
		if len(msgs) < n {
			t.after = max(t.after, last)
		}
		if len(msgs) > 0 {
			if err := t.sse.flush(); err != nil {
				return err
			}
		}
		if err := t.commit(ctx); err != nil {
			return err
		}
		switch {
		case t.q.limit > 0 && t.sent >= t.q.limit:
			return nil
		case len(msgs) == n:
			continue // more may be waiting
		case !t.q.wait:
			return nil
		}
		if err := t.waitOrKeepAlive(ctx); err != nil {
			return err
		}
	}
}

// waitOrKeepAlive waits for a message after t.after, and writes a
// keep-alive comment each time keepAlive passes without one.
func (t *telemetryStream) waitOrKeepAlive(ctx context.Context) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, t.keepAlive)
		err := t.src.WaitTelemetry(wctx, t.after)
		expired := wctx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			return nil
		case !expired:
			return err
		}
		if err := t.sse.comment("keep-alive"); err != nil {
			return err
		}
	}
}

// commit saves the consumer group's position when it moved. It outlives
// the request by a little, so that events the client received are not
// sent again.
func (t *telemetryStream) commit(ctx context.Context) error {
	if t.after == t.committed {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := t.src.SetTelemetryOffset(cctx, t.q.group, t.after); err != nil {
		return fmt.Errorf("commit offset %d of consumer group %s: %w", t.after, t.q.group, err)
	}
	t.committed = t.after
	return nil
}

// sseStream writes server-sent events.
type sseStream struct {
	w  io.Writer
	rc *http.ResponseController
}

// event writes one event whose data is v as one line of JSON.
func (s *sseStream) event(id, typ string, v any) error {
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // one line: Encode does not indent
		return err
	}
	if id != "" {
		id = "id: " + id + "\n"
	}
	if _, err := fmt.Fprintf(s.w, "%sevent: %s\ndata: %s\n", id, typ, data.Bytes()); err != nil {
		return errClientGone
	}
	return nil
}

// comment writes a comment line and flushes it.
func (s *sseStream) comment(text string) error {
	if _, err := fmt.Fprintf(s.w, ": %s\n\n", text); err != nil {
		return errClientGone
	}
	return s.flush()
}

func (s *sseStream) flush() error {
	if err := s.rc.Flush(); err != nil {
		return errClientGone
	}
	return nil
}

// streamError ends a stream with an "error" event holding Azure's error
// body. As with writeError, only coded errors show their message.
func (a *API) streamError(s *sseStream, r *http.Request, err error) {
	code := tether.ErrorCode(err)
	var te *tether.Error
	if !errors.As(err, &te) || code.HTTPStatus() >= 500 {
		a.log.Error("telemetry stream failed", "path", r.URL.Path, "err", err)
	}
	var id [16]byte
	rand.Read(id[:])
	if s.event("", wire.EventError, wire.NewErrorBody(code.Name(), tether.ErrorMessage(err), hex.EncodeToString(id[:]), a.o.Now())) == nil {
		s.flush()
	}
}
