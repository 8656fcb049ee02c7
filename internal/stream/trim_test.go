package stream

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-iot/tether"
)

func TestTrim(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := mustStore(t)
		// The bubble's fake clock, which the test can also jump forward.
		var jump atomic.Int64
		clock := func() time.Time { return time.Now().Add(time.Duration(jump.Load())) }
		s := mustNew(t, st, Options{Now: clock, Retention: time.Hour, MaxRows: 5, TrimEvery: time.Minute})
		mustRun(t, s)
		for range 8 {
			if _, err := s.Append(ctx, msg("dev", "x")); err != nil {
				t.Fatal(err)
			}
		}

		time.Sleep(time.Minute) // the first trim: the row cap
		synctest.Wait()
		if got, _ := s.Read(ctx, 0, "", 0); len(got) != 5 || got[0].Seq != 4 {
			t.Errorf("after the first trim, the stream holds %d messages from %v, want 5 from 4", len(got), seqsOf(got))
		}

		jump.Store(int64(2 * time.Hour)) // all of them are now too old
		time.Sleep(time.Minute)
		synctest.Wait()
		if got, _ := s.Read(ctx, 0, "", 0); len(got) != 0 {
			t.Errorf("after the retention, the stream holds %v, want nothing", seqsOf(got))
		}
		if n := st.trims.Load(); n != 2 {
			t.Errorf("TrimTelemetry called %d times in two minutes, want 2", n)
		}
		if last, _ := s.Last(ctx); last != 8 {
			t.Errorf("Last() after trimming = %d, want 8", last)
		}
	})
}

func TestTrimLimits(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		retention time.Duration
		maxRows   int64
		want      trimArgs
	}{
		{"defaults", 0, 0, trimArgs{now.Add(-24 * time.Hour), 1_000_000}},
		{"set", time.Hour, 10, trimArgs{now.Add(-time.Hour), 10}},
		{"no limits", -1, -1, trimArgs{time.Time{}, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStore(t)
			st.trimArgs = make(chan trimArgs, 1)
			s := mustNew(t, st, Options{Retention: tc.retention, MaxRows: tc.maxRows})
			s.trim(context.Background(), now)
			if got := <-st.trimArgs; !got.olderThan.Equal(tc.want.olderThan) || got.keepMax != tc.want.keepMax {
				t.Errorf("with Retention %v, MaxRows %d: TrimTelemetry(%v, %d), want (%v, %d)",
					tc.retention, tc.maxRows, got.olderThan, got.keepMax, tc.want.olderThan, tc.want.keepMax)
			}
		})
	}
}

// seqsOf returns the Seq of each message.
func seqsOf(msgs []tether.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}
