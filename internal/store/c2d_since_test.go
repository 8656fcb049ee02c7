package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestC2DSince(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if _, err := s.CreateDevice(ctx, tether.Device{ID: id, Status: tether.StatusEnabled}); err != nil {
			t.Fatal(err)
		}
	}
	devs, last, err := s.C2DSince(ctx, 0)
	if err != nil || len(devs) != 0 || last != 0 {
		t.Fatalf("empty queue: %v %d %v", devs, last, err)
	}
	now := time.Now()
	s.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "a", EnqueuedTime: now})
	m, _ := s.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "b", EnqueuedTime: now})
	devs, last, err = s.C2DSince(ctx, 0)
	slices.Sort(devs)
	if err != nil || !slices.Equal(devs, []string{"a", "b"}) || last != m.Seq {
		t.Errorf("C2DSince(0) = %v %d %v; want [a b] %d", devs, last, err, m.Seq)
	}
	if devs, l2, _ := s.C2DSince(ctx, last); len(devs) != 0 || l2 != last {
		t.Errorf("C2DSince(last) = %v %d", devs, l2)
	}
}
