package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Run is the stream's writer: it stores queued appends in batches, one
// transaction each, and trims the stream every Options.TrimEvery. It
// returns nil once ctx ends, after finishing the batch in hand and failing
// every append still queued with [ErrStopped].
func (s *Stream) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.state != idle {
		s.mu.Unlock()
		return errors.New("stream: Run called twice")
	}
	s.state = running
	s.mu.Unlock()

	var trims sync.WaitGroup
	trims.Go(func() { s.trimLoop(ctx) })
	// A batch in hand is finished even as ctx ends, so that its callers
	// learn what really happened to their messages.
	commitCtx := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			s.stop()
			trims.Wait()
			return nil
		case <-s.work:
		}
		for ctx.Err() == nil {
			batch, more := s.take()
			if len(batch) > 0 {
				s.commit(commitCtx, batch)
			}
			if !more {
				break
			}
		}
	}
}

// take removes up to MaxBatch appends from the head of the queue and
// returns those still wanted, and whether more are queued.
func (s *Stream) take() (batch []*waiter, more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(len(s.queue), s.maxBatch)
	batch = s.batch[:0]
	for _, w := range s.queue[:n] {
		if w.cancelled {
			continue
		}
		w.taken = true
		batch = append(batch, w)
	}
	rest := copy(s.queue, s.queue[n:])
	clear(s.queue[rest:])
	s.queue = s.queue[:rest]
	if s.space != nil {
		close(s.space) // wake appends waiting for room
		s.space = nil
	}
	s.batch = batch
	return batch, rest > 0
}

// commit stores a batch in one Storage call and reports to each waiter.
func (s *Stream) commit(ctx context.Context, batch []*waiter) {
	msgs := s.msgs[:0]
	for _, w := range batch {
		msgs = append(msgs, w.msg)
	}
	stored, err := s.st.AppendTelemetry(ctx, msgs)
	if err == nil && len(stored) != len(msgs) {
		err = fmt.Errorf("storage stored %d of %d messages", len(stored), len(msgs))
	}
	if err != nil {
		err = fmt.Errorf("stream: append: %w", err)
		s.log.Debug("telemetry batch failed", "messages", len(batch), "err", err)
		for _, w := range batch {
			w.seq, w.err = 0, err
		}
	} else {
		for i, w := range batch {
			w.seq, w.err = stored[i].Seq, nil
		}
		// Publish before waking the appenders, so that a Wait they make
		// next sees their own messages.
		s.publish(stored[len(stored)-1].Seq)
	}
	for _, w := range batch {
		finish(w)
	}
	clear(msgs) // drop the bodies
	s.msgs = msgs[:0]
	clear(batch)
}

// finish hands w's result to its caller.
func finish(w *waiter) {
	if w.done != nil {
		w.done(w.seq, w.err)
		putWaiter(w)
		return
	}
	w.ready <- struct{}{}
}

// publish records last as the newest Seq and wakes every Wait.
func (s *Stream) publish(last int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.known = max(s.last, last), true
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// stop marks the stream stopped, fails every queued append with
// ErrStopped and wakes everything that waits.
func (s *Stream) stop() {
	s.mu.Lock()
	s.state = stopped
	var failed []*waiter
	for _, w := range s.queue {
		if !w.cancelled {
			w.taken = true
			failed = append(failed, w)
		}
	}
	s.queue = nil
	for _, ch := range []*chan struct{}{&s.space, &s.changed} {
		if *ch != nil {
			close(*ch)
			*ch = nil
		}
	}
	s.mu.Unlock()
	for _, w := range failed {
		w.seq, w.err = 0, ErrStopped
		finish(w)
	}
	if len(failed) > 0 {
		s.log.Info("telemetry stream stopped with appends pending; they failed", "appends", len(failed))
	}
}

// trimLoop trims the stream every trimEvery until ctx ends.
func (s *Stream) trimLoop(ctx context.Context) {
	t := time.NewTicker(s.trimEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.trim(ctx, s.now())
		}
	}
}

// trim deletes what is older than the retention at now, or beyond
// MaxRows. A failure is logged: the next tick tries again.
func (s *Stream) trim(ctx context.Context, now time.Time) {
	var olderThan time.Time // zero: no age limit
	if s.retention > 0 {
		olderThan = now.Add(-s.retention)
	}
	n, err := s.st.TrimTelemetry(ctx, olderThan, max(s.maxRows, 0))
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("telemetry trim failed", "err", err)
	case n > 0:
		s.log.Debug("telemetry trimmed", "deleted", n)
	}
}
