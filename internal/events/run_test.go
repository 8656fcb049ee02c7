package events

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
)

// handlerTransport calls a handler in-process: no network, so that time
// in a synctest bubble advances while requests are idle.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestRunRetriesOnSchedule runs the real loop on a fake clock: a receiver
// that fails twice gets the event at 0s, at the first tick after the
// first back-off (1s) and at the first tick after the second (3s), and
// never again.
func TestRunRetriesOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var at []time.Duration
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Since(start))
			if len(at) <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
		st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "tether.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ev, err := New(Options{Store: storeAdapter{st}, HubName: "myhub", Rand: rand.NewChaCha8([32]byte{2}),
			Client: &http.Client{Transport: handlerTransport{h}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ev.PutSubscription(context.Background(), wire.EventSubscription{Name: "s", URL: "http://receiver.test/hook"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- ev.Run(ctx) }()
		if err := ev.Publish(connected("d1", 1, start)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff([]time.Duration{0, time.Second, 3 * time.Second}, at); diff != "" {
			t.Errorf("request times (-want +got):\n%s", diff)
		}
	})
}
