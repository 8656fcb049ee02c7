package store

import (
	"context"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestAlertRules(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	created, err := s.PutAlertRule(ctx, AlertRule{Name: "low", Spec: []byte(`{"a":1}`), Created: t0, Updated: t0})
	if err != nil || !created {
		t.Fatalf("PutAlertRule(new) = %v, %v; want true, nil", created, err)
	}
	created, err = s.PutAlertRule(ctx, AlertRule{Name: "low", Spec: []byte(`{"a":2}`), Created: t0.Add(time.Hour), Updated: t0.Add(time.Hour)})
	if err != nil || created {
		t.Fatalf("PutAlertRule(replace) = %v, %v; want false, nil", created, err)
	}
	if err := s.SetAlertStatus(ctx, "low", []byte(`{"state":"Fired"}`)); err != nil {
		t.Fatal(err)
	}
	rs, err := s.AlertRules(ctx)
	if err != nil || len(rs) != 1 {
		t.Fatalf("AlertRules() = %v, %v", rs, err)
	}
	r := rs[0]
	if string(r.Spec) != `{"a":2}` || string(r.Status) != `{"state":"Fired"}` || !r.Created.Equal(t0) || !r.Updated.Equal(t0.Add(time.Hour)) {
		t.Errorf("stored rule = %+v", r)
	}
	if err := s.DeleteAlertRule(ctx, "low"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlertRule(ctx, "low"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("DeleteAlertRule(gone) = %v, want not found", err)
	}
}

func TestAlertEvents(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	es := []AlertEvent{
		{Time: t0, Rule: "low", State: "Pending", PreviousState: "Inactive", Severity: 2, SignalType: "Metric", MetricName: "connectedDeviceCount",
			Aggregation: "min", Operator: "lt", Threshold: 15, Value: 10, Window: 5 * time.Minute},
		{Time: t0.Add(10 * time.Second), Rule: "low", State: "Fired", PreviousState: "Pending", Severity: 2, SignalType: "Metric", Value: 10, Window: 90 * time.Second},
		{Time: t0.Add(20 * time.Second), Rule: "auth", State: "Fired", PreviousState: "Inactive", SignalType: "Log", Query: "AzureDiagnostics", ResultCount: 7, Value: 7, Window: time.Minute},
	}
	if err := s.AppendAlertEvents(ctx, es); err != nil {
		t.Fatal(err)
	}
	got, err := s.AlertEvents(ctx, "low", 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("AlertEvents(low) = %v, %v; want 2 rows", got, err)
	}
	if got[0].State != "Fired" || got[1] != es[0] || got[0].Window != 90*time.Second {
		t.Errorf("AlertEvents(low) = %+v, want newest first, as written", got)
	}
	all, err := s.AlertEvents(ctx, "", 2)
	if err != nil || len(all) != 2 || all[0].Rule != "auth" || all[0].ResultCount != 7 {
		t.Errorf("AlertEvents(all, 2) = %+v, %v", all, err)
	}
	var rid, typ string
	if err := s.LogsDB().QueryRow(`SELECT ResourceId, Type FROM Alerts LIMIT 1`).Scan(&rid, &typ); err != nil || rid != DefaultResourceID || typ != "Alerts" {
		t.Errorf("Alerts row ResourceId, Type = %q, %q, %v", rid, typ, err)
	}
	if n, err := s.TrimLogs(ctx, t0.Add(15*time.Second)); err != nil || n != 2 {
		t.Errorf("TrimLogs = %d, %v; want the 2 older alert rows", n, err)
	}
}
