package hubclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

func TestEventSubscriptionCalls(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := must(io.ReadAll(r.Body))
		got = append(got, fmt.Sprintf("%s %s?%s %s", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch {
		case r.Method == "PUT" && r.URL.Path == "/v1/eventSubscriptions/new":
			w.WriteHeader(201)
			fmt.Fprint(w, `{"name":"new","url":"http://h/x","types":["DeviceConnected"],"schema":"eventgrid","secret":"s"}`)
		case r.Method == "PUT":
			fmt.Fprint(w, `{"name":"old","url":"http://h/x","types":["DeviceConnected"],"schema":"eventgrid"}`)
		case r.Method == "DELETE":
			w.Header().Set("iothub-errorcode", "DeviceNotFound")
			w.WriteHeader(404)
			fmt.Fprint(w, `{"Message":"ErrorCode:DeviceNotFound;No event subscription named 'x y'."}`)
		case r.URL.Path == "/v1/eventDeliveries":
			fmt.Fprint(w, `[{"id":7,"subscription":"old","outcome":"retry","statusCode":503,"latencyMs":1.5,"eventIds":["e"]}]`)
		default:
			fmt.Fprint(w, `[{"name":"old"}]`)
		}
	}))
	defer srv.Close()
	c := mustClient(t, srv.URL)
	ctx := context.Background()
	s, created, err := c.PutEventSubscription(ctx, wire.EventSubscription{Name: "new", URL: "http://h/x",
		Types: []string{"DeviceConnected"}, Schema: "cloudevents", Secret: "0123456789abcdef"})
	if err != nil || !created || s.Secret != "s" {
		t.Errorf("PutEventSubscription(new) = %+v, %v, %v", s, created, err)
	}
	if _, created, err := c.PutEventSubscription(ctx, wire.EventSubscription{Name: "old", URL: "http://h/x"}); err != nil || created {
		t.Errorf("PutEventSubscription(old) = created %v, %v; want a replace", created, err)
	}
	if list, err := c.EventSubscriptions(ctx); err != nil || len(list) != 1 || list[0].Name != "old" {
		t.Errorf("EventSubscriptions = %+v, %v", list, err)
	}
	if err := c.DeleteEventSubscription(ctx, "x y"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("DeleteEventSubscription = %v, want not found", err)
	}
	ds, err := c.EventDeliveries(ctx, "old", 5)
	if err != nil || len(ds) != 1 || ds[0].StatusCode != 503 || ds[0].LatencyMs != 1.5 {
		t.Errorf("EventDeliveries = %+v, %v", ds, err)
	}
	want := []string{
		`PUT /v1/eventSubscriptions/new?api-version=2021-04-12 {"url":"http://h/x","types":["DeviceConnected"],"schema":"cloudevents","secret":"0123456789abcdef"}`,
		`PUT /v1/eventSubscriptions/old?api-version=2021-04-12 {"url":"http://h/x"}`,
		`GET /v1/eventSubscriptions?api-version=2021-04-12 `,
		`DELETE /v1/eventSubscriptions/x%20y?api-version=2021-04-12 `,
		`GET /v1/eventDeliveries?api-version=2021-04-12&limit=5&subscription=old `,
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("request %d = %q, want %q", i, at(got, i), want[i])
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
