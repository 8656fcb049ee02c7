package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

// testDevice returns a SAS device with every field set, except the times
// a new device leaves at zero.
func testDevice(id string) tether.Device {
	return tether.Device{
		ID:                        id,
		GenerationID:              "638000000000000001",
		Version:                   1,
		Status:                    tether.StatusEnabled,
		StatusUpdatedTime:         time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.FixedZone("CET", 3600)),
		ConnectionState:           tether.Disconnected,
		CloudToDeviceMessageCount: 3,
		Auth: tether.Authentication{
			Type:         tether.AuthSAS,
			PrimaryKey:   "cHJpbWFyeS1rZXktMDEyMzQ1Njc4OWFiY2RlZg==",
			SecondaryKey: "c2Vjb25kYXJ5LWtleS0wMTIzNDU2Nzg5YWJjZGVm",
		},
	}
}

func TestDeviceRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	sas := testDevice("sas-device")
	x509 := tether.Device{
		ID:                         "edge:01",
		GenerationID:               "g2",
		Version:                    7,
		Status:                     tether.StatusDisabled,
		StatusReason:               "stolen",
		StatusUpdatedTime:          time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC),
		ConnectionState:            tether.Connected,
		ConnectionStateUpdatedTime: time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC),
		LastActivityTime:           time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC),
		Auth: tether.Authentication{
			Type:                tether.AuthSelfSigned,
			PrimaryThumbprint:   "0123456789abcdef0123456789abcdef01234567",
			SecondaryThumbprint: "89abcdef0123456789abcdef0123456789abcdef",
		},
		IoTEdge: true,
	}
	for _, d := range []tether.Device{sas, x509} {
		got, err := s.CreateDevice(ctx, d)
		if err != nil || !cmp.Equal(got, d) {
			t.Fatalf("CreateDevice(%q) = %v, %v, want %v", d.ID, got, err, d)
		}
		got, err = s.Device(ctx, d.ID)
		if err != nil || !cmp.Equal(got, d) {
			t.Errorf("Device(%q) = %v, %v, want %v; diff (-got +want):\n%s", d.ID, got, err, d, cmp.Diff(got, d))
		}
		if d.ConnectionStateUpdatedTime.IsZero() && got.ConnectionStateUpdatedTime != (time.Time{}) {
			t.Errorf("Device(%q).ConnectionStateUpdatedTime = %#v, want exactly time.Time{}", d.ID, got.ConnectionStateUpdatedTime)
		}
	}

	list, err := s.Devices(ctx, 0)
	if want := []tether.Device{x509, sas}; err != nil || !cmp.Equal(list, want) {
		t.Errorf("Devices(0) = %v, %v, want %v", list, err, want)
	}
	list, err = s.Devices(ctx, 1)
	if want := []tether.Device{x509}; err != nil || !cmp.Equal(list, want) {
		t.Errorf("Devices(1) = %v, %v, want %v", list, err, want)
	}
	total, enabled, disabled, err := s.DeviceCounts(ctx)
	if total != 2 || enabled != 1 || disabled != 1 || err != nil {
		t.Errorf("DeviceCounts() = %d, %d, %d, %v, want 2, 1, 1, nil", total, enabled, disabled, err)
	}

	seen := time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
	got, err := s.UpdateDevice(ctx, sas.ID, func(d *tether.Device) error {
		d.ConnectionState, d.ConnectionStateUpdatedTime, d.LastActivityTime = tether.Connected, seen, seen
		d.Auth.PrimaryKey = "bmV3LXByaW1hcnkta2V5LTAxMjM0NTY3ODlhYg=="
		d.Version = 100 // ignored: the store counts versions
		return nil
	})
	want := sas
	want.Version = 2
	want.ConnectionState, want.ConnectionStateUpdatedTime, want.LastActivityTime = tether.Connected, seen, seen
	want.Auth.PrimaryKey = "bmV3LXByaW1hcnkta2V5LTAxMjM0NTY3ODlhYg=="
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("UpdateDevice(%q) = %v, %v, want %v", sas.ID, got, err, want)
	}
	if got, err := s.Device(ctx, sas.ID); err != nil || !cmp.Equal(got, want) {
		t.Errorf("after UpdateDevice, Device(%q) = %v, %v, want %v", sas.ID, got, err, want)
	}

	if err := s.DeleteDevice(ctx, sas.ID, nil); err != nil {
		t.Fatalf("DeleteDevice(%q) = %v", sas.ID, err)
	}
	if _, err := s.Device(ctx, sas.ID); errorCode(err) != tether.DeviceNotFound {
		t.Errorf("after DeleteDevice, Device(%q) = %v, want DeviceNotFound", sas.ID, err)
	}
	total, enabled, disabled, err = s.DeviceCounts(ctx)
	if total != 1 || enabled != 0 || disabled != 1 || err != nil {
		t.Errorf("DeviceCounts() = %d, %d, %d, %v, want 1, 0, 1, nil", total, enabled, disabled, err)
	}
}

func TestDeviceEmptyRegistry(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if list, err := s.Devices(ctx, 0); len(list) != 0 || err != nil {
		t.Errorf("Devices(0) = %v, %v, want none", list, err)
	}
	if total, enabled, disabled, err := s.DeviceCounts(ctx); total+enabled+disabled != 0 || err != nil {
		t.Errorf("DeviceCounts() = %d, %d, %d, %v, want 0, 0, 0, nil", total, enabled, disabled, err)
	}
}

func TestDeviceErrors(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	d := testDevice("dev1")
	if _, err := s.CreateDevice(ctx, d); err != nil {
		t.Fatalf("CreateDevice(%q) = %v", d.ID, err)
	}
	veto := &tether.Error{Kind: tether.KindPrecondition, Message: "stale ETag"}
	vetoAfterChange := func(d *tether.Device) error {
		d.Status, d.CloudToDeviceMessageCount = tether.StatusDisabled, 99
		return veto
	}

	for _, tc := range []struct {
		name    string
		call    func() error
		wantErr error             // compared with errors.Is, if set
		want    tether.ResultCode // otherwise
		msg     string            // the error's message, if set
	}{
		{"duplicate create", func() error { _, err := s.CreateDevice(ctx, testDevice("dev1")); return err },
			nil, tether.DeviceAlreadyExists, "A device with ID 'dev1' is already registered."},
		{"get missing", func() error { _, err := s.Device(ctx, "nope"); return err },
			nil, tether.DeviceNotFound, "Device 'nope' is not registered."},
		{"update missing", func() error { _, err := s.UpdateDevice(ctx, "nope", nil); return err },
			nil, tether.DeviceNotFound, "Device 'nope' is not registered."},
		{"delete missing", func() error { return s.DeleteDevice(ctx, "nope", nil) },
			nil, tether.DeviceNotFound, "Device 'nope' is not registered."},
		{"twin of missing", func() error { _, err := s.Twin(ctx, "nope"); return err },
			nil, tether.DeviceNotFound, "Device 'nope' is not registered."},
		{"update twin of missing", func() error { _, err := s.UpdateTwin(ctx, "nope", nil); return err },
			nil, tether.DeviceNotFound, "Device 'nope' is not registered."},
		{"update vetoed", func() error { _, err := s.UpdateDevice(ctx, "dev1", vetoAfterChange); return err },
			veto, 0, ""},
		{"delete vetoed", func() error { return s.DeleteDevice(ctx, "dev1", func(tether.Device) error { return veto }) },
			veto, 0, ""},
		{"update changes ID", func() error {
			_, err := s.UpdateDevice(ctx, "dev1", func(d *tether.Device) error { d.ID = "dev2"; return nil })
			return err
		}, nil, tether.ServerError, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			switch {
			case tc.wantErr != nil:
				if err != tc.wantErr {
					t.Errorf("error = %v, want %v unchanged", err, tc.wantErr)
				}
			case errorCode(err) != tc.want:
				t.Errorf("error = %v (code %v), want code %v", err, errorCode(err), tc.want)
			}
			if tc.msg != "" && (err == nil || err.Error() != tc.msg) {
				t.Errorf("error = %v, want message %q", err, tc.msg)
			}
		})
	}

	// Nothing above changed dev1 or created dev2.
	if got, err := s.Device(ctx, "dev1"); err != nil || !cmp.Equal(got, d) {
		t.Errorf("Device(%q) = %v, %v, want %v", "dev1", got, err, d)
	}
	if _, err := s.Device(ctx, "dev2"); errorCode(err) != tether.DeviceNotFound {
		t.Errorf("Device(%q) = %v, want DeviceNotFound", "dev2", err)
	}
}
