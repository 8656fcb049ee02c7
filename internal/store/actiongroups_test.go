package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-iot/tether"
)

func mustCreateActionGroup(tb testing.TB, s *Store, name string, rs ...ActionReceiver) {
	tb.Helper()
	if err := s.CreateActionGroup(context.Background(), ActionGroup{Name: name, Receivers: rs, Secret: "k-" + tether.Secret(name),
		Created: eventT0, Updated: eventT0}); err != nil {
		tb.Fatalf("CreateActionGroup(%q) = %v", name, err)
	}
}

func notification(group, kind, target, cond string) Notification {
	return Notification{Group: group, Kind: kind, Target: target, AlertID: "a1", Rule: "r", Condition: cond,
		Alert: []byte(`{"ruleName":"r"}`), Created: eventT0}
}

func TestActionGroupCreateReadDelete(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	hook := ActionReceiver{Kind: "webhook", Target: "https://ops.example/h?code=x"}
	mail := ActionReceiver{Kind: "email", Target: "oncall@example.com"}
	mustCreateActionGroup(t, s, "ops", hook, mail)
	got, err := s.ActionGroup(ctx, "ops")
	want := ActionGroup{Name: "ops", Receivers: []ActionReceiver{hook, mail}, Secret: "k-ops", Created: eventT0, Updated: eventT0}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("ActionGroup(ops) = %v (-want +got):\n%s", err, cmp.Diff(want, got))
	}
	err = s.CreateActionGroup(ctx, ActionGroup{Name: "ops", Receivers: []ActionReceiver{hook}, Secret: "x"})
	if tether.ErrorKind(err) != tether.KindConflict {
		t.Errorf("second CreateActionGroup(ops) = %v, want conflict", err)
	}
	mustCreateActionGroup(t, s, "dev", hook)
	if gs, err := s.ActionGroups(ctx); err != nil || len(gs) != 2 || gs[0].Name != "dev" || gs[1].Name != "ops" {
		t.Errorf("ActionGroups() = %+v, %v; want dev, ops", gs, err)
	}
	if err := s.DeleteActionGroup(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActionGroup(ctx, "ops"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("ActionGroup after delete = %v, want not found", err)
	}
	if err := s.DeleteActionGroup(ctx, "ops"); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("second delete = %v, want not found", err)
	}
}

func TestNotificationOutboxQueuesPerReceiver(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	mustCreateActionGroup(t, s, "ops", ActionReceiver{Kind: "webhook", Target: "http://a"})
	err := s.EnqueueNotifications(ctx, []Notification{
		notification("ops", "webhook", "http://a", "Fired"),
		notification("ops", "webhook", "http://b", "Fired"),
		notification("ops", "webhook", "http://a", "Resolved"),
		notification("ops", "email", "x@example.com", "Fired"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueNotifications(ctx, []Notification{notification("ops", "webhook", "http://c", "Fired"),
		notification("gone", "webhook", "http://a", "Fired")}); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("EnqueueNotifications to an unknown group = %v, want not found", err)
	}
	due, err := s.DueNotifications(ctx, eventT0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range due {
		got = append(got, n.Target+":"+n.Condition)
	}
	if diff := cmp.Diff([]string{"http://a:Fired", "http://b:Fired", "x@example.com:Fired"}, got); diff != "" {
		t.Errorf("DueNotifications: one head per receiver, none of the failed batch (-want +got):\n%s", diff)
	}
	// a's Fired fails: neither it nor the Resolved behind it is due until next.
	next := eventT0.Add(4 * time.Second)
	if err := s.RecordNotificationAttempt(ctx, NotificationAttempt{Delivery: due[0].ID, Group: "ops", Kind: "webhook",
		Target: "http://a", AlertID: "a1", Rule: "r", Condition: "Fired", Time: eventT0, Attempt: 1, StatusCode: 503,
		Error: "HTTP 503", Latency: time.Millisecond, Outcome: "retry", NextAttempt: next}); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueNotifications(ctx, next.Add(-time.Nanosecond), 10)
	for _, n := range due {
		if n.Target == "http://a" {
			t.Errorf("%s for http://a is due while its Fired backs off", n.Condition)
		}
	}
	due, _ = s.DueNotifications(ctx, next, 10)
	if len(due) == 0 || due[0].Target != "http://a" || due[0].Condition != "Fired" || due[0].Attempts != 1 {
		t.Fatalf("at next the head of http://a = %+v, want its Fired after one attempt", due)
	}
	if err := s.RecordNotificationAttempt(ctx, NotificationAttempt{Delivery: due[0].ID, Group: "ops", Kind: "webhook",
		Target: "http://a", Condition: "Fired", Time: next, Attempt: 2, StatusCode: 200, Outcome: "delivered"}); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueNotifications(ctx, next, 10)
	if len(due) != 3 || due[1].Target != "http://a" || due[1].Condition != "Resolved" {
		t.Errorf("after the Fired, the heads = %+v, want http://b, then http://a's Resolved, then email", due)
	}
	as, err := s.NotificationAttempts(ctx, "ops", 0)
	if err != nil || len(as) != 2 || as[0].Outcome != "delivered" || as[1].Outcome != "retry" || !as[1].NextAttempt.Equal(next) {
		t.Errorf("NotificationAttempts = %+v, %v; want delivered then retry, newest first", as, err)
	}
	g, _ := s.ActionGroup(ctx, "ops")
	if g.Pending != 3 || g.Dead != 0 {
		t.Errorf("counts pending %d dead %d, want 3 0", g.Pending, g.Dead)
	}
	// Trim removes done rows and attempts older than the cut, not pending ones.
	n, err := s.TrimNotifications(ctx, next.Add(time.Hour))
	if err != nil || n != 3 {
		t.Errorf("TrimNotifications = %d, %v; want 3 rows (1 delivered, 2 attempts)", n, err)
	}
	if due, _ := s.DueNotifications(ctx, next, 10); len(due) != 3 {
		t.Errorf("after trim %d notifications are due, want the 3 pending heads", len(due))
	}
}
