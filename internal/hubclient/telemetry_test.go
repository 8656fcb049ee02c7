package hubclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

func TestReadEvents(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		want         []sseEvent
	}{
		{"one event", "id: 1\nevent: message\ndata: {}\n\n", []sseEvent{{"1", "message", "{}"}}},
		{"default type", "data: x\n\n", []sseEvent{{"", "message", "x"}}},
		{"comments and keep-alives", ": keep-alive\n\n: hi\ndata: x\n\n", []sseEvent{{"", "message", "x"}}},
		{"CRLF", "id: 7\r\nevent: error\r\ndata: e\r\n\r\n", []sseEvent{{"7", "error", "e"}}},
		{"CR", "id: 7\rdata: x\r\r", []sseEvent{{"7", "message", "x"}}},
		{"data lines join", "data: a\ndata: b\ndata\n\n", []sseEvent{{"", "message", "a\nb\n"}}},
		{"no space after colon", "id:3\ndata:x\n\n", []sseEvent{{"3", "message", "x"}}},
		{"id carries over", "id: 3\ndata: a\n\ndata: b\n\n", []sseEvent{{"3", "message", "a"}, {"3", "message", "b"}}},
		{"unknown fields", "retry: 100\nfoo: bar\ndata: x\n\n", []sseEvent{{"", "message", "x"}}},
		{"no data is no event", "event: message\n\n", nil},
		{"unfinished event dropped", "data: a\n\ndata: b\n", []sseEvent{{"", "message", "a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []sseEvent
			err := readEvents(strings.NewReader(tc.stream), func(ev sseEvent) error {
				got = append(got, ev)
				return nil
			})
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("readEvents(%q) = %q, %v; want %q", tc.stream, got, err, tc.want)
			}
		})
	}
}

// mustClient returns a client of a fake hub at url.
func mustClient(t *testing.T, url string) *Client {
	t.Helper()
	key, err := sas.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{ConnectionString: sas.ConnectionString{HostName: "hub.test", KeyName: "service", Key: key}, BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const twoEvents = `: keep-alive

id: 1
event: message
data: {"event":{"origin":"d1","payload":{"t":1},"annotations":{"x-opt-sequence-number":1}}}

id: 2
event: message
data: {"event":{"origin":"d2","payload":"hi"}}

`

func TestTelemetry(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" || r.URL.Path != "/telemetry" || !strings.HasPrefix(r.Header.Get("Authorization"), "SharedAccessSignature ") {
			t.Errorf("request %s %s, Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		query = r.URL.RawQuery
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, twoEvents)
		if r.URL.Query().Get("device") == "fail" {
			fmt.Fprint(w, "event: error\ndata: {\"Message\":\"ErrorCode:ServiceUnavailable;shutting down\"}\n\n")
		}
	}))
	defer srv.Close()
	c := mustClient(t, srv.URL)
	ctx := context.Background()

	var got []string
	collect := func(ev wire.TelemetryEvent) error {
		got = append(got, ev.Event.Origin+" "+string(ev.Event.Payload))
		return nil
	}
	err := c.Telemetry(ctx, TelemetryOptions{ConsumerGroup: "g", DeviceID: "d1", From: "start", Limit: 5}, collect)
	if err != nil || fmt.Sprint(got) != `[d1 {"t":1} d2 "hi"]` {
		t.Errorf("Telemetry = %q, %v", got, err)
	}
	if query != "api-version="+APIVersion+"&consumerGroup=g&device=d1&from=start&limit=5&wait=0" {
		t.Errorf("query = %s", query)
	}
	c.Telemetry(ctx, TelemetryOptions{Wait: true}, collect)
	if query != "api-version="+APIVersion {
		t.Errorf("query with defaults = %s", query)
	}

	stop := errors.New("stop")
	got = nil
	err = c.Telemetry(ctx, TelemetryOptions{}, func(ev wire.TelemetryEvent) error {
		collect(ev)
		return stop
	})
	if err != stop || len(got) != 1 {
		t.Errorf("fn's error: Telemetry = %v after %d events, want stop after 1", err, len(got))
	}

	err = c.Telemetry(ctx, TelemetryOptions{DeviceID: "fail"}, func(wire.TelemetryEvent) error { return nil })
	if tether.ErrorCode(err) != tether.ServiceUnavailable || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("error event: Telemetry = %v, want ServiceUnavailable: shutting down", err)
	}
}

func TestTelemetryRefusedAndCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("from") {
		case "bad":
			w.Header().Set("iothub-errorcode", "ArgumentInvalid")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"Message":"ErrorCode:ArgumentInvalid;from=\"bad\": use start, end or a sequence number"}`)
		case "json":
			fmt.Fprint(w, `{}`)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	c := mustClient(t, srv.URL)
	nop := func(wire.TelemetryEvent) error { return nil }

	err := c.Telemetry(context.Background(), TelemetryOptions{From: "bad"}, nop)
	if tether.ErrorCode(err) != tether.ArgumentInvalid || !strings.Contains(err.Error(), "sequence number") {
		t.Errorf("refused: %v", err)
	}
	err = c.Telemetry(context.Background(), TelemetryOptions{From: "json"}, nop)
	if err == nil || !strings.Contains(err.Error(), "not an event stream") {
		t.Errorf("JSON answer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Telemetry(ctx, TelemetryOptions{Wait: true}, nop); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled: %v, want context.DeadlineExceeded", err)
	}
}
