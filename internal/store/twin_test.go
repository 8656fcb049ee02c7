package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

// viaJSON returns v after a trip through encoding/json, as the store keeps
// maps: numbers become float64.
func viaJSON[T any](tb testing.TB, v T) T {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestTwinLifecycle(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.CreateDevice(ctx, testDevice("dev1")); err != nil {
		t.Fatalf("CreateDevice = %v", err)
	}
	got, err := s.Twin(ctx, "dev1")
	if want := tether.NewTwin("dev1"); err != nil || !cmp.Equal(got, want) {
		t.Fatalf("Twin(%q) of a new device = %v, %v, want %v", "dev1", got, err, want)
	}

	now := time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)
	var want tether.Twin
	updated, err := s.UpdateTwin(ctx, "dev1", func(tw *tether.Twin) error {
		if err := tw.PatchTags(map[string]any{"site": "oslo", "floor": 3}); err != nil {
			return err
		}
		if err := tw.Desired.Patch("desired", map[string]any{"interval": 30, "fan": map[string]any{"mode": "auto"}}, now); err != nil {
			return err
		}
		if err := tw.Reported.Patch("reported", map[string]any{"firmware": "1.2.3"}, now.Add(time.Second)); err != nil {
			return err
		}
		want = *tw
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateTwin(%q) = %v", "dev1", err)
	}
	want.Version = 2
	want = viaJSON(t, want)
	if want.Desired.Version != 2 || want.Reported.Version != 2 || want.Desired.Meta["fan"] == nil {
		t.Fatalf("test setup: Patch did not bump versions or write $metadata: %+v", want)
	}
	if !cmp.Equal(updated, want) {
		t.Errorf("UpdateTwin(%q) = %v, want %v; diff (-got +want):\n%s", "dev1", updated, want, cmp.Diff(updated, want))
	}
	got, err = s.Twin(ctx, "dev1")
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("Twin(%q) = %v, %v, want %v; diff (-got +want):\n%s", "dev1", got, err, want, cmp.Diff(got, want))
	}

	veto := &tether.Error{Kind: tether.KindPrecondition, Message: "stale ETag"}
	_, err = s.UpdateTwin(ctx, "dev1", func(tw *tether.Twin) error {
		tw.Tags["site"] = "bergen"
		return veto
	})
	if err != veto {
		t.Errorf("UpdateTwin with a veto = %v, want %v", err, veto)
	}
	if got, err := s.Twin(ctx, "dev1"); err != nil || !cmp.Equal(got, want) {
		t.Errorf("after a vetoed UpdateTwin, Twin(%q) = %v, %v, want %v", "dev1", got, err, want)
	}

	// A nil map is stored as an empty one.
	got, err = s.UpdateTwin(ctx, "dev1", func(tw *tether.Twin) error { tw.Tags = nil; return nil })
	if err != nil || got.Tags == nil || len(got.Tags) != 0 || got.Version != 3 {
		t.Errorf("UpdateTwin clearing tags = %v, %v, want empty non-nil tags at version 3", got, err)
	}

	if err := s.DeleteDevice(ctx, "dev1", nil); err != nil {
		t.Fatalf("DeleteDevice = %v", err)
	}
	var twins int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM twins").Scan(&twins); err != nil || twins != 0 {
		t.Errorf("after DeleteDevice, twins table has %d rows (%v), want 0", twins, err)
	}
	if _, err := s.CreateDevice(ctx, testDevice("dev1")); err != nil {
		t.Fatalf("CreateDevice again = %v", err)
	}
	if got, err := s.Twin(ctx, "dev1"); err != nil || !cmp.Equal(got, tether.NewTwin("dev1")) {
		t.Errorf("Twin(%q) of a re-created device = %v, %v, want a new twin", "dev1", got, err)
	}
}
