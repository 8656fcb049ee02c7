package events

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tether-iot/tether"
)

// Subscriptions keeps the subscriptions.
type Subscriptions interface {
	// PutEventSubscription creates s or replaces its URL, types and
	// schema (and its secret when replaceSecret is set), clears its
	// back-off, and returns it as stored and whether it was created.
	PutEventSubscription(ctx context.Context, s Subscription, replaceSecret bool) (Subscription, bool, error)
	EventSubscription(ctx context.Context, name string) (Subscription, error)
	EventSubscriptions(ctx context.Context) ([]Subscription, error)
	// DeleteEventSubscription removes a subscription and its waiting
	// events.
	DeleteEventSubscription(ctx context.Context, name string) error
}

// Outbox keeps the events waiting for delivery and the record of
// attempts.
type Outbox interface {
	// EnqueueEvent durably adds e for every subscription whose types
	// include e.Type and returns how many there were.
	EnqueueEvent(ctx context.Context, e Pending) (int, error)
	// DueEvents returns, for each subscription not backing off at now,
	// its oldest perSubscription pending events, in outbox order.
	DueEvents(ctx context.Context, now time.Time, perSubscription int) ([]Pending, error)
	// RecordEventAttempt records a and applies its outcome atomically.
	RecordEventAttempt(ctx context.Context, a Attempt) error
	// EventDeliveries returns the newest limit attempts, newest first,
	// of one subscription or ("") all.
	EventDeliveries(ctx context.Context, subscription string, limit int) ([]Delivery, error)
	// TrimEvents removes delivered and dead events, and attempts, older
	// than before.
	TrimEvents(ctx context.Context, before time.Time) (int, error)
}

// Store is what Events needs of the store.
type Store interface {
	Subscriptions
	Outbox
}

// Subscription is a webhook and the event types it receives, with its
// back-off state. (Its fields match store.EventSubscription.)
type Subscription struct {
	Name        string
	URL         string
	Types       []string
	Schema      string
	Secret      tether.Secret
	Created     time.Time
	Updated     time.Time
	Failures    int       // consecutive failed attempts
	NextAttempt time.Time // no attempt before; zero when not backing off
	Pending     int       // read only
	Dead        int       // read only
}

// Pending is one event waiting for one subscription: a row of the
// outbox. (Its fields match store.OutboxEvent.)
type Pending struct {
	Seq          int64
	Subscription string
	EventID      string
	Type         string
	Subject      string
	Time         time.Time
	Data         []byte
	Created      time.Time
	Attempts     int
}

// Attempt is the outcome of one delivery request. (Its fields match
// store.EventAttempt.)
type Attempt struct {
	Subscription string
	Time         time.Time
	Attempt      int
	EventIDs     []string
	StatusCode   int
	Error        string
	Latency      time.Duration
	Outcome      string // delivered, retry or dead
	Delivered    []int64
	Retry        []int64
	Dead         []int64
	Failures     int
	NextAttempt  time.Time
}

// Delivery is a recorded attempt. (Its fields match store.EventDelivery.)
type Delivery struct {
	ID           int64
	Subscription string
	Time         time.Time
	Attempt      int
	EventIDs     []string
	StatusCode   int
	Error        string
	Latency      time.Duration
	Outcome      string
	NextAttempt  time.Time
}

// The outcomes of an attempt.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeDead      = "dead"
)

// DefaultTopic is the topic (the CloudEvents source) of a hub's events
// when Options.Topic is empty: Azure's form, with Tether's placeholder
// subscription and resource group.
func DefaultTopic(hubName string) string {
	return "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/TETHER/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/" +
		strings.ToUpper(hubName)
}

// Options configures Events. Zero durations and counts get the defaults
// given.
type Options struct {
	Store   Store            // required
	HubName string           // the data's hubName, such as "myhub"; required
	Topic   string           // the events' topic; "": DefaultTopic(HubName)
	Client  *http.Client     // nil: a client with a 30 s timeout
	Logger  *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
	Rand    io.Reader        // event IDs, secrets and jitter; nil: crypto/rand

	Poll        time.Duration // how often Run looks for due events; 1 s
	MinBackoff  time.Duration // the wait after a first failure; 1 s
	MaxBackoff  time.Duration // the longest wait between attempts; 5 min
	MaxAge      time.Duration // an event older than this is given up on at its next failure; 24 h
	MaxAttempts int           // attempts before an event is given up on; 300 (about 24 h of 5 min waits)
	MaxBatch    int           // events per Event Grid request; 10
	Parallel    int           // subscriptions sent to at once; 4
	Retention   time.Duration // how long delivered and dead events and attempts are kept; 7 days
}

// Events publishes lifecycle events and delivers them.
type Events struct {
	o     Options
	log   *slog.Logger
	wake  chan struct{}
	topic string

	randMu   sync.Mutex // guards o.Rand, which need not be safe for concurrent use
	lastTrim time.Time  // Run's goroutine only
}

// New returns Events ready to publish; call Run to deliver.
func New(o Options) (*Events, error) {
	if o.Store == nil || o.HubName == "" {
		return nil, errors.New("events: Store and HubName are required")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Topic == "" {
		o.Topic = DefaultTopic(o.HubName)
	}
	setDefault(&o.Poll, time.Second)
	setDefault(&o.MinBackoff, time.Second)
	setDefault(&o.MaxBackoff, 5*time.Minute)
	setDefault(&o.MaxAge, 24*time.Hour)
	setDefault(&o.Retention, 7*24*time.Hour)
	setDefault(&o.MaxAttempts, 300)
	setDefault(&o.MaxBatch, 10)
	setDefault(&o.Parallel, 4)
	return &Events{o: o, log: o.Logger, wake: make(chan struct{}, 1), topic: o.Topic}, nil
}

func setDefault[T time.Duration | int](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Publish stores ev for every subscription that wants its type, durably,
// and wakes the sender. It returns an ArgumentInvalid error for an event
// that is not valid. It writes to the store: call it where blocking for a
// disk write is fine.
func (e *Events) Publish(ev DeviceEvent) error {
	if err := ev.validate(); err != nil {
		return err
	}
	data, err := ev.data(e.o.HubName)
	if err != nil {
		return fmt.Errorf("publish %s event for %q: %w", ev.Type, ev.DeviceID, err)
	}
	id, err := e.newUUID()
	if err != nil {
		return err
	}
	n, err := e.o.Store.EnqueueEvent(context.Background(), Pending{EventID: id, Type: string(ev.Type),
		Subject: ev.subject(), Time: ev.Time, Data: data, Created: e.o.Now()})
	if err != nil {
		return fmt.Errorf("publish %s event for %q: %w", ev.Type, ev.DeviceID, err)
	}
	if n > 0 {
		e.notify()
		e.log.Debug("event published", "type", string(ev.Type), "device", ev.DeviceID, "id", id, "subscriptions", n)
	}
	return nil
}

// notify wakes Run without blocking.
func (e *Events) notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Events) read(b []byte) error {
	e.randMu.Lock()
	defer e.randMu.Unlock()
	_, err := io.ReadFull(e.o.Rand, b)
	return err
}

// newUUID returns a random version 4 UUID, the form of Event Grid's IDs.
func (e *Events) newUUID() (string, error) {
	var b [16]byte
	if err := e.read(b[:]); err != nil {
		return "", fmt.Errorf("generate event ID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}

// newSecret returns a random 256-bit secret, base64url without padding.
func (e *Events) newSecret() (tether.Secret, error) {
	var b [32]byte
	if err := e.read(b[:]); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return tether.Secret(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

// jitter returns a random number in [0, 1).
func (e *Events) jitter() float64 {
	var b [8]byte
	if e.read(b[:]) != nil {
		return 0
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}
