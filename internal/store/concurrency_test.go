package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tether-iot/tether"
)

func TestConcurrentUpdates(t *testing.T) {
	const goroutines, updates = 20, 25
	ctx := context.Background()
	s := mustOpen(t)
	d := testDevice("busy")
	d.CloudToDeviceMessageCount = 0
	if _, err := s.CreateDevice(ctx, d); err != nil {
		t.Fatalf("CreateDevice = %v", err)
	}
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range updates {
				if _, err := s.UpdateDevice(ctx, d.ID, func(d *tether.Device) error {
					d.CloudToDeviceMessageCount++
					return nil
				}); err != nil {
					t.Errorf("UpdateDevice = %v", err)
					return
				}
				// Readers run beside the writers.
				if _, err := s.Device(ctx, d.ID); err != nil {
					t.Errorf("Device = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Device(ctx, d.ID)
	if err != nil || got.CloudToDeviceMessageCount != goroutines*updates || got.Version != 1+goroutines*updates {
		t.Errorf("Device(%q) = count %d, version %d, %v, want count %d, version %d",
			d.ID, got.CloudToDeviceMessageCount, got.Version, err, goroutines*updates, 1+goroutines*updates)
	}
}

func TestConcurrentCreates(t *testing.T) {
	const goroutines, creates = 10, 20
	ctx := context.Background()
	s := mustOpen(t)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range creates {
				id := fmt.Sprintf("dev-%02d-%02d", g, i)
				if _, err := s.CreateDevice(ctx, testDevice(id)); err != nil {
					t.Errorf("CreateDevice(%q) = %v", id, err)
				}
				if _, err := s.Twin(ctx, id); err != nil {
					t.Errorf("Twin(%q) = %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	if total, _, _, err := s.DeviceCounts(ctx); total != goroutines*creates || err != nil {
		t.Errorf("DeviceCounts() = %d, %v, want %d", total, err, goroutines*creates)
	}
}
