package store

import (
	"context"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	if _, ok, err := s.Session(ctx, "d1"); ok || err != nil {
		t.Fatalf("unknown session: ok %v err %v", ok, err)
	}
	now := time.Now()
	if err := s.SaveSessions(ctx, []Session{{ClientID: "d1", Subs: 3, Updated: now}, {ClientID: "d2/m", Subs: 1, Updated: now}}); err != nil {
		t.Fatal(err)
	}
	s.SaveSessions(ctx, []Session{{ClientID: "d1", Subs: 7, Updated: now}, {ClientID: "d2/m", Subs: -1}})
	if subs, ok, _ := s.Session(ctx, "d1"); !ok || subs != 7 {
		t.Errorf("d1 = %d %v, want 7", subs, ok)
	}
	if _, ok, _ := s.Session(ctx, "d2/m"); ok {
		t.Error("a deleted session is still there")
	}
}
