package sim

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-iot/tether/device"
)

// timer runs fn repeatedly on a time.AfterFunc — no goroutine while it
// waits — until stopped or ctx ends. fn returns the next delay.
type timer struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func every(ctx context.Context, first time.Duration, fn func() time.Duration) *timer {
	tm := &timer{}
	var run func()
	run = func() {
		if ctx.Err() != nil {
			return
		}
		next := fn()
		tm.mu.Lock()
		defer tm.mu.Unlock()
		if !tm.stopped && ctx.Err() == nil {
			tm.t = time.AfterFunc(next, run)
		}
	}
	tm.mu.Lock()
	tm.t = time.AfterFunc(first, run)
	tm.mu.Unlock()
	return tm
}

func (t *timer) stop() {
	t.mu.Lock()
	t.stopped = true
	if t.t != nil {
		t.t.Stop()
	}
	t.mu.Unlock()
}

// telemetry sends a small JSON message every TelemetryInterval, starting
// at a random phase so the fleet does not send in bursts.
func (s *Sim) telemetry(ctx context.Context, c *device.Client, id string) *timer {
	iv := s.o.TelemetryInterval
	var seq atomic.Int64
	return every(ctx, time.Duration(rand.Int64N(int64(iv))), func() time.Duration {
		if !c.Connected() {
			return iv
		}
		n := seq.Add(1)
		sctx, cancel := context.WithTimeout(ctx, iv)
		defer cancel()
		body := []byte(`{"device":"` + id + `","seq":` + strconv.FormatInt(n, 10) + `,"temperature":` + strconv.FormatInt(18+rand.Int64N(10), 10) + `}`)
		if err := c.SendEvent(sctx, device.Message{Payload: body, ContentType: "application/json", ContentEncoding: "utf-8"}); err != nil {
			if ctx.Err() == nil {
				s.c.sendFailed.Add(1)
			}
		} else {
			s.c.sent.Add(1)
		}
		return iv
	})
}

// faultTimer schedules drops, silences, flaps and key rotations; nil for
// other faults.
//
// Drops, silences and flaps hit established connections only (connected
// reports it): cutting a connection in the middle of its CONNECT would
// turn a drop into a failed attempt and blur the pattern the fault is
// meant to show.
func (s *Sim) faultTimer(ctx context.Context, p planned, cur *atomic.Pointer[faultConn], connected func() bool) *timer {
	iv, f := s.o.FaultInterval, p.fault
	switch f {
	case FaultRotatedKey:
		done := false
		return every(ctx, jittered(iv), func() time.Duration {
			if done {
				return time.Hour
			}
			if err := s.rotateKey(ctx, p.id); err != nil {
				s.o.Logger.Warn("sim: rotate key", "device", p.id, "err", err)
				return iv
			}
			done = true
			s.c.inject(f)
			if fc := cur.Load(); fc != nil {
				fc.abort()
			}
			return time.Hour
		})
	case FaultDrop, FaultNoJitter:
		return every(ctx, jittered(iv), func() time.Duration {
			if !connected() {
				return iv / 10
			}
			if fc := cur.Load(); fc != nil && fc.abort() {
				s.c.inject(f)
			}
			return jittered(iv)
		})
	case FaultSilence:
		return every(ctx, jittered(iv), func() time.Duration {
			if !connected() {
				return iv / 10
			}
			if fc := cur.Load(); fc != nil && fc.silence() {
				s.c.inject(f)
			}
			// The next silence comes after the hub noticed this one.
			return jittered(iv) + 2*s.o.KeepAlive
		})
	case FaultFlap:
		hold := func() time.Duration { return time.Second + time.Duration(rand.Int64N(int64(4*time.Second))) }
		return every(ctx, hold(), func() time.Duration {
			if !connected() {
				return 100 * time.Millisecond
			}
			if fc := cur.Load(); fc != nil && fc.abort() {
				s.c.inject(f)
			}
			return hold()
		})
	}
	return nil
}

func encodeKey(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
