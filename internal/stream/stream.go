package stream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-iot/tether"
)

// Storage is the durable log underneath a Stream. *store.Store provides
// it, with a one-method adapter for ReadTelemetry (see the package
// documentation).
type Storage interface {
	// AppendTelemetry stores msgs in one transaction, sets their Seq to
	// the next numbers in order, and returns them.
	AppendTelemetry(ctx context.Context, msgs []tether.Message) ([]tether.Message, error)
	// ReadTelemetry returns the messages q selects, in Seq order.
	ReadTelemetry(ctx context.Context, q Query) ([]tether.Message, error)
	// TrimTelemetry deletes messages enqueued before olderThan and those
	// beyond the newest keepMax, and returns how many it deleted.
	TrimTelemetry(ctx context.Context, olderThan time.Time, keepMax int64) (int64, error)
	// LastTelemetrySeq returns the newest Seq ever appended, or 0.
	LastTelemetrySeq(ctx context.Context) (int64, error)
}

// Query selects messages from the stream. It has the same fields as
// store.TelemetryQuery, so one converts to the other.
type Query struct {
	After    int64  // only messages with Seq > After
	DeviceID string // "" means every device
	Limit    int    // at most this many; <= 0 means the storage's default
}

// Options configures [New].
type Options struct {
	Storage   Storage          // required
	Logger    *slog.Logger     // nil discards
	Now       func() time.Time // nil means time.Now
	MaxBatch  int              // messages per transaction; default 512
	MaxQueued int              // appends waiting before Append blocks; default 65536
	Retention time.Duration    // how long messages are kept; default 24h, < 0 for ever
	MaxRows   int64            // how many messages are kept; default 1,000,000, < 0 any number
	TrimEvery time.Duration    // how often the stream is trimmed; default 1m
}

// The defaults of Options.
const (
	DefaultMaxBatch  = 512
	DefaultMaxQueued = 1 << 16
	DefaultRetention = 24 * time.Hour
	DefaultMaxRows   = 1_000_000
	DefaultTrimEvery = time.Minute
)

// ErrStopped is the error of appends and waits on a stream whose Run has
// returned (or returns while they wait). Its Kind is unavailable.
var ErrStopped error = &tether.Error{Kind: tether.KindUnavailable, Code: tether.ServiceUnavailable,
	Message: "stream: stopped: the hub is shutting down"}

// A Stream's lifecycle.
const (
	idle = iota
	running
	stopped
)

// Stream is the telemetry stream. See the package documentation for its
// concurrency contract.
type Stream struct {
	st        Storage
	log       *slog.Logger
	now       func() time.Time
	maxBatch  int
	maxQueued int
	retention time.Duration
	maxRows   int64
	trimEvery time.Duration

	work chan struct{} // capacity 1: appends are waiting

	// mu guards the fields below. It is never held while calling Storage
	// or a callback.
	mu      sync.Mutex
	queue   []*waiter     // appends not yet taken by the writer, oldest first
	space   chan struct{} // closed when the writer takes a batch; nil if nobody waits for room
	state   int           // idle, running or stopped
	last    int64         // the newest Seq in the storage, if known
	known   bool          // last has been read from the storage or set by a commit
	changed chan struct{} // closed when last grows or the stream stops; nil if nobody waits

	// The writer's scratch space, touched only by Run's goroutine.
	batch []*waiter
	msgs  []tether.Message
}

// New returns a Stream over o.Storage, ready for appends; they are
// stored once [Stream.Run] is running.
func New(o Options) (*Stream, error) {
	if o.Storage == nil {
		return nil, errors.New("stream: Options.Storage is required")
	}
	if o.MaxBatch < 0 || o.MaxQueued < 0 || o.TrimEvery < 0 {
		return nil, errors.New("stream: Options.MaxBatch, MaxQueued and TrimEvery must not be negative")
	}
	s := &Stream{
		st:        o.Storage,
		log:       o.Logger,
		now:       o.Now,
		maxBatch:  cmp.Or(o.MaxBatch, DefaultMaxBatch),
		maxQueued: cmp.Or(o.MaxQueued, DefaultMaxQueued),
		retention: cmp.Or(o.Retention, DefaultRetention),
		maxRows:   cmp.Or(o.MaxRows, DefaultMaxRows),
		trimEvery: cmp.Or(o.TrimEvery, DefaultTrimEvery),
		work:      make(chan struct{}, 1),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Append stores m and returns its Seq once it is durable. A zero
// EnqueuedTime becomes Now. It blocks while the queue is full. If ctx ends
// first it returns ctx's error, and m may or may not be stored; if the
// stream stops first, [ErrStopped].
func (s *Stream) Append(ctx context.Context, m tether.Message) (int64, error) {
	if m.EnqueuedTime.IsZero() {
		m.EnqueuedTime = s.now()
	}
	w := getWaiter()
	w.msg, w.ready = m, make(chan struct{}, 1)
	if err := s.enqueue(ctx, w); err != nil {
		putWaiter(w)
		return 0, err
	}
	select {
	case <-w.ready:
		return w.result()
	case <-ctx.Done():
	}
	select {
	case <-w.ready: // it finished as ctx ended: report what happened
		return w.result()
	default:
	}
	s.mu.Lock()
	if !w.taken {
		w.cancelled = true // the writer drops it
	}
	// Otherwise the writer has it and will signal w.ready, which nobody
	// reads; w is not reused either way.
	s.mu.Unlock()
	return 0, ctx.Err()
}

// Submit queues m and returns; done is called once m is durable, or has
// failed, with its Seq or the error. done runs on the writer goroutine and
// must not block. One caller's callbacks run in the order of its Submits.
// A zero EnqueuedTime becomes Now. Submit blocks while the queue is full;
// on a stopped stream it calls done with [ErrStopped] before returning.
func (s *Stream) Submit(m tether.Message, done func(seq int64, err error)) {
	if m.EnqueuedTime.IsZero() {
		m.EnqueuedTime = s.now()
	}
	w := getWaiter()
	w.msg, w.done = m, done
	if err := s.enqueue(context.Background(), w); err != nil {
		putWaiter(w)
		done(0, err)
	}
}

// enqueue adds w to the queue, waiting for room if it is full, and wakes
// the writer.
func (s *Stream) enqueue(ctx context.Context, w *waiter) error {
	s.mu.Lock()
	for {
		if s.state == stopped {
			s.mu.Unlock()
			return ErrStopped
		}
		if len(s.queue) < s.maxQueued {
			break
		}
		if s.space == nil {
			s.space = make(chan struct{})
		}
		space := s.space
		s.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	s.queue = append(s.queue, w)
	s.mu.Unlock()
	select {
	case s.work <- struct{}{}:
	default: // the writer has been told already
	}
	return nil
}

// Read returns up to limit messages with Seq > after, of one device or
// ("" deviceID) all, in Seq order.
func (s *Stream) Read(ctx context.Context, after int64, deviceID string, limit int) ([]tether.Message, error) {
	msgs, err := s.st.ReadTelemetry(ctx, Query{After: after, DeviceID: deviceID, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("stream: read: %w", err)
	}
	return msgs, nil
}

// Last returns the newest Seq in the stream, or 0 if it has none.
func (s *Stream) Last(ctx context.Context) (int64, error) {
	s.mu.Lock()
	last, known := s.last, s.known
	s.mu.Unlock()
	if known {
		return last, nil
	}
	n, err := s.st.LastTelemetrySeq(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream: last: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.known = max(s.last, n), true
	return s.last, nil
}

// Wait returns once the stream holds a message with Seq > after: at once
// if it already does, else when the writer commits one. It returns ctx's
// error if ctx ends first, and [ErrStopped] if the stream stops first.
func (s *Stream) Wait(ctx context.Context, after int64) error {
	if _, err := s.Last(ctx); err != nil {
		return err
	}
	for {
		s.mu.Lock()
		if s.last > after {
			s.mu.Unlock()
			return nil
		}
		if s.state == stopped {
			s.mu.Unlock()
			return ErrStopped
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
