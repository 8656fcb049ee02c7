package diag

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-iot/tether"
)

// Sink stores log records; one call is one transaction.
type Sink interface {
	WriteLogs(ctx context.Context, recs []tether.LogRecord) error
}

// Options configures a Recorder.
type Options struct {
	Sink       Sink
	Logger     *slog.Logger  // nil: discard
	FlushEvery time.Duration // the longest a record waits to be written; default 1 s
	MaxBatch   int           // records per transaction; default 4096
	MaxQueued  int           // records held while the sink is slow; default 1,000,000
	// Observe, if set, sees every record as it is queued (metrics, live
	// views), of categories turned off too; it must not block.
	Observe func(tether.LogRecord)
	// Export, if set, gets every batch once the Sink took it (or at once,
	// when the settings turn the store off): the best-effort
	// destinations. It must not block.
	Export func([]tether.LogRecord)
}

// Recorder queues records and writes them in batches. Queueing never
// blocks: past MaxQueued records are dropped and counted (Dropped).
type Recorder struct {
	o       Options
	log     *slog.Logger
	mu      sync.Mutex
	queue   []tether.LogRecord
	work    chan struct{}
	dropped atomic.Int64
	written atomic.Int64

	settings atomic.Pointer[Settings]        // nil: every category, to the store
	off      atomic.Pointer[map[string]bool] // the categories turned off; nil: none
}

// SetSettings applies diagnostic settings: records of categories turned
// off are not queued from now on, and the store is skipped when it is
// turned off. The destinations are the Exporter's.
func (r *Recorder) SetSettings(s Settings) {
	s = s.Normalized()
	off := map[string]bool{}
	for _, c := range s.Logs {
		if !c.Enabled {
			off[c.Category] = true
		}
	}
	if len(off) == 0 {
		r.off.Store(nil)
	} else {
		r.off.Store(&off)
	}
	r.settings.Store(&s)
}

// Settings returns the settings in force.
func (r *Recorder) Settings() Settings {
	if s := r.settings.Load(); s != nil {
		return *s
	}
	return Settings{}.Normalized()
}

// New returns a Recorder.
func New(o Options) (*Recorder, error) {
	if o.Sink == nil {
		return nil, errors.New("diag: Options.Sink is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 4096
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 1_000_000
	}
	return &Recorder{o: o, log: o.Logger, work: make(chan struct{}, 1)}, nil
}

// Connection records a connection event.
func (r *Recorder) Connection(ev tether.ConnectionEvent) {
	r.Record(ConnectionRecords(ev)...)
}

// Record queues records.
func (r *Recorder) Record(recs ...tether.LogRecord) {
	if r.o.Observe != nil {
		for _, rec := range recs {
			r.o.Observe(rec)
		}
	}
	if off := r.off.Load(); off != nil {
		recs = slices.DeleteFunc(slices.Clone(recs), func(rec tether.LogRecord) bool { return (*off)[rec.Category] })
		if len(recs) == 0 {
			return
		}
	}
	r.mu.Lock()
	n := min(len(recs), r.o.MaxQueued-len(r.queue))
	r.queue = append(r.queue, recs[:max(n, 0)]...)
	full := len(r.queue) >= r.o.MaxBatch
	r.mu.Unlock()
	if n < len(recs) {
		r.dropped.Add(int64(len(recs) - max(n, 0)))
	}
	if full {
		select {
		case r.work <- struct{}{}:
		default:
		}
	}
}

// Queued is the number of records waiting to be written.
func (r *Recorder) Queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// Dropped is the number of records lost because the queue was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Written is the number of records written.
func (r *Recorder) Written() int64 { return r.written.Load() }

// Run writes queued records at least every FlushEvery, and at once when a
// batch is full, until ctx ends; then it writes what is left.
func (r *Recorder) Run(ctx context.Context) error {
	t := time.NewTicker(r.o.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.flush(context.Background())
			return nil
		case <-t.C:
		case <-r.work:
		}
		r.flush(ctx)
	}
}

// Flush writes everything queued now.
func (r *Recorder) Flush(ctx context.Context) { r.flush(ctx) }

// flush writes everything queued, a batch per transaction. A failed batch
// is put back at the front and retried on the next flush.
func (r *Recorder) flush(ctx context.Context) {
	for {
		r.mu.Lock()
		n := min(len(r.queue), r.o.MaxBatch)
		if n == 0 {
			r.mu.Unlock()
			return
		}
		batch := append([]tether.LogRecord(nil), r.queue[:n]...)
		r.queue = r.queue[n:]
		if len(r.queue) == 0 {
			r.queue = nil
		}
		r.mu.Unlock()
		if !r.Settings().StoreEnabled() {
			if r.o.Export != nil {
				r.o.Export(batch)
			}
			continue
		}
		if err := r.o.Sink.WriteLogs(ctx, batch); err != nil {
			r.log.Error("write diagnostic logs", "records", len(batch), "err", err)
			r.mu.Lock()
			r.queue = append(batch, r.queue...)
			r.mu.Unlock()
			return
		}
		r.written.Add(int64(n))
		if r.o.Export != nil {
			r.o.Export(batch)
		}
	}
}
