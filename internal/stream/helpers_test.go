package stream

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/store"
)

// storeStorage adapts *store.Store to Storage, as internal/server does.
type storeStorage struct{ *store.Store }

func (s storeStorage) ReadTelemetry(ctx context.Context, q Query) ([]tether.Message, error) {
	return s.Store.ReadTelemetry(ctx, store.TelemetryQuery(q))
}

var _ Storage = storeStorage{}

// spyStorage wraps a Storage, counts its calls and lets a test hold or
// fail appends.
type spyStorage struct {
	Storage
	appends  atomic.Int64 // AppendTelemetry calls
	messages atomic.Int64 // messages in them
	trims    atomic.Int64 // TrimTelemetry calls
	// trimArgs gets the arguments of each TrimTelemetry call, if set.
	trimArgs chan trimArgs
	// beforeAppend, if set, runs at the start of each AppendTelemetry; an
	// error it returns fails the call.
	beforeAppend func(msgs []tether.Message) error
}

func (s *spyStorage) AppendTelemetry(ctx context.Context, msgs []tether.Message) ([]tether.Message, error) {
	s.appends.Add(1)
	s.messages.Add(int64(len(msgs)))
	if s.beforeAppend != nil {
		if err := s.beforeAppend(msgs); err != nil {
			return nil, err
		}
	}
	return s.Storage.AppendTelemetry(ctx, msgs)
}

func (s *spyStorage) TrimTelemetry(ctx context.Context, olderThan time.Time, keepMax int64) (int64, error) {
	s.trims.Add(1)
	if s.trimArgs != nil {
		s.trimArgs <- trimArgs{olderThan, keepMax}
	}
	return s.Storage.TrimTelemetry(ctx, olderThan, keepMax)
}

type trimArgs struct {
	olderThan time.Time
	keepMax   int64
}

// mustStore opens a store in a new temporary folder, closed when the test
// ends, and returns it as a spyStorage.
func mustStore(tb testing.TB) *spyStorage {
	tb.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(tb.TempDir(), "tether.db")})
	if err != nil {
		tb.Fatalf("store.Open = %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("store Close() = %v", err)
		}
	})
	return &spyStorage{Storage: storeStorage{st}}
}

// mustNew returns a Stream over st with o's other settings.
func mustNew(tb testing.TB, st Storage, o Options) *Stream {
	tb.Helper()
	o.Storage = st
	s, err := New(o)
	if err != nil {
		tb.Fatalf("New = %v", err)
	}
	return s
}

// mustRun runs s until the returned stop is called or the test ends; stop
// waits for Run to return and checks that it returned nil.
func mustRun(tb testing.TB, s *Stream) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("Run() = %v, want nil", err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// queued returns how many appends wait in s's queue.
func queued(s *Stream) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// waitQueued waits until n appends wait in s's queue.
func waitQueued(tb testing.TB, s *Stream, n int) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); queued(s) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d appends queued, want %d", queued(s), n)
		}
	}
}

// msg returns a small message of device.
func msg(device, body string) tether.Message {
	return tether.Message{DeviceID: device, Body: []byte(body), Properties: map[string]string{"k": "v"}}
}

var errInjected = errors.New("injected failure")
