package portal

import (
	"path/filepath"
	"testing"
	"time"
)

func TestSessionsExpire(t *testing.T) {
	ss := newSessions(time.Hour)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := ss.add(session{policy: "service"}, t0)
	if s.id == "" || s.csrf == "" || s.id == s.csrf {
		t.Fatalf("session id %q, csrf %q: want two different random tokens", s.id, s.csrf)
	}
	if got := ss.get(s.id, t0.Add(59*time.Minute)); got == nil {
		t.Errorf("get after 59m = nil, want the session")
	}
	if got := ss.get(s.id, t0.Add(time.Hour)); got != nil {
		t.Errorf("get after 1h = %+v, want nil (expired)", got)
	}
	if got := ss.get("no-such-id", t0); got != nil {
		t.Errorf("get of an unknown id = %+v, want nil", got)
	}
}

func TestSessionsBounded(t *testing.T) {
	ss := newSessions(time.Hour)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	first := ss.add(session{}, t0)
	for i := 1; i <= maxSessions; i++ {
		ss.add(session{}, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(ss.m); n != maxSessions {
		t.Errorf("%d sessions after %d logins, want at most %d", n, maxSessions+1, maxSessions)
	}
	if ss.get(first.id, t0) != nil {
		t.Errorf("the session closest to expiry survived a full table")
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := 0; i < maxFailures-1; i++ {
		l.failed("10.0.0.1", t0.Add(time.Duration(i)*time.Second))
	}
	if w := l.blocked("10.0.0.1", t0.Add(10*time.Second)); w != 0 {
		t.Fatalf("blocked after %d failures = %v, want 0", maxFailures-1, w)
	}
	l.failed("10.0.0.1", t0.Add(10*time.Second))
	if w := l.blocked("10.0.0.1", t0.Add(10*time.Second)); w != lockout {
		t.Errorf("blocked after %d failures = %v, want %v", maxFailures, w, lockout)
	}
	if w := l.blocked("10.0.0.2", t0.Add(10*time.Second)); w != 0 {
		t.Errorf("another address blocked %v, want 0", w)
	}
	if w := l.blocked("10.0.0.1", t0.Add(10*time.Second+lockout)); w != 0 {
		t.Errorf("blocked after the lockout = %v, want 0", w)
	}
	// Failures spread over more than the window never lock out.
	l2 := newLimiter()
	for i := 0; i < 3*maxFailures; i++ {
		l2.failed("a", t0.Add(time.Duration(i)*(failureWindow/time.Duration(maxFailures-2))))
	}
	if w := l2.blocked("a", t0.Add(3*failureWindow)); w != 0 {
		t.Errorf("slow failures blocked %v, want 0", w)
	}
}

func TestPasswords(t *testing.T) {
	p := NewPasswords(filepath.Join(t.TempDir(), "portal", "admin-password"), 1000)
	if ok, err := p.Check("anything-at-all"); ok || err != nil {
		t.Fatalf("Check without a password file = %v, %v; want false, nil", ok, err)
	}
	pw, err := p.Ensure()
	if err != nil || len(pw) < 20 {
		t.Fatalf("Ensure = %q, %v; want a new random password", pw, err)
	}
	if again, err := p.Ensure(); again != "" || err != nil {
		t.Errorf("second Ensure = %q, %v; want \"\" (kept)", again, err)
	}
	if ok, err := p.Check(pw); !ok || err != nil {
		t.Errorf("Check(right) = %v, %v; want true", ok, err)
	}
	if ok, err := p.Check(pw + "x"); ok || err != nil {
		t.Errorf("Check(wrong) = %v, %v; want false", ok, err)
	}
	if err := p.Set("short"); err == nil {
		t.Errorf("Set(short) = nil, want an error")
	}
}

func TestOverviewCache(t *testing.T) {
	var c overviewCache
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if _, ok := c.get("1h", t0); ok {
		t.Fatal("empty cache answered")
	}
	c.put("1h", t0, overviewAnswer{Range: "1h"})
	if a, ok := c.get("1h", t0.Add(4*time.Second)); !ok || a.Range != "1h" {
		t.Errorf("get after 4s = %v, %v; want the cached 1h answer", a, ok)
	}
	if _, ok := c.get("1h", t0.Add(5*time.Second)); ok {
		t.Errorf("get after 5s answered; the 1h overview is cached for 5s")
	}
	if _, ok := c.get("24h", t0); ok {
		t.Errorf("another range answered from the 1h entry")
	}
	if _, ok := c.get("1h", t0.Add(-time.Second)); ok {
		t.Errorf("a clock that went back answered from the cache")
	}
}
