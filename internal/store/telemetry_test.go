package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// mustAppend appends msgs and returns them with their Seq.
func mustAppend(tb testing.TB, s *Store, msgs ...tether.Message) []tether.Message {
	tb.Helper()
	got, err := s.AppendTelemetry(context.Background(), msgs)
	if err != nil {
		tb.Fatalf("AppendTelemetry(%d messages) = %v", len(msgs), err)
	}
	return got
}

// mustRead reads the messages q selects.
func mustRead(tb testing.TB, s *Store, q TelemetryQuery) []tether.Message {
	tb.Helper()
	got, err := s.ReadTelemetry(context.Background(), q)
	if err != nil {
		tb.Fatalf("ReadTelemetry(%+v) = %v", q, err)
	}
	return got
}

// seqs returns the Seq of each message.
func seqs(msgs []tether.Message) []int64 {
	out := []int64{}
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}

// span returns the numbers from..to.
func span(from, to int64) []int64 {
	out := []int64{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// messagesAt returns n messages of device, enqueued a second apart from
// start.
func messagesAt(device string, start time.Time, n int) []tether.Message {
	msgs := make([]tether.Message, n)
	for i := range msgs {
		msgs[i] = tether.Message{DeviceID: device, EnqueuedTime: start.Add(time.Duration(i) * time.Second),
			Body: []byte(fmt.Sprint(i))}
	}
	return msgs
}

func TestTelemetryRoundTrip(t *testing.T) {
	s := mustOpen(t)
	cet := time.FixedZone("CET", 3600)
	in := []tether.Message{
		{
			DeviceID:     "dev1",
			EnqueuedTime: time.Date(2026, 11, 25, 11, 0, 0, 123456789, cet),
			System:       map[string]string{"message-id": "m1", "content-type": "application/json"},
			Properties:   map[string]string{"alert": "true", `q"uote\`: "tab\tnew\nline\x01", "ünï": "✓ 😀", "bad": "\xff"},
			Body:         []byte(`{"temp":21.5}`),
		},
		{DeviceID: "dev2", ModuleID: "mod", EnqueuedTime: t0},
		{DeviceID: "dev1", Body: []byte{0, 1, 2}}, // zero time
	}
	got := mustAppend(t, s, in...)
	if diff := cmp.Diff([]int64{1, 2, 3}, seqs(got)); diff != "" {
		t.Errorf("AppendTelemetry Seqs (-want +got):\n%s", diff)
	}
	if in[0].Seq != 1 {
		t.Errorf("AppendTelemetry left the caller's msgs[0].Seq = %d, want it set to 1", in[0].Seq)
	}
	want := append([]tether.Message(nil), in...)
	want[0].EnqueuedTime = want[0].EnqueuedTime.UTC()
	want[0].Properties["bad"] = "\uFFFD"
	if diff := cmp.Diff(want, mustRead(t, s, TelemetryQuery{})); diff != "" {
		t.Errorf("ReadTelemetry after AppendTelemetry (-want +got):\n%s", diff)
	}
	if got := mustAppend(t, s, messagesAt("dev3", t0, 2)...); !cmp.Equal(seqs(got), []int64{4, 5}) {
		t.Errorf("second AppendTelemetry Seqs = %v, want [4 5]", seqs(got))
	}
	if last, err := s.LastTelemetrySeq(context.Background()); last != 5 || err != nil {
		t.Errorf("LastTelemetrySeq() = %d, %v, want 5", last, err)
	}
}

func TestAppendTelemetryEmpty(t *testing.T) {
	s := mustOpen(t)
	if got, err := s.AppendTelemetry(context.Background(), nil); len(got) != 0 || err != nil {
		t.Errorf("AppendTelemetry(nil) = %v, %v, want nothing", got, err)
	}
	if last, err := s.LastTelemetrySeq(context.Background()); last != 0 || err != nil {
		t.Errorf("LastTelemetrySeq() of an empty stream = %d, %v, want 0", last, err)
	}
}

func TestReadTelemetryQuery(t *testing.T) {
	s := mustOpen(t)
	for i := range 1100 {
		mustAppend(t, s, tether.Message{DeviceID: fmt.Sprintf("dev%d", i%3), EnqueuedTime: t0})
	}
	for _, tc := range []struct {
		name string
		q    TelemetryQuery
		want []int64
	}{
		{"default limit", TelemetryQuery{}, span(1, 1000)},
		{"after", TelemetryQuery{After: 1095}, span(1096, 1100)},
		{"after the end", TelemetryQuery{After: 1100}, []int64{}},
		{"limit", TelemetryQuery{After: 10, Limit: 3}, []int64{11, 12, 13}},
		{"device", TelemetryQuery{After: 1090, DeviceID: "dev1"}, []int64{1091, 1094, 1097, 1100}},
		{"device and limit", TelemetryQuery{DeviceID: "dev2", Limit: 2}, []int64{3, 6}},
		{"unknown device", TelemetryQuery{DeviceID: "nobody"}, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustRead(t, s, tc.q)
			if diff := cmp.Diff(tc.want, seqs(got)); diff != "" {
				t.Errorf("ReadTelemetry(%+v) Seqs (-want +got):\n%s", tc.q, diff)
			}
			for _, m := range got {
				if tc.q.DeviceID != "" && m.DeviceID != tc.q.DeviceID {
					t.Errorf("ReadTelemetry(%+v) returned a message of %q", tc.q, m.DeviceID)
				}
			}
		})
	}
}

func TestTrimTelemetry(t *testing.T) {
	for _, tc := range []struct {
		name      string
		olderThan time.Time
		keepMax   int64
		want      []int64 // the Seqs left
	}{
		{"nothing to trim", t0, 0, span(1, 10)},
		{"no limits", time.Time{}, 0, span(1, 10)},
		{"by age", t0.Add(4 * time.Second), 0, span(5, 10)},
		{"by age, between messages", t0.Add(4*time.Second - 1), 0, span(5, 10)},
		{"by age, all", t0.Add(time.Hour), 0, []int64{}},
		{"by row cap", time.Time{}, 3, span(8, 10)},
		{"row cap above the count", time.Time{}, 100, span(1, 10)},
		{"age cuts more than the cap", t0.Add(8 * time.Second), 5, span(9, 10)},
		{"cap cuts more than the age", t0.Add(2 * time.Second), 5, span(6, 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := mustOpen(t)
			mustAppend(t, s, messagesAt("dev", t0, 10)...)
			n, err := s.TrimTelemetry(ctx, tc.olderThan, tc.keepMax)
			if err != nil {
				t.Fatalf("TrimTelemetry(%v, %d) = %v", tc.olderThan, tc.keepMax, err)
			}
			got := seqs(mustRead(t, s, TelemetryQuery{}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("after TrimTelemetry(%v, %d), Seqs (-want +got):\n%s", tc.olderThan, tc.keepMax, diff)
			}
			if n != int64(10-len(tc.want)) {
				t.Errorf("TrimTelemetry(%v, %d) = %d, want %d", tc.olderThan, tc.keepMax, n, 10-len(tc.want))
			}
		})
	}
}

func TestTrimTelemetryStopsAtNewerMessage(t *testing.T) {
	s := mustOpen(t)
	msgs := messagesAt("dev", t0, 4)
	msgs[1].EnqueuedTime = t0.Add(time.Hour) // a newer message holds back the older ones behind it
	mustAppend(t, s, msgs...)
	if n, err := s.TrimTelemetry(context.Background(), t0.Add(time.Minute), 0); n != 1 || err != nil {
		t.Errorf("TrimTelemetry = %d, %v, want 1 (only the message before the newer one)", n, err)
	}
	if got := seqs(mustRead(t, s, TelemetryQuery{})); !cmp.Equal(got, []int64{2, 3, 4}) {
		t.Errorf("after TrimTelemetry, Seqs = %v, want [2 3 4]", got)
	}
}

func TestTrimTelemetryManyChunks(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	const n = 2*trimChunk + 7
	msgs := messagesAt("dev", t0, n)
	for i := 0; i < n; i += 1000 {
		mustAppend(t, s, msgs[i:min(i+1000, n)]...)
	}
	if got, err := s.TrimTelemetry(ctx, time.Time{}, 5); got != n-5 || err != nil {
		t.Errorf("TrimTelemetry(keep 5 of %d) = %d, %v, want %d", n, got, err, n-5)
	}
	if got := seqs(mustRead(t, s, TelemetryQuery{})); !cmp.Equal(got, span(n-4, n)) {
		t.Errorf("after TrimTelemetry, Seqs = %v, want %v", got, span(n-4, n))
	}
}

func TestTelemetrySeqNotReusedAfterTrim(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tether.db")
	s := mustOpenPath(t, path)
	mustAppend(t, s, messagesAt("dev", t0, 3)...)
	if _, err := s.TrimTelemetry(ctx, t0.Add(time.Hour), 0); err != nil {
		t.Fatalf("TrimTelemetry = %v", err)
	}
	if last, err := s.LastTelemetrySeq(ctx); last != 3 || err != nil {
		t.Errorf("LastTelemetrySeq() after trimming everything = %d, %v, want 3", last, err)
	}
	mustClose(t, s)

	s = mustOpenPath(t, path)
	if got := mustAppend(t, s, messagesAt("dev", t0, 1)...); got[0].Seq != 4 {
		t.Errorf("after trimming everything and reopening, AppendTelemetry Seq = %d, want 4", got[0].Seq)
	}
}

func TestTelemetryOffsets(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if seq, ok, err := s.TelemetryOffset(ctx, "$Default"); seq != 0 || ok || err != nil {
		t.Errorf("TelemetryOffset of a new group = %d, %v, %v, want 0, false, nil", seq, ok, err)
	}
	for _, seq := range []int64{42, 7} {
		if err := s.SetTelemetryOffset(ctx, "$Default", seq); err != nil {
			t.Fatalf("SetTelemetryOffset(%d) = %v", seq, err)
		}
		if got, ok, err := s.TelemetryOffset(ctx, "$Default"); got != seq || !ok || err != nil {
			t.Errorf("TelemetryOffset after SetTelemetryOffset(%d) = %d, %v, %v", seq, got, ok, err)
		}
	}
	if _, ok, _ := s.TelemetryOffset(ctx, "other"); ok {
		t.Errorf("TelemetryOffset(other) found an offset set for $Default")
	}
}

func TestTelemetryFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpenPath(t, filepath.Join(dir, "tether.db"))
	mustAppend(t, s, messagesAt("dev", t0, 1)...)
	if _, err := os.Stat(filepath.Join(dir, "telemetry.db")); err != nil {
		t.Errorf("telemetry file: %v", err)
	}
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"user_version", "1"},
	} {
		var got string
		if err := s.tw.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil || got != tc.want {
			t.Errorf("telemetry PRAGMA %s = %q, %v, want %q", tc.pragma, got, err, tc.want)
		}
	}

	other := filepath.Join(dir, "elsewhere", "stream.db")
	s2, err := Open(ctx, Options{Path: filepath.Join(dir, "second.db"), TelemetryPath: other})
	if err != nil {
		t.Fatalf("Open with TelemetryPath = %v", err)
	}
	defer s2.Close()
	if _, err := os.Stat(other); err != nil {
		t.Errorf("Options.TelemetryPath file: %v", err)
	}
}

func TestOpenCorruptTelemetry(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "telemetry.db")
	mustWrite(t, path, []byte("not a database, but long enough to be looked at as one........................................"))
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "tether.db")})
	if err == nil {
		s.Close()
		t.Fatalf("Open with a corrupt telemetry file = nil error, want ErrCorrupt")
	}
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open with a corrupt telemetry file = %v, want ErrCorrupt naming %s", err, path)
	}
}
