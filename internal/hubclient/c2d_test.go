package hubclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestSendC2D(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch {
		case r.Method == "DELETE":
			fmt.Fprint(w, `{"totalMessagesPurged":3,"deviceId":"d 1","moduleId":null}`)
		case r.Header.Get("iothub-ack") == "never":
			w.Header().Set("iothub-errorcode", "ArgumentInvalid")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"Message":"ErrorCode:ArgumentInvalid;iothub-ack \"never\": use none, positive, negative or full"}`)
		default:
			w.WriteHeader(202)
			fmt.Fprint(w, `{"messageId":"m1","deviceId":"d 1","enqueuedTime":"2026-01-02T03:04:05Z","expiryTime":"2026-01-02T04:04:05Z","pendingCount":2}`)
		}
	}))
	defer srv.Close()
	c := mustClient(t, srv.URL)
	ctx := context.Background()
	res, err := c.SendC2D(ctx, "d 1", C2DSend{Body: []byte{1, 2}, MessageID: "m1", CorrelationID: "c1", UserID: "u",
		ContentType: "application/json", ContentEncoding: "utf-8", TTL: 90 * time.Second, Ack: "full",
		Properties: map[string]string{"prio": "high"}})
	if err != nil || res.MessageID != "m1" || res.PendingCount != 2 || res.ExpiryTime.Std().Hour() != 4 {
		t.Fatalf("SendC2D = %+v, %v", res, err)
	}
	if got.Method != "POST" || got.URL.EscapedPath() != "/devices/d%201/messages/deviceBound" || string(body) != "\x01\x02" {
		t.Errorf("request %s %s body %q", got.Method, got.URL.EscapedPath(), body)
	}
	for k, v := range map[string]string{"iothub-messageid": "m1", "iothub-correlationid": "c1", "iothub-userid": "u",
		"Content-Type": "application/json", "Content-Encoding": "utf-8", "iothub-ttl": "90", "iothub-ack": "full",
		"iothub-app-prio": "high", "iothub-expiry": ""} {
		if h := got.Header.Get(k); h != v {
			t.Errorf("header %s = %q, want %q", k, h, v)
		}
	}

	expiry := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	if _, err := c.SendC2D(ctx, "d 1", C2DSend{Expiry: expiry}); err != nil {
		t.Fatal(err)
	}
	if h := got.Header.Get("iothub-expiry"); h != "2026-01-02T02:04:05Z" || got.Header.Get("iothub-ttl") != "" || got.Header.Get("Content-Type") != "" {
		t.Errorf("expiry headers: iothub-expiry %q, iothub-ttl %q, Content-Type %q", h, got.Header.Get("iothub-ttl"), got.Header.Get("Content-Type"))
	}

	_, err = c.SendC2D(ctx, "d 1", C2DSend{Ack: "never"})
	if tether.ErrorCode(err) != tether.ArgumentInvalid {
		t.Errorf("refused send: %v, want ArgumentInvalid", err)
	}

	p, err := c.PurgeC2D(ctx, "d 1")
	if err != nil || p.TotalMessagesPurged != 3 || got.URL.EscapedPath() != "/devices/d%201/commands" {
		t.Errorf("PurgeC2D = %+v, %v (path %s)", p, err, got.URL.EscapedPath())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
