package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

func TestPolicies(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if ps, err := s.Policies(ctx); len(ps) != 0 || err != nil {
		t.Errorf("Policies() of a new store = %v, %v, want none", ps, err)
	}
	owner := tether.Policy{Name: "iothubowner", PrimaryKey: "cHJpbWFyeQ==", SecondaryKey: "c2Vjb25kYXJ5", Rights: tether.AllRights}
	device := tether.Policy{Name: "device", PrimaryKey: "ZGV2aWNl", SecondaryKey: "ZGV2aWNlMg==", Rights: tether.DeviceConnect}
	for _, p := range []tether.Policy{owner, device} {
		if err := s.PutPolicy(ctx, p); err != nil {
			t.Fatalf("PutPolicy(%q) = %v", p.Name, err)
		}
	}
	if got, err := s.Policy(ctx, "iothubowner"); err != nil || !cmp.Equal(got, owner) {
		t.Errorf("Policy(%q) = %v, %v, want %v", "iothubowner", got, err, owner)
	}
	if ps, err := s.Policies(ctx); err != nil || !cmp.Equal(ps, []tether.Policy{device, owner}) {
		t.Errorf("Policies() = %v, %v, want %v", ps, err, []tether.Policy{device, owner})
	}

	device.Rights |= tether.RegistryRead
	device.PrimaryKey = "cm90YXRlZA=="
	if err := s.PutPolicy(ctx, device); err != nil {
		t.Fatalf("PutPolicy(%q) again = %v", device.Name, err)
	}
	if got, err := s.Policy(ctx, "device"); err != nil || !cmp.Equal(got, device) {
		t.Errorf("after replacing, Policy(%q) = %v, %v, want %v", "device", got, err, device)
	}

	if err := s.DeletePolicy(ctx, "device"); err != nil {
		t.Fatalf("DeletePolicy(%q) = %v", "device", err)
	}
	for _, call := range []struct {
		name string
		err  error
	}{
		{"Policy", func() error { _, err := s.Policy(ctx, "device"); return err }()},
		{"DeletePolicy", s.DeletePolicy(ctx, "device")},
	} {
		if tether.ErrorKind(call.err) != tether.KindNotFound || tether.ErrorMessage(call.err) != `no shared access policy named "device"` {
			t.Errorf("%s(%q) after delete = %v, want not found", call.name, "device", call.err)
		}
	}
	if err := s.PutPolicy(ctx, tether.Policy{}); tether.ErrorKind(err) != tether.KindInvalid {
		t.Errorf("PutPolicy with no name = %v, want invalid", err)
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if v, ok, err := s.Setting(ctx, "admin.secret"); v != "" || ok || err != nil {
		t.Errorf(`Setting("admin.secret") = %q, %v, %v, want "", false, nil`, v, ok, err)
	}
	for _, v := range []string{"first", "", "second"} {
		if err := s.PutSetting(ctx, "admin.secret", v); err != nil {
			t.Fatalf("PutSetting(%q) = %v", v, err)
		}
		if got, ok, err := s.Setting(ctx, "admin.secret"); got != v || !ok || err != nil {
			t.Errorf(`Setting("admin.secret") = %q, %v, %v, want %q, true, nil`, got, ok, err, v)
		}
	}
}
