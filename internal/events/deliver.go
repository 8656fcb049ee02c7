package events

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// trimEvery is how often Run removes what is older than Retention.
const trimEvery = time.Hour

// maxRounds bounds how many batches per subscription one deliverDue
// sends, so that a long backlog does not hold the loop.
const maxRounds = 100

// Run delivers due events until ctx ends: every Poll, and at once after a
// Publish. Failures are logged and retried; it returns nil when ctx ends.
func (e *Events) Run(ctx context.Context) error {
	t := time.NewTicker(e.o.Poll)
	defer t.Stop()
	for {
		now := e.o.Now()
		if err := e.deliverDue(ctx, now); err != nil && ctx.Err() == nil {
			e.log.Error("deliver events", "err", err)
		}
		e.trim(ctx, now)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.wake:
		}
	}
}

// trim removes old events and attempts once every trimEvery.
func (e *Events) trim(ctx context.Context, now time.Time) {
	if now.Sub(e.lastTrim) < trimEvery {
		return
	}
	e.lastTrim = now
	n, err := e.o.Store.TrimEvents(ctx, now.Add(-e.o.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Error("trim events", "err", err)
	case n > 0:
		e.log.Debug("events trimmed", "rows", n)
	}
}

// deliverDue sends every subscription's events that are due at now, the
// subscriptions in parallel, each one's batches in order, and records
// each attempt. It returns when they are all sent or failed.
func (e *Events) deliverDue(ctx context.Context, now time.Time) error {
	for range maxRounds {
		due, err := e.o.Store.DueEvents(ctx, now, e.o.MaxBatch)
		if err != nil || len(due) == 0 {
			return err
		}
		subs, err := e.o.Store.EventSubscriptions(ctx)
		if err != nil {
			return err
		}
		byName := make(map[string]Subscription, len(subs))
		for _, s := range subs {
			byName[s.Name] = s
		}
		var order []string
		pending := map[string][]Pending{}
		for _, p := range due {
			if _, ok := pending[p.Subscription]; !ok {
				order = append(order, p.Subscription)
			}
			pending[p.Subscription] = append(pending[p.Subscription], p)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(e.o.Parallel)
		more := make([]bool, len(order))
		for i, name := range order {
			sub, ok := byName[name]
			if !ok {
				continue // deleted meanwhile; its events went with it
			}
			g.Go(func() error {
				ok, err := e.deliverSubscription(gctx, sub, pending[name], now)
				more[i] = ok && len(pending[name]) == e.o.MaxBatch
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		again := false
		for _, m := range more {
			again = again || m
		}
		if !again {
			return nil
		}
	}
	return nil
}

// deliverSubscription sends events to sub in requests of the schema's
// batch size, stopping at the first failure, and reports whether all
// were delivered.
func (e *Events) deliverSubscription(ctx context.Context, sub Subscription, events []Pending, now time.Time) (bool, error) {
	size := e.o.MaxBatch
	if sub.Schema == SchemaCloudEvents {
		size = 1 // structured mode: one event per request
	}
	failures := sub.Failures
	for len(events) > 0 {
		n := min(size, len(events))
		a, err := e.attempt(ctx, sub, failures, events[:n], now)
		if err != nil || a.Outcome == "" {
			return false, err // the store failed, or ctx ended mid-request
		}
		if a.Outcome != OutcomeDelivered {
			return false, nil
		}
		failures, events = 0, events[n:]
	}
	return true, nil
}

// attempt sends one request carrying batch, decides its outcome at now
// (plus the request's latency) and records it. An attempt cut short by
// ctx is not recorded and has no Outcome.
func (e *Events) attempt(ctx context.Context, sub Subscription, failures int, batch []Pending, now time.Time) (Attempt, error) {
	a := Attempt{Subscription: sub.Name, Time: now}
	seqs := make([]int64, len(batch))
	for i, p := range batch {
		seqs[i] = p.Seq
		a.EventIDs = append(a.EventIDs, p.EventID)
		a.Attempt = max(a.Attempt, p.Attempts+1)
	}
	body, ctype, err := encodeBatch(sub.Schema, e.topic, batch)
	if err != nil {
		return a, fmt.Errorf("encode events for %q: %w", sub.Name, err)
	}
	start := e.o.Now()
	status, retryAfter, sendErr := e.send(ctx, sub, body, ctype, a.Attempt)
	a.Latency = max(e.o.Now().Sub(start), 0)
	if ctx.Err() != nil {
		return Attempt{}, nil
	}
	a.StatusCode = status
	if sendErr != nil {
		a.Error = sendErr.Error()
	}
	e.decide(&a, failures, batch, seqs, retryAfter)
	if err := e.o.Store.RecordEventAttempt(ctx, a); err != nil {
		return Attempt{}, err
	}
	e.log.Debug("event delivery attempt", "subscription", sub.Name, "events", len(batch), "attempt", a.Attempt,
		"status", a.StatusCode, "outcome", a.Outcome, "latency", a.Latency, "err", a.Error)
	if a.Outcome == OutcomeDead {
		e.log.Warn("events given up on", "subscription", sub.Name, "events", len(a.Dead), "status", a.StatusCode, "err", a.Error)
	}
	return a, nil
}

// decide fills in a's outcome: delivered on 2xx; otherwise each event
// waits for the subscription's next attempt, or is dead when the answer
// is final (400, 413) or the event has had MaxAttempts attempts or is
// MaxAge old.
func (e *Events) decide(a *Attempt, failures int, batch []Pending, seqs []int64, retryAfter time.Duration) {
	if a.Error == "" && a.StatusCode >= 200 && a.StatusCode < 300 {
		a.Outcome, a.Delivered = OutcomeDelivered, seqs
		return
	}
	end := a.Time.Add(a.Latency)
	final := a.StatusCode == http.StatusBadRequest || a.StatusCode == http.StatusRequestEntityTooLarge
	for i, p := range batch {
		if final || p.Attempts+1 >= e.o.MaxAttempts || end.Sub(p.Created) >= e.o.MaxAge {
			a.Dead = append(a.Dead, seqs[i])
		} else {
			a.Retry = append(a.Retry, seqs[i])
		}
	}
	a.Failures = failures + 1
	a.NextAttempt = end.Add(max(e.backoff(a.Failures), min(retryAfter, e.o.MaxBackoff)))
	a.Outcome = OutcomeRetry
	if len(a.Retry) == 0 {
		a.Outcome = OutcomeDead
	}
}

// backoff returns the wait after the n-th consecutive failure: MinBackoff
// doubled n-1 times, capped at MaxBackoff, less up to a fifth at random.
func (e *Events) backoff(n int) time.Duration {
	d := e.o.MinBackoff
	for i := 1; i < n && d < e.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, e.o.MaxBackoff)
	return d - time.Duration(float64(d/5)*e.jitter())
}

// maxErrorBody is how much of a failed answer is kept in the record.
const maxErrorBody = 200

// send posts body to sub's URL and returns the status, the Retry-After
// of a 429 or 503 answer, and an error for a failure (no answer, or not
// 2xx).
func (e *Events) send(ctx context.Context, sub Subscription, body []byte, ctype string, attempt int) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "tether-events")
	req.Header.Set(EventTypeHeader, "Notification")
	req.Header.Set(SubscriptionHeader, strings.ToUpper(sub.Name))
	req.Header.Set(DeliveryCountHeader, strconv.Itoa(attempt-1))
	req.Header.Set(SignatureHeader, Sign(sub.Secret.Reveal(), body))
	resp, err := e.o.Client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
			retryAfter = time.Duration(s) * time.Second
		}
	}
	msg := "HTTP " + strconv.Itoa(resp.StatusCode)
	if s := strings.Join(strings.Fields(strings.ToValidUTF8(string(snippet), "")), " "); s != "" {
		msg += ": " + s
	}
	return resp.StatusCode, retryAfter, fmt.Errorf("%s", msg)
}
