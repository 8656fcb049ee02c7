package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

// mustCreateDevice registers a device with no queued messages.
func mustCreateDevice(tb testing.TB, s *Store, id string) {
	tb.Helper()
	d := testDevice(id)
	d.CloudToDeviceMessageCount = 0
	if _, err := s.CreateDevice(context.Background(), d); err != nil {
		tb.Fatalf("CreateDevice(%q) = %v", id, err)
	}
}

// mustEnqueue queues a message for device, enqueued at t.
func mustEnqueue(tb testing.TB, s *Store, device string, t time.Time) tether.C2DMessage {
	tb.Helper()
	m, err := s.EnqueueC2D(context.Background(), tether.C2DMessage{DeviceID: device, EnqueuedTime: t, Body: []byte("hi")})
	if err != nil {
		tb.Fatalf("EnqueueC2D(%q) = %v", device, err)
	}
	return m
}

// wantQueued checks the device's CloudToDeviceMessageCount and that its
// Version (its ETag) is still 1.
func wantQueued(tb testing.TB, s *Store, device string, want int) {
	tb.Helper()
	d, err := s.Device(context.Background(), device)
	if err != nil {
		tb.Fatalf("Device(%q) = %v", device, err)
	}
	if d.CloudToDeviceMessageCount != want || d.Version != 1 {
		tb.Errorf("Device(%q) has CloudToDeviceMessageCount %d, Version %d, want %d, 1",
			device, d.CloudToDeviceMessageCount, d.Version, want)
	}
}

// c2dSeqs returns the Seq of each message.
func c2dSeqs(ms []tether.C2DMessage) []int64 {
	out := []int64{}
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func mustPending(tb testing.TB, s *Store, device string, now time.Time) []tether.C2DMessage {
	tb.Helper()
	ms, err := s.PendingC2D(context.Background(), device, now)
	if err != nil {
		tb.Fatalf("PendingC2D(%q) = %v", device, err)
	}
	return ms
}

func TestC2DRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustCreateDevice(t, s, "dev1")
	in := tether.C2DMessage{
		DeviceID: "dev1", MessageID: "m-1", CorrelationID: "c-1", UserID: "u-1",
		ContentType: "application/json", ContentEncoding: "utf-8", Ack: "full",
		EnqueuedTime: time.Date(2026, 11, 25, 11, 0, 0, 5, time.FixedZone("CET", 3600)),
		ExpiryTime:   time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC),
		Properties:   map[string]string{"k": "v", "quote": `"`},
		Body:         []byte(`{"on":true}`),
	}
	got, err := s.EnqueueC2D(ctx, in)
	if err != nil {
		t.Fatalf("EnqueueC2D = %v", err)
	}
	want := in
	want.Seq = 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EnqueueC2D (-want +got):\n%s", diff)
	}
	want.EnqueuedTime = want.EnqueuedTime.UTC()
	if diff := cmp.Diff([]tether.C2DMessage{want}, mustPending(t, s, "dev1", t0)); diff != "" {
		t.Errorf("PendingC2D (-want +got):\n%s", diff)
	}
	wantQueued(t, s, "dev1", 1)
}

func TestEnqueueC2DDefaults(t *testing.T) {
	s := mustOpen(t)
	mustCreateDevice(t, s, "dev1")
	m := mustEnqueue(t, s, "dev1", t0)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(m.MessageID) {
		t.Errorf("EnqueueC2D filled MessageID = %q, want a random UUID", m.MessageID)
	}
	if want := t0.Add(tether.DefaultC2DTTL); !m.ExpiryTime.Equal(want) {
		t.Errorf("EnqueueC2D filled ExpiryTime = %v, want %v", m.ExpiryTime, want)
	}
	if m2 := mustEnqueue(t, s, "dev1", t0); m2.MessageID == m.MessageID || m2.Seq <= m.Seq {
		t.Errorf("second EnqueueC2D = MessageID %q, Seq %d after %q, %d; want a new ID and a higher Seq",
			m2.MessageID, m2.Seq, m.MessageID, m.Seq)
	}
	if _, err := s.EnqueueC2D(context.Background(), tether.C2DMessage{DeviceID: "dev1"}); err == nil {
		t.Errorf("EnqueueC2D without EnqueuedTime = nil error, want one")
	}
}

func TestEnqueueC2DUnknownDevice(t *testing.T) {
	s := mustOpen(t)
	_, err := s.EnqueueC2D(context.Background(), tether.C2DMessage{DeviceID: "ghost", EnqueuedTime: t0})
	if errorCode(err) != tether.DeviceNotFound {
		t.Errorf("EnqueueC2D(ghost) = %v, want code %d", err, tether.DeviceNotFound)
	}
}

func TestEnqueueC2DQueueLimit(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustCreateDevice(t, s, "dev1")
	mustCreateDevice(t, s, "dev2")
	// One message that expires early, then the rest of the limit.
	if _, err := s.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "dev1", EnqueuedTime: t0, ExpiryTime: t0.Add(time.Minute)}); err != nil {
		t.Fatalf("EnqueueC2D = %v", err)
	}
	for range tether.MaxC2DPending - 1 {
		mustEnqueue(t, s, "dev1", t0)
	}
	wantQueued(t, s, "dev1", tether.MaxC2DPending)

	_, err := s.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "dev1", EnqueuedTime: t0})
	want := fmt.Sprintf("device 'dev1' already has %d pending cloud-to-device messages (the limit is %d)",
		tether.MaxC2DPending, tether.MaxC2DPending)
	if errorCode(err) != tether.DeviceMaximumQueueDepthExceeded || tether.ErrorMessage(err) != want {
		t.Errorf("EnqueueC2D beyond the limit = %v (code %d), want code 403004 and %q", err, errorCode(err), want)
	}
	if errorCode(err) != 403004 {
		t.Errorf("DeviceMaximumQueueDepthExceeded = %d, want 403004", errorCode(err))
	}
	wantQueued(t, s, "dev1", tether.MaxC2DPending)
	mustEnqueue(t, s, "dev2", t0) // the limit is per device

	// Once the early message has expired it no longer counts.
	later := t0.Add(2 * time.Minute)
	mustEnqueue(t, s, "dev1", later)
	wantQueued(t, s, "dev1", tether.MaxC2DPending+1) // expired but not yet removed
	if n, err := s.ExpireC2D(ctx, later); n != 1 || err != nil {
		t.Errorf("ExpireC2D = %d, %v, want 1", n, err)
	}
	wantQueued(t, s, "dev1", tether.MaxC2DPending)
}

func TestC2DLifecycle(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustCreateDevice(t, s, "dev1")
	mustCreateDevice(t, s, "dev2")
	a := mustEnqueue(t, s, "dev1", t0)
	b := mustEnqueue(t, s, "dev1", t0.Add(time.Second))
	other := mustEnqueue(t, s, "dev2", t0)
	if got := c2dSeqs(mustPending(t, s, "dev1", t0)); !cmp.Equal(got, []int64{a.Seq, b.Seq}) {
		t.Errorf("PendingC2D(dev1) = %v, want [%d %d] (FIFO)", got, a.Seq, b.Seq)
	}

	for range 2 {
		if err := s.MarkC2DDelivered(ctx, "dev1", a.Seq); err != nil {
			t.Fatalf("MarkC2DDelivered = %v", err)
		}
	}
	if got := mustPending(t, s, "dev1", t0); got[0].DeliveryCount != 2 || got[1].DeliveryCount != 0 {
		t.Errorf("after two MarkC2DDelivered, DeliveryCounts = %d, %d, want 2, 0", got[0].DeliveryCount, got[1].DeliveryCount)
	}

	if err := s.CompleteC2D(ctx, "dev1", a.Seq); err != nil {
		t.Fatalf("CompleteC2D = %v", err)
	}
	if got := c2dSeqs(mustPending(t, s, "dev1", t0)); !cmp.Equal(got, []int64{b.Seq}) {
		t.Errorf("after CompleteC2D, PendingC2D(dev1) = %v, want [%d]", got, b.Seq)
	}
	wantQueued(t, s, "dev1", 1)

	for _, tc := range []struct {
		name   string
		device string
		seq    int64
	}{
		{"completed already", "dev1", a.Seq},
		{"another device's message", "dev1", other.Seq},
		{"unknown device", "ghost", b.Seq},
		{"never queued", "dev1", 999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CompleteC2D(ctx, tc.device, tc.seq); tether.ErrorKind(err) != tether.KindNotFound {
				t.Errorf("CompleteC2D(%q, %d) = %v, want a not-found error", tc.device, tc.seq, err)
			}
			if err := s.MarkC2DDelivered(ctx, tc.device, tc.seq); tether.ErrorKind(err) != tether.KindNotFound {
				t.Errorf("MarkC2DDelivered(%q, %d) = %v, want a not-found error", tc.device, tc.seq, err)
			}
		})
	}
	wantQueued(t, s, "dev1", 1)
	wantQueued(t, s, "dev2", 1)
}

func TestPurgeC2D(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustCreateDevice(t, s, "dev1")
	mustCreateDevice(t, s, "dev2")
	for range 3 {
		mustEnqueue(t, s, "dev1", t0)
	}
	mustEnqueue(t, s, "dev2", t0)
	if n, err := s.PurgeC2D(ctx, "dev1"); n != 3 || err != nil {
		t.Errorf("PurgeC2D(dev1) = %d, %v, want 3", n, err)
	}
	if got := mustPending(t, s, "dev1", t0); len(got) != 0 {
		t.Errorf("after PurgeC2D, PendingC2D(dev1) = %d messages, want none", len(got))
	}
	wantQueued(t, s, "dev1", 0)
	wantQueued(t, s, "dev2", 1)
	if n, err := s.PurgeC2D(ctx, "dev1"); n != 0 || err != nil {
		t.Errorf("PurgeC2D of an empty queue = %d, %v, want 0", n, err)
	}
	if _, err := s.PurgeC2D(ctx, "ghost"); errorCode(err) != tether.DeviceNotFound {
		t.Errorf("PurgeC2D(ghost) = %v, want code %d", err, tether.DeviceNotFound)
	}
}

func TestExpireC2D(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	for _, id := range []string{"dev1", "dev2"} {
		mustCreateDevice(t, s, id)
		mustEnqueue(t, s, id, t0)                  // expires at t0+1h
		mustEnqueue(t, s, id, t0.Add(time.Minute)) // expires at t0+1h01
	}
	expiry := t0.Add(tether.DefaultC2DTTL)
	if got := mustPending(t, s, "dev1", expiry); len(got) != 1 {
		t.Errorf("PendingC2D at the first message's expiry = %d messages, want 1", len(got))
	}
	if n, err := s.ExpireC2D(ctx, expiry.Add(-time.Nanosecond)); n != 0 || err != nil {
		t.Errorf("ExpireC2D before any expiry = %d, %v, want 0", n, err)
	}
	if n, err := s.ExpireC2D(ctx, expiry); n != 2 || err != nil {
		t.Errorf("ExpireC2D at the first expiry = %d, %v, want 2 (one per device)", n, err)
	}
	wantQueued(t, s, "dev1", 1)
	wantQueued(t, s, "dev2", 1)
}

func TestDeleteDeviceDeletesC2D(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustCreateDevice(t, s, "dev1")
	mustCreateDevice(t, s, "dev2")
	mustEnqueue(t, s, "dev1", t0)
	mustEnqueue(t, s, "dev1", t0)
	mustEnqueue(t, s, "dev2", t0)
	if err := s.DeleteDevice(ctx, "dev1", nil); err != nil {
		t.Fatalf("DeleteDevice = %v", err)
	}
	var left int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM c2d WHERE device_id = 'dev1'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("after DeleteDevice, %d messages of dev1 are left (%v), want 0", left, err)
	}
	mustCreateDevice(t, s, "dev1") // the same ID again starts empty
	if got := mustPending(t, s, "dev1", t0); len(got) != 0 {
		t.Errorf("PendingC2D of a re-created device = %d messages, want none", len(got))
	}
	wantQueued(t, s, "dev1", 0)
	wantQueued(t, s, "dev2", 1)
}

func TestMigrationResetsC2DCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	// A registry as the first schema left it, with a device whose count
	// nothing kept.
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ms[0].sql + "; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	d := testDevice("old") // CloudToDeviceMessageCount 3
	v1Columns := `id, generation_id, version, status, status_reason, status_updated,
		conn_state, conn_state_updated, last_activity, c2d_count, auth_type,
		primary_key, secondary_key, primary_thumb, secondary_thumb, iot_edge`
	if _, err := db.Exec(`INSERT INTO devices (`+v1Columns+`, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')`, deviceValues(d)[:16]...); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := mustOpenPath(t, path)
	wantQueued(t, s, "old", 0)
	mustEnqueue(t, s, "old", t0)
	wantQueued(t, s, "old", 1)
}
