package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestWebhookDelivered(t *testing.T) {
	f := mustNewFixture(t)
	r := mustStartReceiver(t)
	g := f.mustCreate(t, "ops", webhook(r.URL+"/hook?code=s3cret"))
	f.mustNotify(t, []string{"ops"}, metricAlert())
	f.mustDispatch(t, t0.Add(time.Second))

	reqs := r.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.path != "/hook?code=s3cret" {
		t.Errorf("path = %q, want the URL as configured", got.path)
	}
	if !Verify(g.Secret, got.body, got.header.Get(SignatureHeader)) {
		t.Errorf("%s = %q does not verify with the group's secret", SignatureHeader, got.header.Get(SignatureHeader))
	}
	var p CommonAlert
	if err := json.Unmarshal(got.body, &p); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if p.SchemaID != SchemaID || p.Data.Essentials.AlertRule != "devices-dropped" || p.Data.Essentials.MonitorCondition != "Fired" {
		t.Errorf("payload = %+v, want a Fired common alert schema for devices-dropped", p.Data.Essentials)
	}
	if got.header.Get(AlertIDHeader) != metricAlert().ID() {
		t.Errorf("%s = %q, want %q", AlertIDHeader, got.header.Get(AlertIDHeader), metricAlert().ID())
	}
	h := f.mustHistory(t, "ops")
	if len(h) != 1 || h[0].Outcome != OutcomeDelivered || h[0].StatusCode != 200 || h[0].Attempt != 1 {
		t.Fatalf("history = %+v, want one delivered first attempt", h)
	}
	if strings.Contains(h[0].Target, "s3cret") || !strings.Contains(h[0].Target, "code=REDACTED") {
		t.Errorf("history target = %q, want the query value redacted", h[0].Target)
	}
	f.mustDispatch(t, t0.Add(time.Minute))
	if n := len(r.requests()); n != 1 {
		t.Errorf("after delivery the receiver got %d requests, want still 1", n)
	}
}

func TestRetryWithBackoffThenDelivered(t *testing.T) {
	f := mustNewFixture(t, func(o *Options) { o.MinBackoff = 10 * time.Second })
	r := mustStartReceiver(t, 503, 500)
	f.mustCreate(t, "ops", webhook(r.URL))
	f.mustNotify(t, []string{"ops"}, metricAlert())

	f.mustDispatch(t, t0) // 503
	h := f.mustHistory(t, "ops")
	if len(h) != 1 || h[0].Outcome != OutcomeRetry || h[0].StatusCode != 503 || h[0].NextAttemptTime == nil {
		t.Fatalf("history = %+v, want a retry after 503", h)
	}
	next := h[0].NextAttemptTime.Std()
	if wait := next.Sub(t0); wait < 8*time.Second || wait > 10*time.Second+time.Second {
		t.Errorf("first back-off = %v, want 8s to 10s (10s less up to a fifth)", wait)
	}
	f.mustDispatch(t, next.Add(-time.Millisecond)) // not yet due
	if n := len(r.requests()); n != 1 {
		t.Fatalf("before the back-off ended the receiver got %d requests, want 1", n)
	}
	f.mustDispatch(t, next) // 500
	h = f.mustHistory(t, "ops")
	if len(h) != 2 || h[0].Outcome != OutcomeRetry || h[0].Attempt != 2 {
		t.Fatalf("history = %+v, want a second retry", h)
	}
	if wait := h[0].NextAttemptTime.Std().Sub(next); wait < 16*time.Second || wait > 21*time.Second {
		t.Errorf("second back-off = %v, want 16s to 20s (doubled)", wait)
	}
	f.mustDispatch(t, h[0].NextAttemptTime.Std())
	h = f.mustHistory(t, "ops")
	if len(h) != 3 || h[0].Outcome != OutcomeDelivered || h[0].Attempt != 3 {
		t.Fatalf("history = %+v, want delivered at the third attempt", h)
	}
	g, _ := f.d.Group(context.Background(), "ops")
	if g.PendingCount != 0 || g.DeadCount != 0 {
		t.Errorf("group counts pending %d dead %d, want 0 0", g.PendingCount, g.DeadCount)
	}
	want := []Count{{"webhook", "delivered", 1}, {"webhook", "retry", 2}}
	if got := f.d.Counts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Counts() = %v, want %v", got, want)
	}
}

func TestFinalAnswersAndAgeGiveUp(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  int
		when    time.Duration // after the alert was queued
		outcome string
	}{
		{"400 is final", 400, 0, OutcomeDead},
		{"404 is final", 404, 0, OutcomeDead},
		{"redirect is final", 302, 0, OutcomeDead},
		{"429 is retried", 429, 0, OutcomeRetry},
		{"408 is retried", 408, 0, OutcomeRetry},
		{"500 past MaxAge is dead", 500, 25 * time.Hour, OutcomeDead},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := mustNewFixture(t)
			r := mustStartReceiver(t, c.status)
			f.mustCreate(t, "ops", webhook(r.URL))
			f.mustNotify(t, []string{"ops"}, metricAlert())
			f.mustDispatch(t, t0.Add(c.when))
			h := f.mustHistory(t, "ops")
			if len(h) != 1 || h[0].Outcome != c.outcome || h[0].StatusCode != c.status {
				t.Fatalf("history = %+v, want one %s with status %d", h, c.outcome, c.status)
			}
			if c.outcome == OutcomeDead {
				g, _ := f.d.Group(context.Background(), "ops")
				if g.DeadCount != 1 || g.PendingCount != 0 {
					t.Errorf("group counts pending %d dead %d, want 0 1", g.PendingCount, g.DeadCount)
				}
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := mustNewFixture(t)
	var calls int
	srv := mustStartHandler(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(429)
	})
	f.mustCreate(t, "ops", webhook(srv.URL))
	f.mustNotify(t, []string{"ops"}, metricAlert())
	f.mustDispatch(t, t0)
	h := f.mustHistory(t, "ops")
	if len(h) != 1 || h[0].NextAttemptTime == nil || h[0].NextAttemptTime.Std().Sub(t0) < 120*time.Second {
		t.Fatalf("history = %+v, want the next attempt at least 120 s later", h)
	}
}

func TestResolvedWaitsForItsFired(t *testing.T) {
	f := mustNewFixture(t, func(o *Options) { o.MinBackoff = 10 * time.Second })
	r := mustStartReceiver(t, 503)
	f.mustCreate(t, "ops", webhook(r.URL))
	f.mustNotify(t, []string{"ops"}, metricAlert())
	resolved := metricAlert()
	resolved.State, resolved.ResolvedAt = StateResolved, t0.Add(time.Second)
	f.mustNotify(t, []string{"ops"}, resolved)

	f.mustDispatch(t, t0.Add(time.Second)) // Fired: 503
	f.mustDispatch(t, t0.Add(2*time.Second))
	if n := len(r.requests()); n != 1 {
		t.Fatalf("receiver got %d requests while the Fired backs off, want 1 (the Resolved waits)", n)
	}
	f.mustDispatch(t, t0.Add(time.Minute)) // Fired delivered
	f.mustDispatch(t, t0.Add(time.Minute)) // then Resolved
	var conds []string
	for _, q := range r.requests() {
		var p CommonAlert
		json.Unmarshal(q.body, &p)
		conds = append(conds, p.Data.Essentials.MonitorCondition)
	}
	if strings.Join(conds, ",") != "Fired,Fired,Resolved" {
		t.Errorf("receiver got %v, want Fired (503), Fired, Resolved", conds)
	}
}

func TestSlowReceiverDoesNotHoldOthers(t *testing.T) {
	f := mustNewFixture(t, func(o *Options) { o.Timeout = 30 * time.Second })
	release := make(chan struct{})
	slowHit := make(chan struct{}, 10)
	slow := mustStartHandler(t, func(w http.ResponseWriter, r *http.Request) {
		slowHit <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	fast := mustStartReceiver(t)
	f.mustCreate(t, "slow", webhook(slow.URL))
	f.mustCreate(t, "fast", webhook(fast.URL))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.clock.Set(t0)
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()

	f.mustNotify(t, []string{"slow"}, metricAlert())
	waitFor(t, slowHit, "the slow receiver's request")
	f.mustNotify(t, []string{"fast"}, metricAlert())
	waitFor(t, fast.hits, "the fast receiver's request while the slow one hangs")
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestNotifyErrors(t *testing.T) {
	f := mustNewFixture(t)
	r := mustStartReceiver(t)
	f.mustCreate(t, "ops", webhook(r.URL))
	bad := metricAlert()
	bad.Severity = 9
	if err := f.d.Notify(context.Background(), []string{"ops"}, bad); tether.ErrorKind(err) != tether.KindInvalid {
		t.Errorf("Notify(severity 9) = %v, want invalid", err)
	}
	f.mustDispatch(t, t0)
	if n := len(r.requests()); n != 0 {
		t.Errorf("after an invalid alert the receiver got %d requests, want 0", n)
	}
	err := f.d.Notify(context.Background(), []string{"nobody", "ops", "gone"}, metricAlert())
	if tether.ErrorKind(err) != tether.KindNotFound || !strings.Contains(err.Error(), "nobody, gone") {
		t.Errorf("Notify with unknown groups = %v, want not found naming them", err)
	}
	f.mustDispatch(t, t0)
	if n := len(r.requests()); n != 1 {
		t.Errorf("the existing group's receiver got %d requests, want 1: unknown groups do not stop the others", n)
	}
	if err := f.d.Notify(context.Background(), nil, metricAlert()); err != nil {
		t.Errorf("Notify(no groups) = %v, want nil", err)
	}
}

// TestOutboxSurvivesRestart queues a notification, closes the store as a
// crash would leave it, and delivers it from a new dispatcher.
func TestOutboxSurvivesRestart(t *testing.T) {
	f := mustNewFixture(t)
	r := mustStartReceiver(t)
	f.mustCreate(t, "ops", webhook(r.URL))
	f.mustNotify(t, []string{"ops"}, metricAlert())
	f.st.Close()

	st := mustOpenStore(t, f.path)
	d := mustDispatcherOver(t, st, f.clock)
	if err := d.dispatch(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	d.wg.Wait()
	if n := len(r.requests()); n != 1 {
		t.Fatalf("after a restart the receiver got %d requests, want 1", n)
	}
}

func TestDeleteGroupDropsItsQueueKeepsHistory(t *testing.T) {
	f := mustNewFixture(t)
	r := mustStartReceiver(t, 503)
	f.mustCreate(t, "ops", webhook(r.URL))
	f.mustNotify(t, []string{"ops"}, metricAlert())
	f.mustDispatch(t, t0)
	if err := f.d.DeleteGroup(context.Background(), "ops"); err != nil {
		t.Fatal(err)
	}
	f.mustDispatch(t, t0.Add(time.Hour))
	if n := len(r.requests()); n != 1 {
		t.Errorf("after delete the receiver got %d requests, want 1", n)
	}
	if h := f.mustHistory(t, "ops"); len(h) != 1 {
		t.Errorf("history after delete = %d attempts, want 1", len(h))
	}
	if _, err := f.d.History(context.Background(), "never", 0); tether.ErrorKind(err) != tether.KindNotFound {
		t.Errorf("History(never) = %v, want not found", err)
	}
}

func mustStartHandler(tb testing.TB, h http.HandlerFunc) *receiver {
	tb.Helper()
	r := mustStartReceiver(tb)
	r.Config.Handler = h
	return r
}

func waitFor(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		tb.Fatalf("timed out waiting for %s", what)
	}
}
