package stream

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-iot/tether"
)

func TestWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := mustNew(t, mustStore(t), Options{})
		mustRun(t, s)

		woke := make(chan error, 1)
		go func() { woke <- s.Wait(ctx, 0) }()
		synctest.Wait()
		select {
		case err := <-woke:
			t.Fatalf("Wait(0) on an empty stream returned %v, want it to block", err)
		default:
		}
		seq, err := s.Append(ctx, msg("dev", "one"))
		if err != nil {
			t.Fatalf("Append = %v", err)
		}
		if err := <-woke; err != nil {
			t.Errorf("Wait(0) after an Append = %v, want nil", err)
		}
		if err := s.Wait(ctx, seq-1); err != nil {
			t.Errorf("Wait(%d) with message %d in the stream = %v, want nil at once", seq-1, seq, err)
		}

		// A Wait past the end blocks until ctx ends.
		wctx, cancel := context.WithCancel(ctx)
		go func() { woke <- s.Wait(wctx, seq) }()
		synctest.Wait()
		select {
		case err := <-woke:
			t.Fatalf("Wait(%d) at the end of the stream returned %v, want it to block", seq, err)
		default:
		}
		cancel()
		if err := <-woke; !errors.Is(err, context.Canceled) {
			t.Errorf("Wait after its ctx was cancelled = %v, want context.Canceled", err)
		}

		tctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := s.Wait(tctx, seq); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait with a one-minute deadline = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestWaitSeesStoredMessages(t *testing.T) {
	// Messages already in the storage count, before Run and any Append.
	ctx := context.Background()
	st := mustStore(t)
	if _, err := st.AppendTelemetry(ctx, []tether.Message{msg("dev", "old"), msg("dev", "older")}); err != nil {
		t.Fatal(err)
	}
	s := mustNew(t, st, Options{})
	if err := s.Wait(ctx, 1); err != nil {
		t.Errorf("Wait(1) with two stored messages = %v, want nil at once", err)
	}
	if last, err := s.Last(ctx); last != 2 || err != nil {
		t.Errorf("Last() = %d, %v, want 2", last, err)
	}
	mustRun(t, s)
	if seq, err := s.Append(ctx, msg("dev", "new")); seq != 3 || err != nil {
		t.Errorf("Append = %d, %v, want 3", seq, err)
	}
}
