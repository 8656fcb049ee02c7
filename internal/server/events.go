package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/events"
	"github.com/tether-iot/tether/internal/store"
)

// eventStore is the SQLite store as the events' Store, as the server
// types match field for field.
type eventStore struct{ *store.Store }

var _ events.Store = eventStore{}

func (s eventStore) PutEventSubscription(ctx context.Context, sub events.Subscription, replaceSecret bool) (events.Subscription, bool, error) {
	out, created, err := s.Store.PutEventSubscription(ctx, store.EventSubscription(sub), replaceSecret)
	return events.Subscription(out), created, err
}

func (s eventStore) EventSubscription(ctx context.Context, name string) (events.Subscription, error) {
	out, err := s.Store.EventSubscription(ctx, name)
	return events.Subscription(out), err
}

func (s eventStore) EventSubscriptions(ctx context.Context) ([]events.Subscription, error) {
	subs, err := s.Store.EventSubscriptions(ctx)
	out := make([]events.Subscription, len(subs))
	for i, sub := range subs {
		out[i] = events.Subscription(sub)
	}
	return out, err
}

func (s eventStore) EnqueueEvent(ctx context.Context, e events.Pending) (int, error) {
	return s.Store.EnqueueEvent(ctx, store.OutboxEvent(e))
}

func (s eventStore) DueEvents(ctx context.Context, now time.Time, perSubscription int) ([]events.Pending, error) {
	es, err := s.Store.DueEvents(ctx, now, perSubscription)
	out := make([]events.Pending, len(es))
	for i, e := range es {
		out[i] = events.Pending(e)
	}
	return out, err
}

func (s eventStore) RecordEventAttempt(ctx context.Context, a events.Attempt) error {
	return s.Store.RecordEventAttempt(ctx, store.EventAttempt(a))
}

func (s eventStore) EventDeliveries(ctx context.Context, subscription string, limit int) ([]events.Delivery, error) {
	ds, err := s.Store.EventDeliveries(ctx, subscription, limit)
	out := make([]events.Delivery, len(ds))
	for i, d := range ds {
		out[i] = events.Delivery(d)
	}
	return out, err
}

// publisher writes lifecycle events to the outbox.
type publisher interface {
	Publish(ev events.DeviceEvent) error
}

// logPublisher logs the events that could not be written.
type logPublisher struct {
	ev  *events.Events
	log *slog.Logger
}

func (p logPublisher) Publish(e events.DeviceEvent) error {
	err := p.ev.Publish(e)
	if err != nil && p.log != nil {
		p.log.Error("lifecycle event not written", "type", e.Type, "device", e.DeviceID, "err", err)
	}
	return err
}

// eventDevices is the registry as the API sees it, publishing
// DeviceCreated and DeviceDeleted after each successful write.
type eventDevices struct {
	*store.Store
	ev publisher
}

func (d eventDevices) CreateDevice(ctx context.Context, dev tether.Device) (tether.Device, error) {
	dev, err := d.Store.CreateDevice(ctx, dev)
	if err == nil {
		d.ev.Publish(events.DeviceEvent{Type: events.DeviceCreated, DeviceID: dev.ID, Time: time.Now(), Device: &dev})
	}
	return dev, err
}

func (d eventDevices) DeleteDevice(ctx context.Context, id string, fn func(tether.Device) error) error {
	var gone tether.Device
	err := d.Store.DeleteDevice(ctx, id, func(dev tether.Device) error {
		gone = dev
		if fn != nil {
			return fn(dev)
		}
		return nil
	})
	if err == nil {
		d.ev.Publish(events.DeviceEvent{Type: events.DeviceDeleted, DeviceID: id, Time: time.Now(), Device: &gone})
	}
	return err
}

// presenceEvents turns announced presence changes into lifecycle events,
// in order, on one goroutine: the presence callback must not block on
// the outbox's disk write.
func presenceEvents(ctx context.Context, ch <-chan diag.PresenceChange, ev publisher) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-ch:
			e := events.DeviceEvent{Type: events.DeviceConnected, DeviceID: c.DeviceID, Time: c.Time, Sequence: c.Sequence, ConnectionID: c.ConnectionID}
			if c.State == tether.Disconnected {
				e.Type, e.Reason, e.Code = events.DeviceDisconnected, c.Reason, c.Code
			}
			ev.Publish(e)
		}
	}
}
