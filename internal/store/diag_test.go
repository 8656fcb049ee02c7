package store

import (
	"context"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestExpireC2DMessages(t *testing.T) {
	s := openLogsStore(t, Options{})
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if _, err := s.CreateDevice(ctx, tether.Device{ID: "d1", Status: tether.StatusEnabled,
		Auth: tether.Authentication{Type: tether.AuthSAS, PrimaryKey: "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", SecondaryKey: "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="}}); err != nil {
		t.Fatal(err)
	}
	old, err := s.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "d1", MessageID: "old", EnqueuedTime: now, ExpiryTime: now.Add(time.Minute), Body: []byte("abc"), Ack: "full"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "d1", MessageID: "new", EnqueuedTime: now, ExpiryTime: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ms, err := s.ExpireC2DMessages(ctx, now.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].MessageID != "old" || ms[0].Seq != old.Seq || string(ms[0].Body) != "abc" || ms[0].Ack != "full" || !ms[0].ExpiryTime.Equal(now.Add(time.Minute)) {
		t.Fatalf("expired %+v", ms)
	}
	pending, _ := s.PendingC2D(ctx, "d1", now)
	if len(pending) != 1 || pending[0].MessageID != "new" {
		t.Errorf("left %+v", pending)
	}
	if ms, err := s.ExpireC2DMessages(ctx, now.Add(2*time.Minute)); err != nil || len(ms) != 0 {
		t.Errorf("second expiry: %v, %v", ms, err)
	}
}

func TestDiagnosticSettingsAndResource(t *testing.T) {
	s := openLogsStore(t, Options{})
	ctx := context.Background()
	if v, err := s.DiagnosticSettings(ctx); err != nil || v != "" {
		t.Fatalf("unset settings = %q, %v", v, err)
	}
	if err := s.PutDiagnosticSettings(ctx, `{"logs":[]}`); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.DiagnosticSettings(ctx); v != `{"logs":[]}` {
		t.Errorf("settings = %q", v)
	}
	if rid, loc := s.LogResource(); rid != DefaultResourceID || loc != DefaultLocation {
		t.Errorf("LogResource = %q, %q", rid, loc)
	}
}
