package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestNew(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Errorf("New without Storage = nil error, want one")
	}
	if _, err := New(Options{Storage: mustStore(t), MaxBatch: -1}); err == nil {
		t.Errorf("New with MaxBatch -1 = nil error, want one")
	}
	s := mustNew(t, mustStore(t), Options{})
	if s.maxBatch != DefaultMaxBatch || s.maxQueued != DefaultMaxQueued || s.retention != DefaultRetention ||
		s.maxRows != DefaultMaxRows || s.trimEvery != DefaultTrimEvery || s.now == nil || s.log == nil {
		t.Errorf("New(Options{Storage}) did not fill every default: %+v", s)
	}
}

func TestAppendConcurrent(t *testing.T) {
	const goroutines, appends = 50, 200
	ctx := context.Background()
	st := mustStore(t)
	s := mustNew(t, st, Options{})
	mustRun(t, s)

	got := make([][]int64, goroutines) // each goroutine's Seqs, in order
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range appends {
				seq, err := s.Append(ctx, msg(fmt.Sprintf("dev%02d", g), fmt.Sprintf("%d/%d", g, i)))
				if err != nil {
					t.Errorf("Append = %v", err)
					return
				}
				got[g] = append(got[g], seq)
			}
		})
	}
	wg.Wait()

	body := map[int64]string{} // Seq → the body appended with it
	for g, seqs := range got {
		for i, seq := range seqs {
			if i > 0 && seq <= seqs[i-1] {
				t.Errorf("goroutine %d: Append %d returned Seq %d after %d, want it increasing", g, i, seq, seqs[i-1])
			}
			if _, dup := body[seq]; dup {
				t.Errorf("Seq %d returned twice", seq)
			}
			body[seq] = fmt.Sprintf("%d/%d", g, i)
		}
	}
	var read []tether.Message
	for after := int64(0); ; {
		page, err := s.Read(ctx, after, "", 1000)
		if err != nil {
			t.Fatalf("Read(%d) = %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		read = append(read, page...)
		after = page[len(page)-1].Seq
	}
	if len(read) != goroutines*appends {
		t.Errorf("Read returned %d messages, want %d", len(read), goroutines*appends)
	}
	for _, m := range read {
		if string(m.Body) != body[m.Seq] {
			t.Errorf("message %d has body %q, want %q", m.Seq, m.Body, body[m.Seq])
		}
		if m.EnqueuedTime.IsZero() {
			t.Errorf("message %d has no EnqueuedTime, want Append to set it", m.Seq)
		}
	}
	if last, err := s.Last(ctx); last != goroutines*appends || err != nil {
		t.Errorf("Last() = %d, %v, want %d", last, err, goroutines*appends)
	}
	calls := st.appends.Load()
	t.Logf("%d messages in %d AppendTelemetry calls (%.1f a call)", goroutines*appends, calls, float64(goroutines*appends)/float64(calls))
	// Typically 20 or more a call; 2 leaves room for a loaded machine.
	// TestAppendBatches checks the batching exactly.
	if calls > goroutines*appends/2 {
		t.Errorf("%d messages took %d AppendTelemetry calls, want batches of more than 2 on average", goroutines*appends, calls)
	}
}

func TestAppendBatches(t *testing.T) {
	// The first append holds the storage while 100 more queue up; they go
	// in batches of at most MaxBatch.
	st := mustStore(t)
	release := make(chan struct{})
	var sizes []int
	st.beforeAppend = func(msgs []tether.Message) error {
		sizes = append(sizes, len(msgs)) // only the writer goroutine calls it
		if len(sizes) == 1 {
			<-release
		}
		return nil
	}
	s := mustNew(t, st, Options{MaxBatch: 40})
	mustRun(t, s)
	var (
		mu   sync.Mutex
		seqs []int64
		wg   sync.WaitGroup
	)
	done := func(seq int64, err error) {
		if err != nil {
			t.Errorf("Submit callback error = %v", err)
		}
		mu.Lock()
		seqs = append(seqs, seq)
		mu.Unlock()
		wg.Done()
	}
	wg.Add(101)
	s.Submit(msg("dev", "first"), done)
	for deadline := time.Now().Add(10 * time.Second); st.appends.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the writer never called AppendTelemetry")
		}
	}
	for i := range 100 {
		s.Submit(msg("dev", fmt.Sprint(i)), done)
	}
	close(release)
	wg.Wait()
	if want := []int{1, 40, 40, 20}; fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("AppendTelemetry batch sizes = %v, want %v", sizes, want)
	}
	for i := range seqs {
		if seqs[i] != int64(i+1) {
			t.Fatalf("Submit callbacks got Seqs %v, want 1…101 in order", seqs)
		}
	}
}

func TestAppendStorageError(t *testing.T) {
	ctx := context.Background()
	st := mustStore(t)
	fail := true
	st.beforeAppend = func([]tether.Message) error {
		if fail {
			fail = false
			return errInjected
		}
		return nil
	}
	s := mustNew(t, st, Options{})
	mustRun(t, s)
	if _, err := s.Append(ctx, msg("dev", "lost")); !errors.Is(err, errInjected) {
		t.Errorf("Append with a failing storage = %v, want it to wrap %v", err, errInjected)
	}
	if seq, err := s.Append(ctx, msg("dev", "kept")); seq != 1 || err != nil {
		t.Errorf("Append after a failure = %d, %v, want 1, nil: the stream keeps running", seq, err)
	}
}

func TestAppendContextDone(t *testing.T) {
	// Not running yet, so the append stays queued until ctx ends; the
	// writer then skips it.
	st := mustStore(t)
	s := mustNew(t, st, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, msg("dev", "abandoned"))
		result <- err
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("Append after cancel = %v, want context.Canceled", err)
	}
	mustRun(t, s)
	if seq, err := s.Append(context.Background(), msg("dev", "next")); seq != 1 || err != nil {
		t.Errorf("next Append = %d, %v, want 1, nil (the abandoned message not stored)", seq, err)
	}
}

func TestSubmitOrder(t *testing.T) {
	const n = 2000
	s := mustNew(t, mustStore(t), Options{MaxBatch: 64})
	mustRun(t, s)
	var (
		got  []int64
		wg   sync.WaitGroup
		prev = -1
	)
	wg.Add(n)
	for i := range n {
		s.Submit(msg("dev", fmt.Sprint(i)), func(seq int64, err error) {
			defer wg.Done()
			// Callbacks run on the writer goroutine, in order: no lock.
			if err != nil || i != prev+1 {
				t.Errorf("callback of Submit %d after that of %d, err %v; want them in order", i, prev, err)
			}
			prev = i
			got = append(got, seq)
		})
	}
	wg.Wait()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("Submit Seqs not increasing: %d after %d", got[i], got[i-1])
		}
	}
}

func TestBackpressure(t *testing.T) {
	ctx := context.Background()
	s := mustNew(t, mustStore(t), Options{MaxQueued: 3})
	for i := range 3 {
		s.Submit(msg("dev", fmt.Sprint(i)), func(int64, error) {})
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.Append(short, msg("dev", "over")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Append to a full queue = %v, want it to block until its deadline", err)
	}
	result := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, msg("dev", "waits"))
		result <- err
	}()
	mustRun(t, s) // the writer makes room
	if err := <-result; err != nil {
		t.Errorf("blocked Append after the writer started = %v, want nil", err)
	}
	if last, _ := s.Last(ctx); last != 4 {
		t.Errorf("Last() = %d, want 4: none dropped, the timed-out one not stored", last)
	}
}

func TestRunStopFailsPending(t *testing.T) {
	// The writer is stuck in a batch when Run's context ends: that batch
	// is stored, the appends queued behind it fail with ErrStopped.
	st := mustStore(t)
	inAppend, release := make(chan struct{}), make(chan struct{})
	st.beforeAppend = func([]tether.Message) error {
		if st.appends.Load() == 1 {
			close(inAppend)
			<-release
		}
		return nil
	}
	s := mustNew(t, st, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	type result struct {
		seq int64
		err error
	}
	first := make(chan result, 1)
	go func() {
		seq, err := s.Append(context.Background(), msg("dev", "in flight"))
		first <- result{seq, err}
	}()
	<-inAppend
	const pending = 10
	results := make(chan result, pending)
	for range pending {
		go func() {
			seq, err := s.Append(context.Background(), msg("dev", "pending"))
			results <- result{seq, err}
		}()
	}
	waitQueued(t, s, pending)
	waitErr := make(chan error, 1)
	go func() { waitErr <- s.Wait(context.Background(), 1) }()

	cancel()
	close(release)
	if err := <-runErr; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
	if r := <-first; r.seq != 1 || r.err != nil {
		t.Errorf("Append in flight when Run stopped = %d, %v, want 1, nil", r.seq, r.err)
	}
	for range pending {
		if r := <-results; !errors.Is(r.err, ErrStopped) || tether.ErrorKind(r.err) != tether.KindUnavailable {
			t.Errorf("Append pending when Run stopped = %d, %v, want ErrStopped", r.seq, r.err)
		}
	}
	if err := <-waitErr; !errors.Is(err, ErrStopped) {
		t.Errorf("Wait when Run stopped = %v, want ErrStopped", err)
	}

	// Afterwards everything fails at once.
	if _, err := s.Append(context.Background(), msg("dev", "late")); !errors.Is(err, ErrStopped) {
		t.Errorf("Append after Run = %v, want ErrStopped", err)
	}
	var submitErr error
	s.Submit(msg("dev", "late"), func(_ int64, err error) { submitErr = err })
	if !errors.Is(submitErr, ErrStopped) {
		t.Errorf("Submit after Run called back with %v, want ErrStopped", submitErr)
	}
	if err := s.Wait(context.Background(), 0); err != nil {
		t.Errorf("Wait(0) after Run = %v, want nil: message 1 exists", err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Errorf("second Run = nil, want an error")
	}
}
