package store

import (
	"context"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestSetPresence(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	if _, err := s.CreateDevice(ctx, tether.Device{ID: "p1", Status: tether.StatusEnabled, Version: 3}); err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	err := s.SetPresence(ctx, []Presence{
		{DeviceID: "p1", State: tether.Connected, StateChanged: t1, LastActivity: t1},
		{DeviceID: "unknown", State: tether.Connected, StateChanged: t1},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := s.Device(ctx, "p1")
	if d.ConnectionState != tether.Connected || !d.ConnectionStateUpdatedTime.Equal(t1) || !d.LastActivityTime.Equal(t1) || d.Version != 3 {
		t.Errorf("after connect: %+v; want Connected at %v, version unchanged", d, t1)
	}
	t2 := t1.Add(time.Minute)
	if err := s.SetPresence(ctx, []Presence{{DeviceID: "p1", LastActivity: t2}}); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Device(ctx, "p1")
	if d.ConnectionState != tether.Connected || !d.ConnectionStateUpdatedTime.Equal(t1) || !d.LastActivityTime.Equal(t2) {
		t.Errorf("activity only: %+v", d)
	}
}

func TestSetPresenceLastDisconnect(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	s.CreateDevice(ctx, tether.Device{ID: "p1", Status: tether.StatusEnabled})
	at := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	disc := tether.Disconnect{Time: at, Reason: tether.ReasonKeepAliveTimeout, Code: tether.DeviceConnectionClosedRemotely}
	if err := s.SetPresence(ctx, []Presence{{DeviceID: "p1", State: tether.Disconnected, StateChanged: at, Disconnect: disc}}); err != nil {
		t.Fatal(err)
	}
	s.SetPresence(ctx, []Presence{{DeviceID: "p1", State: tether.Connected, StateChanged: at.Add(time.Second)}})
	d, _ := s.Device(ctx, "p1")
	if d.LastDisconnect != disc || d.ConnectionState != tether.Connected {
		t.Errorf("LastDisconnect = %+v (state %s), want %+v kept after a reconnect", d.LastDisconnect, d.ConnectionState, disc)
	}
	// UpdateDevice keeps it too.
	d, err := s.UpdateDevice(ctx, "p1", func(d *tether.Device) error { d.StatusReason = "x"; return nil })
	if err != nil || d.LastDisconnect != disc {
		t.Errorf("after UpdateDevice: %+v, %v", d.LastDisconnect, err)
	}
}

func TestResetPresence(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		s.CreateDevice(ctx, tether.Device{ID: id, Status: tether.StatusEnabled})
	}
	s.SetPresence(ctx, []Presence{{DeviceID: "a", State: tether.Connected, StateChanged: time.Now()}})
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	n, err := s.ResetPresence(ctx, at)
	if err != nil || n != 1 {
		t.Fatalf("ResetPresence = %d, %v; want 1", n, err)
	}
	if d, _ := s.Device(ctx, "a"); d.ConnectionState != tether.Disconnected || !d.ConnectionStateUpdatedTime.Equal(at) {
		t.Errorf("after reset: %s at %v", d.ConnectionState, d.ConnectionStateUpdatedTime)
	}
}
