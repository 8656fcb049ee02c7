package notify

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkNotifyToWebhook measures the time from Notify (the alert
// engine's call) to the request arriving at a loopback webhook, through
// the durable outbox and the running delivery loop: one notification at
// a time, so ns/op is the latency.
func BenchmarkNotifyToWebhook(b *testing.B) {
	f := mustNewFixture(b, func(o *Options) { o.Now = time.Now })
	r := mustStartReceiver(b)
	f.mustCreate(b, "ops", webhook(r.URL))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	a := metricAlert()
	b.ResetTimer()
	for i := range b.N {
		a.FiredAt = t0.Add(time.Duration(i) * time.Second) // a new episode each time
		if err := f.d.Notify(ctx, []string{"ops"}, a); err != nil {
			b.Fatal(err)
		}
		select {
		case <-r.hits:
		case <-time.After(10 * time.Second):
			b.Fatalf("notification %d not delivered within 10 s", i)
		}
	}
}

// BenchmarkNotifyFanOut measures Notify to an action group of 10
// loopback webhooks until all 10 have the request.
func BenchmarkNotifyFanOut(b *testing.B) {
	f := mustNewFixture(b, func(o *Options) { o.Now = time.Now })
	var rs []*receiver
	var args []string
	for range 10 {
		r := mustStartReceiver(b)
		rs = append(rs, r)
		args = append(args, r.URL)
	}
	for i, u := range args {
		f.mustCreate(b, fmt.Sprintf("g%d", i), webhook(u))
	}
	groups := make([]string, len(args))
	for i := range groups {
		groups[i] = fmt.Sprintf("g%d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	a := metricAlert()
	b.ResetTimer()
	for i := range b.N {
		a.FiredAt = t0.Add(time.Duration(i) * time.Second)
		if err := f.d.Notify(ctx, groups, a); err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			select {
			case <-r.hits:
			case <-time.After(10 * time.Second):
				b.Fatalf("notification %d not delivered within 10 s", i)
			}
		}
	}
}
