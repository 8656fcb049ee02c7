package diag

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

type memSink struct {
	mu    sync.Mutex
	recs  []tether.LogRecord
	calls int
	fail  int // fail this many calls first
}

func (s *memSink) WriteLogs(_ context.Context, recs []tether.LogRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail > 0 {
		s.fail--
		return errors.New("disk full")
	}
	s.recs = append(s.recs, recs...)
	return nil
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

func TestRecorderBatchesAndRetries(t *testing.T) {
	sink := &memSink{fail: 1}
	r, err := New(Options{Sink: sink, FlushEvery: 10 * time.Millisecond, MaxBatch: 100})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for i := 0; i < 1000; i++ {
		r.Connection(tether.ConnectionEvent{Kind: tether.EventConnect, Time: t0, DeviceID: "d"})
	}
	deadline := time.Now().Add(5 * time.Second)
	for sink.count() < 1000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if sink.count() != 1000 || r.Written() != 1000 || r.Dropped() != 0 {
		t.Errorf("wrote %d (Written %d, Dropped %d), want 1000 after one failed write", sink.count(), r.Written(), r.Dropped())
	}
	if sink.calls > 30 {
		t.Errorf("%d sink calls for 1000 records in batches of 100", sink.calls)
	}
}

func TestRecorderDropsWhenFull(t *testing.T) {
	r, _ := New(Options{Sink: &memSink{}, MaxQueued: 10})
	for i := 0; i < 15; i++ {
		r.Record(tether.LogRecord{})
	}
	if r.Queued() != 10 || r.Dropped() != 5 {
		t.Errorf("queued %d dropped %d, want 10 and 5", r.Queued(), r.Dropped())
	}
}

func TestRecorderFlushesOnStop(t *testing.T) {
	sink := &memSink{}
	r, _ := New(Options{Sink: sink, FlushEvery: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	r.Record(tether.LogRecord{DeviceID: "x"})
	cancel()
	<-done
	if sink.count() != 1 {
		t.Errorf("records written at stop: %d, want 1", sink.count())
	}
}
