package device

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy decides how long to wait before the next connection
// attempt. The defaults are those of the Azure IoT SDKs' exponential
// back-off with jitter: the first retry after up to 100 ms, doubling up to
// 10 s, and 10 s to 60 s after the hub said it is throttling or busy.
//
// The zero value is the default policy. RetryPolicy is a plain value: the
// device client and the fleet simulator use the same [RetryPolicy.Delay].
type RetryPolicy struct {
	Min time.Duration // the ceiling of the first delay; 0: 100 ms
	Max time.Duration // the largest delay; 0: 10 s
	// ThrottledMin and ThrottledMax bound the delay after a throttling or
	// busy answer (429xxx, 503xxx); 0: 10 s and 60 s.
	ThrottledMin, ThrottledMax time.Duration
	// NoJitter waits exactly the exponential ceiling instead of a random
	// time below it. Only for demonstrating why jitter matters: a fleet
	// without jitter reconnects in lock-step after an outage.
	NoJitter bool
	// StableAfter is how long a connection must last for the back-off to
	// start again from Min; a connection that drops sooner counts as one
	// more failed attempt. A device thrown out right after connecting (a
	// duplicate identity, a flapping link) then backs off up to Max
	// instead of reconnecting in a tight loop. 0: 30 s.
	StableAfter time.Duration
	// MaxAttempts stops retrying after that many failed attempts in a row;
	// 0: never stop (retryable errors only; a non-retryable error stops at
	// once).
	MaxAttempts int
	// Rand returns a number in [0, 1); nil: math/rand/v2. Tests inject it.
	Rand func() float64
}

// NoRetry is a policy that never retries: the first failure is final.
var NoRetry = RetryPolicy{MaxAttempts: 1}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Min <= 0 {
		p.Min = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.Max < p.Min {
		p.Max = p.Min
	}
	if p.ThrottledMin <= 0 {
		p.ThrottledMin = 10 * time.Second
	}
	if p.ThrottledMax <= 0 {
		p.ThrottledMax = 60 * time.Second
	}
	if p.ThrottledMax < p.ThrottledMin {
		p.ThrottledMax = p.ThrottledMin
	}
	if p.StableAfter <= 0 {
		p.StableAfter = 30 * time.Second
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// Delay returns how long to wait before retry number attempt (1 for the
// first retry) after a retryable failure; throttled says the hub asked
// the device to slow down.
//
// It is "full jitter": a uniformly random time between 0 and
// min(Max, Min·2^(attempt-1)), so that a fleet that lost its hub at the
// same moment spreads its reconnects instead of arriving in waves. After
// throttling the delay is uniform in [ThrottledMin, ThrottledMax].
func (p RetryPolicy) Delay(attempt int, throttled bool) time.Duration {
	p = p.withDefaults()
	if attempt < 1 {
		attempt = 1
	}
	if throttled {
		if p.NoJitter {
			return p.ThrottledMin
		}
		return p.ThrottledMin + time.Duration(p.Rand()*float64(p.ThrottledMax-p.ThrottledMin))
	}
	ceil := p.Max
	if attempt < 40 { // beyond that the shift overflows; the cap applies anyway
		if c := p.Min << (attempt - 1); c > 0 && c < p.Max {
			ceil = c
		}
	}
	if p.NoJitter {
		return ceil
	}
	return time.Duration(p.Rand() * float64(ceil))
}

// GiveUp reports whether the policy stops after attempt failures in a row.
func (p RetryPolicy) GiveUp(attempt int) bool {
	return p.MaxAttempts > 0 && attempt >= p.MaxAttempts
}
