package events_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tether-iot/tether/internal/events"
)

// A webhook checks that a delivery comes from the hub before it trusts
// the events in it.
func ExampleVerify() {
	const secret = "the subscription's secret"
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !events.Verify(secret, body, r.Header.Get(events.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("verified:", r.Header.Get(events.EventTypeHeader))
	})

	body := `[{"eventType":"Microsoft.Devices.DeviceConnected"}]`
	req := httptest.NewRequest("POST", "/hook", strings.NewReader(body))
	req.Header.Set(events.SignatureHeader, events.Sign(secret, []byte(body)))
	req.Header.Set(events.EventTypeHeader, "Notification")
	hook.ServeHTTP(httptest.NewRecorder(), req)
	// Output: verified: Notification
}
