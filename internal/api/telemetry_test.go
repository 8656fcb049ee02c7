package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
)

// fakeTelemetry is a telemetry stream in a slice, with consumer group
// offsets in a map.
type fakeTelemetry struct {
	mu      sync.Mutex
	msgs    []tether.Message
	offsets map[string]int64
	grew    chan struct{} // closed, and replaced, when a message is added
	readErr error
	waiting int // WaitTelemetry calls in progress
}

func newFakeTelemetry() *fakeTelemetry {
	return &fakeTelemetry{offsets: map[string]int64{}, grew: make(chan struct{})}
}

var _ api.TelemetrySource = (*fakeTelemetry)(nil)

// add appends messages for device, one per body, numbering them.
func (f *fakeTelemetry) add(device string, bodies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range bodies {
		seq := int64(len(f.msgs) + 1)
		f.msgs = append(f.msgs, tether.Message{Seq: seq, DeviceID: device, Body: []byte(b),
			EnqueuedTime: time.Date(2026, 3, 4, 5, 6, 7, int(seq)*1e6, time.UTC),
			System:       map[string]string{"message-id": fmt.Sprint("m", seq)}})
	}
	close(f.grew)
	f.grew = make(chan struct{})
}

func (f *fakeTelemetry) addMessage(m tether.Message) {
	f.mu.Lock()
	m.Seq = int64(len(f.msgs) + 1)
	f.msgs = append(f.msgs, m)
	close(f.grew)
	f.grew = make(chan struct{})
	f.mu.Unlock()
}

func (f *fakeTelemetry) ReadTelemetry(_ context.Context, after int64, device string, limit int) ([]tether.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return nil, f.readErr
	}
	var out []tether.Message
	for _, m := range f.msgs {
		if m.Seq > after && (device == "" || m.DeviceID == device) && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (f *fakeTelemetry) WaitTelemetry(ctx context.Context, after int64) error {
	f.mu.Lock()
	f.waiting++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.waiting--
		f.mu.Unlock()
	}()
	for {
		f.mu.Lock()
		n, grew := int64(len(f.msgs)), f.grew
		f.mu.Unlock()
		if n > after {
			return nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *fakeTelemetry) LastTelemetrySeq(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.msgs)), nil
}

func (f *fakeTelemetry) TelemetryOffset(_ context.Context, group string) (int64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq, ok := f.offsets[group]
	return seq, ok, nil
}

func (f *fakeTelemetry) SetTelemetryOffset(_ context.Context, group string, seq int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offsets[group] = seq
	return nil
}

func (f *fakeTelemetry) offset(group string) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq, ok := f.offsets[group]
	return seq, ok
}

// sse is one server-sent event as the test reads it.
type sse struct {
	id, event, data string
}

// parseSSE splits a complete event stream, checking its framing: every
// event is "id: N\nevent: T\ndata: JSON\n\n" (an error event has no id)
// and every comment ": text\n\n".
func parseSSE(t *testing.T, raw string) (events []sse, comments []string) {
	t.Helper()
	if raw != "" && !strings.HasSuffix(raw, "\n\n") {
		t.Fatalf("stream %q does not end with a blank line", raw)
	}
	for _, block := range strings.Split(strings.TrimSuffix(raw, "\n\n"), "\n\n") {
		if block == "" {
			continue
		}
		if c, ok := strings.CutPrefix(block, ": "); ok {
			comments = append(comments, c)
			continue
		}
		var ev sse
		lines := strings.Split(block, "\n")
		if strings.HasPrefix(lines[0], "id: ") {
			ev.id, lines = strings.TrimPrefix(lines[0], "id: "), lines[1:]
		}
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
			t.Fatalf("event %q is not [id:] event: data: lines", block)
		}
		ev.event, ev.data = strings.TrimPrefix(lines[0], "event: "), strings.TrimPrefix(lines[1], "data: ")
		events = append(events, ev)
	}
	return events, comments
}

// telemetry reads a stream that ends by itself (wait=0 or limit) and
// returns the sequence numbers of its message events.
func (h *streamHub) telemetry(t *testing.T, query string, hdr http.Header) []int64 {
	t.Helper()
	r := h.call(t, "GET", "/telemetry?"+query, h.owner, hdr, "")
	mustStatus(t, r, 200)
	events, _ := parseSSE(t, r.raw)
	seqs := []int64{}
	for _, ev := range events {
		if ev.event != "message" {
			t.Fatalf("GET /telemetry?%s: event %+v", query, ev)
		}
		n, err := strconv.ParseInt(ev.id, 10, 64)
		if err != nil {
			t.Fatalf("event id %q: %v", ev.id, err)
		}
		seqs = append(seqs, n)
	}
	return seqs
}

func mustSeqs(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(append([]int64{}, want...)) {
		t.Errorf("%s = events %v, want %v", what, got, want)
	}
}

func TestTelemetryEventShape(t *testing.T) {
	h := mustStartStreamHub(t)
	h.tel.addMessage(tether.Message{DeviceID: "d1", ModuleID: "m1", Body: []byte("{\n  \"temp\": 21.5\n}"),
		EnqueuedTime: time.Date(2026, 3, 4, 5, 6, 7, 123000000, time.UTC),
		System: map[string]string{"message-id": "abc", "content-type": "application/json", "content-encoding": "utf-8",
			"dt-interface-id": "dtmi:x;1", "dt-subject": "thermostat1"},
		Properties: map[string]string{"alert": "no"}})
	r := h.call(t, "GET", "/telemetry?from=start&wait=0", h.owner, nil, "")
	mustStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}
	want := `id: 1
event: message
data: {"event":{"origin":"d1","module":"m1","interface":"dtmi:x;1","component":"thermostat1","payload":{"temp":21.5},` +
		`"properties":{"system":{"content-encoding":"utf-8","content-type":"application/json","dt-interface-id":"dtmi:x;1","dt-subject":"thermostat1",` +
		`"iothub-connection-device-id":"d1","iothub-connection-module-id":"m1","iothub-enqueuedtime":"2026-03-04T05:06:07.123Z","iothub-message-source":"Telemetry","message-id":"abc"},` +
		`"application":{"alert":"no"}},"annotations":{"iothub-connection-device-id":"d1","iothub-connection-module-id":"m1",` +
		`"iothub-enqueuedtime":"2026-03-04T05:06:07.123Z","iothub-message-source":"Telemetry","x-opt-sequence-number":1}}}

`
	if r.raw != want {
		t.Errorf("stream =\n%s\nwant\n%s", r.raw, want)
	}
}

func TestTelemetryPayloads(t *testing.T) {
	h := mustStartStreamHub(t)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"JSON object", `{"a": [1, 2]}`, `{"a":[1,2]}`},
		{"JSON across lines", "[\n1,\n2\n]", `[1,2]`},
		{"JSON number", `42`, `42`},
		{"text", `hello <world> & "you"`, `"hello <world> & \"you\""`},
		{"text with a line break", "a\nb", `"a\nb"`},
		{"broken JSON", `{"a":`, `"{\"a\":"`},
		{"binary", "\x00\xff\xfe", `"AP/+"`},
		{"empty", "", `""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.tel.add("d1", tc.body)
			seq, _ := h.tel.LastTelemetrySeq(context.Background())
			r := h.call(t, "GET", fmt.Sprintf("/telemetry?from=%d&wait=0", seq), h.owner, nil, "")
			events, _ := parseSSE(t, r.raw)
			if len(events) != 1 {
				t.Fatalf("got %d events: %s", len(events), r.raw)
			}
			var ev struct {
				Event struct{ Payload json.RawMessage }
			}
			if err := json.Unmarshal([]byte(events[0].data), &ev); err != nil {
				t.Fatal(err)
			}
			if string(ev.Event.Payload) != tc.want {
				t.Errorf("payload of %q = %s, want %s", tc.body, ev.Event.Payload, tc.want)
			}
		})
	}
}

func TestTelemetryPositions(t *testing.T) {
	h := mustStartStreamHub(t)
	h.tel.add("d1", "1", "2", "3")
	h.tel.add("d2", "4", "5")
	for _, tc := range []struct {
		name, query string
		hdr         http.Header
		want        []int64
	}{
		{"from start", "from=start&wait=0", nil, []int64{1, 2, 3, 4, 5}},
		{"from end", "from=end&wait=0", nil, nil},
		{"from a sequence number", "from=3&wait=0", nil, []int64{3, 4, 5}},
		{"from zero", "from=0&wait=0", nil, []int64{1, 2, 3, 4, 5}},
		{"from past the end", "from=9&wait=0", nil, nil},
		{"Last-Event-ID resumes after it", "wait=0", http.Header{"Last-Event-ID": {"3"}}, []int64{4, 5}},
		{"Last-Event-ID wins over from", "from=start&wait=0", http.Header{"Last-Event-ID": {"4"}}, []int64{5}},
		{"one device", "from=start&wait=0&device=d2", nil, []int64{4, 5}},
		{"limit", "from=start&limit=2", nil, []int64{1, 2}},
		{"limit and device", "from=2&limit=2&device=d1", nil, []int64{2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustSeqs(t, tc.query, h.telemetry(t, tc.query+"&consumerGroup=positions", tc.hdr), tc.want...)
		})
	}
}

func TestTelemetryConsumerGroups(t *testing.T) {
	h := mustStartStreamHub(t)
	h.tel.add("d1", "1", "2", "3")
	// A new group starts at the end, and commits that.
	mustSeqs(t, "new group", h.telemetry(t, "consumerGroup=g1&wait=0", nil))
	if seq, ok := h.tel.offset("g1"); !ok || seq != 3 {
		t.Errorf("g1 offset = %d, %v; want 3", seq, ok)
	}
	h.tel.add("d2", "4", "5")
	mustSeqs(t, "g1 resumes", h.telemetry(t, "consumerGroup=g1&wait=0", nil), 4, 5)
	mustSeqs(t, "g1 read everything", h.telemetry(t, "consumerGroup=g1&wait=0", nil))

	mustSeqs(t, "g2 from start", h.telemetry(t, "consumerGroup=g2&from=start&limit=2", nil), 1, 2)
	mustSeqs(t, "g2 resumes", h.telemetry(t, "consumerGroup=g2&wait=0", nil), 3, 4, 5)
	if _, ok := h.tel.offset("$Default"); ok {
		t.Error("reading g1 and g2 committed an offset for $Default")
	}
	mustSeqs(t, "$Default", h.telemetry(t, "from=4&wait=0", nil), 4, 5)
	if seq, _ := h.tel.offset("$Default"); seq != 5 {
		t.Errorf("$Default offset = %d, want 5", seq)
	}

	// A device filter moves the group past other devices' messages too.
	h.tel.add("d2", "6", "7")
	mustSeqs(t, "g1 for d1", h.telemetry(t, "consumerGroup=g1&device=d1&wait=0", nil))
	if seq, _ := h.tel.offset("g1"); seq != 7 {
		t.Errorf("g1 offset after a filtered read = %d, want 7", seq)
	}
}

func TestTelemetryBadQueries(t *testing.T) {
	h := mustStartStreamHub(t)
	for _, tc := range []struct {
		name, query string
		hdr         http.Header
		status      int
		code        string
		detail      string
	}{
		{"from word", "from=beginning", nil, 400, "ArgumentInvalid", "start, end or a sequence number"},
		{"from negative", "from=-1", nil, 400, "ArgumentInvalid", "from="},
		{"limit zero", "limit=0", nil, 400, "ArgumentInvalid", "limit"},
		{"limit word", "limit=all", nil, 400, "ArgumentInvalid", "limit"},
		{"wait word", "wait=maybe", nil, 400, "ArgumentInvalid", "wait"},
		{"group with space", "consumerGroup=my%20group", nil, 400, "ArgumentInvalid", "consumerGroup"},
		{"group too long", "consumerGroup=" + strings.Repeat("g", 51), nil, 400, "ArgumentInvalid", "consumerGroup"},
		{"bad device id", "device=a%2Bb", nil, 400, "ArgumentInvalid", "device ID"},
		{"unknown device", "device=nope", nil, 404, "DeviceNotFound", "nope"},
		{"bad Last-Event-ID", "", http.Header{"Last-Event-ID": {"x"}}, 400, "ArgumentInvalid", "Last-Event-ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.call(t, "GET", "/telemetry?"+tc.query, h.owner, tc.hdr, "")
			mustCode(t, r, tc.status, tc.code)
			if !strings.Contains(r.raw, tc.detail) {
				t.Errorf("error %s does not mention %q", r.raw, tc.detail)
			}
		})
	}
}

func TestTelemetryErrorEvent(t *testing.T) {
	h := mustStartStreamHub(t)
	h.tel.readErr = tether.Errorf(tether.ServiceUnavailable, "the hub is shutting down")
	r := h.call(t, "GET", "/telemetry?from=start", h.owner, nil, "")
	mustStatus(t, r, 200)
	events, _ := parseSSE(t, r.raw)
	if len(events) != 1 || events[0].event != "error" || !strings.Contains(events[0].data, `"Message":"ErrorCode:ServiceUnavailable;the hub is shutting down"`) {
		t.Errorf("stream = %q, want one error event with the classic error body", r.raw)
	}
	h.tel.readErr = errors.New("disk on fire")
	r = h.call(t, "GET", "/telemetry?from=start", h.owner, nil, "")
	if events, _ := parseSSE(t, r.raw); len(events) != 1 || !strings.Contains(events[0].data, "ServerError;internal error") {
		t.Errorf("uncoded error: stream = %q, want ServerError;internal error", r.raw)
	}
}

// TestTelemetryLive follows a stream as messages arrive and it idles,
// over HTTP/2 and HTTP/1.1.
func TestTelemetryLive(t *testing.T) {
	for _, proto := range []string{"HTTP/2.0", "HTTP/1.1"} {
		t.Run(proto, func(t *testing.T) { testTelemetryLive(t, proto) })
	}
}

func testTelemetryLive(t *testing.T, proto string) {
	h := mustStartStreamHub(t, func(o *api.Options) { o.KeepAlive = 20 * time.Millisecond })
	h.tel.add("d1", "old")
	c := h.http
	if proto == "HTTP/1.1" {
		c = h.http1
	}
	resp := h.openWith(t, c, "GET", "/telemetry?consumerGroup=live&limit=3", h.owner, nil, "")
	defer resp.Body.Close()
	mustStatus(t, response{status: resp.StatusCode}, 200)
	if resp.Proto != proto {
		t.Fatalf("spoke %s, want %s", resp.Proto, proto)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(want string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream ended while waiting for %q", want)
				}
				if strings.HasPrefix(l, want) {
					return
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no %q within 5s", want)
			}
		}
	}
	next(": keep-alive") // idle at the end: "old" is before it
	h.tel.add("d2", "a")
	next("id: 2")
	next(": keep-alive")
	if seq, _ := h.tel.offset("live"); seq != 2 {
		t.Errorf("offset while streaming = %d, want 2", seq)
	}
	h.tel.add("d1", "b", "c", "d")
	next("id: 3")
	next("id: 4")
	for l := range lines { // limit=3: the hub ends the stream
		if strings.HasPrefix(l, "id:") {
			t.Errorf("event after the limit: %s", l)
		}
	}
	if seq, _ := h.tel.offset("live"); seq != 4 {
		t.Errorf("offset after the limit = %d, want 4 (5 was not sent)", seq)
	}
}

// TestTelemetryClientGone checks that a stream ends when its client leaves.
func TestTelemetryClientGone(t *testing.T) {
	h := mustStartStreamHub(t)
	resp := h.open(t, "GET", "/telemetry", h.owner, nil, "")
	mustStatus(t, response{status: resp.StatusCode}, 200)
	waiting := func() int {
		h.tel.mu.Lock()
		defer h.tel.mu.Unlock()
		return h.tel.waiting
	}
	deadline := time.Now().Add(5 * time.Second)
	for waiting() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if waiting() != 1 {
		t.Fatalf("%d streams waiting for telemetry, want 1", waiting())
	}
	resp.Body.Close()
	for waiting() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := waiting(); n != 0 {
		t.Errorf("%d streams still wait after their client left", n)
	}
}
