package notify

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
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

// Groups keeps the action groups.
type Groups interface {
	// CreateActionGroup stores a new group; an existing name is a
	// conflict error.
	CreateActionGroup(ctx context.Context, g Group) error
	ActionGroup(ctx context.Context, name string) (Group, error)
	ActionGroups(ctx context.Context) ([]Group, error)
	// DeleteActionGroup removes a group and its waiting notifications.
	DeleteActionGroup(ctx context.Context, name string) error
}

// Outbox keeps the notifications waiting to be sent and the record of
// attempts.
type Outbox interface {
	// EnqueueNotifications durably adds ns, all or none.
	EnqueueNotifications(ctx context.Context, ns []Notification) error
	// DueNotifications returns each receiver's oldest pending
	// notification when it is due at now, at most limit.
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error)
	// RecordNotificationAttempt records a and applies its outcome to its
	// outbox row.
	RecordNotificationAttempt(ctx context.Context, a Attempt) error
	// NotificationAttempts returns the newest limit attempts of one group
	// or ("") all, newest first.
	NotificationAttempts(ctx context.Context, group string, limit int) ([]Attempt, error)
	// TrimNotifications removes done notifications and attempts older
	// than before.
	TrimNotifications(ctx context.Context, before time.Time) (int, error)
}

// Store is what the Dispatcher needs of the store.
type Store interface {
	Groups
	Outbox
}

// Notification is one alert waiting for one receiver: a row of the
// outbox. (Its fields match store.Notification.)
type Notification struct {
	ID          int64
	Group       string
	Kind        string
	Target      string
	AlertID     string
	Rule        string
	Condition   string
	Alert       []byte // the Alert, JSON
	Created     time.Time
	Attempts    int
	NextAttempt time.Time
}

// Attempt is one attempt to send a notification. (Its fields match
// store.NotificationAttempt.)
type Attempt struct {
	ID          int64
	Delivery    int64 // the outbox row; 0 for a test sent at once
	Group       string
	Kind        string
	Target      string // redacted
	AlertID     string
	Rule        string
	Condition   string
	Time        time.Time
	Attempt     int
	StatusCode  int
	Error       string
	Latency     time.Duration
	Outcome     string // OutcomeDelivered, OutcomeRetry, OutcomeDead or OutcomeFailed
	NextAttempt time.Time
}

// The outcomes of an attempt.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"  // it is tried again at NextAttempt
	OutcomeDead      = "dead"   // given up on
	OutcomeFailed    = "failed" // a test, which is not retried
)

// DefaultResourceID is the resource the notifications name when
// Options.ResourceID is empty.
const DefaultResourceID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tether/providers/Microsoft.Devices/IotHubs/tether"

// Options configures a Dispatcher. Zero durations and counts get the
// defaults given.
type Options struct {
	Store      Store        // required
	ResourceID string       // the hub's resource ID, the alerts' target; "": DefaultResourceID
	Client     *http.Client // webhooks and Alertmanager; nil: a client that follows no redirects
	SMTP       SMTPConfig   // email receivers; zero: email is not configured
	Logger     *slog.Logger // nil: discard
	Now        func() time.Time
	Rand       io.Reader // secrets and jitter; nil: crypto/rand

	Poll        time.Duration // how often Run looks for due notifications; 1 s
	Timeout     time.Duration // one send, connect to answer; 10 s
	MinBackoff  time.Duration // the wait after a first failure; 2 s
	MaxBackoff  time.Duration // the longest wait between attempts; 5 min
	MaxAge      time.Duration // a notification this old is given up on at its next failure; 24 h
	MaxAttempts int           // attempts before a notification is given up on; 300 (about 24 h of 5 min waits)
	Parallel    int           // sends at once, each to a different receiver; 8
	Retention   time.Duration // how long done notifications and attempts are kept; 7 days
	// AlertmanagerHold is the endsAt of a Fired alert sent to
	// Alertmanager, from the send: Alertmanager keeps it firing until
	// then or until the Resolved notification; 24 h.
	AlertmanagerHold time.Duration
}

// Dispatcher keeps the action groups and delivers alert notifications to
// their receivers. It is safe for concurrent use.
type Dispatcher struct {
	o    Options
	log  *slog.Logger
	wake chan struct{}
	sem  chan struct{} // a slot per send in flight

	mu       sync.Mutex // guards inflight
	inflight map[string]bool
	wg       sync.WaitGroup // sends in flight

	randMu   sync.Mutex // guards o.Rand
	lastTrim time.Time  // Run's goroutine only

	statsMu sync.Mutex       // guards counts; taken alone
	counts  map[string]int64 // "kind outcome": attempts
}

// New returns a Dispatcher ready to take notifications; call Run to
// deliver them.
func New(o Options) (*Dispatcher, error) {
	if o.Store == nil {
		return nil, errors.New("notify: Options.Store is required")
	}
	if err := o.SMTP.Validate(); err != nil {
		return nil, err
	}
	if o.ResourceID == "" {
		o.ResourceID = DefaultResourceID
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
	setDefault(&o.Poll, time.Second)
	setDefault(&o.Timeout, 10*time.Second)
	setDefault(&o.MinBackoff, 2*time.Second)
	setDefault(&o.MaxBackoff, 5*time.Minute)
	setDefault(&o.MaxAge, 24*time.Hour)
	setDefault(&o.MaxAttempts, 300)
	setDefault(&o.Parallel, 8)
	setDefault(&o.Retention, 7*24*time.Hour)
	setDefault(&o.AlertmanagerHold, 24*time.Hour)
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout:       o.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Dispatcher{o: o, log: o.Logger, wake: make(chan struct{}, 1), sem: make(chan struct{}, o.Parallel),
		inflight: map[string]bool{}, counts: map[string]int64{}}, nil
}

func setDefault[T time.Duration | int](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Notify validates a and durably queues it for every receiver of the
// named action groups, then wakes the sender; it does not wait for
// delivery, so a slow receiver never holds the caller. Unknown groups
// do not stop the others: a is queued for the groups that exist, and the
// answer is a not found error naming the missing ones. No groups is no
// work.
func (d *Dispatcher) Notify(ctx context.Context, actionGroups []string, a Alert) error {
	if err := a.validate(); err != nil {
		return err
	}
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("notify %q: %w", a.RuleName, err)
	}
	now := d.o.Now()
	var (
		ns      []Notification
		missing []string
	)
	seen := map[string]bool{}
	for _, name := range actionGroups {
		if seen[name] {
			continue
		}
		seen[name] = true
		g, err := d.o.Store.ActionGroup(ctx, name)
		if tether.ErrorKind(err) == tether.KindNotFound {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			return fmt.Errorf("notify %q: %w", a.RuleName, err)
		}
		for _, r := range g.Receivers {
			ns = append(ns, Notification{Group: g.Name, Kind: r.Kind, Target: r.Target, AlertID: a.ID(),
				Rule: a.RuleName, Condition: a.State, Alert: body, Created: now})
		}
	}
	if len(ns) > 0 {
		if err := d.o.Store.EnqueueNotifications(ctx, ns); err != nil {
			return fmt.Errorf("notify %q: %w", a.RuleName, err)
		}
		d.notify()
		d.log.Debug("alert notification queued", "rule", a.RuleName, "state", a.State, "receivers", len(ns))
	}
	if len(missing) > 0 {
		return &tether.Error{Kind: tether.KindNotFound, Code: tether.NotFound, Message: fmt.Sprintf(
			"alert %q (%s) not sent to action groups %s: no such group", a.RuleName, a.State, strings.Join(missing, ", "))}
	}
	return nil
}

// notify wakes Run without blocking.
func (d *Dispatcher) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// trimEvery is how often Run removes what is older than Retention.
const trimEvery = time.Hour

// dueLimit bounds the notifications one look at the outbox starts.
const dueLimit = 256

// Run delivers due notifications until ctx ends: every Poll, at once
// after a Notify, and when a send finishes. It waits for the sends in
// flight before it returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.o.Poll)
	defer t.Stop()
	defer d.wg.Wait()
	for {
		now := d.o.Now()
		if err := d.dispatch(ctx, now); err != nil && ctx.Err() == nil {
			d.log.Error("dispatch alert notifications", "err", err)
		}
		d.trim(ctx, now)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.wake:
		}
	}
}

func (d *Dispatcher) trim(ctx context.Context, now time.Time) {
	if now.Sub(d.lastTrim) < trimEvery {
		return
	}
	d.lastTrim = now
	n, err := d.o.Store.TrimNotifications(ctx, now.Add(-d.o.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Error("trim alert notifications", "err", err)
	case n > 0:
		d.log.Debug("alert notifications trimmed", "rows", n)
	}
}

// dispatch starts a send for each receiver whose oldest notification is
// due at now and that has no send in flight, up to Parallel at once. It
// does not wait for them: a slow receiver holds only its own queue.
func (d *Dispatcher) dispatch(ctx context.Context, now time.Time) error {
	due, err := d.o.Store.DueNotifications(ctx, now, dueLimit)
	if err != nil {
		return err
	}
	for _, n := range due {
		key := n.Group + "\x00" + n.Kind + "\x00" + n.Target
		d.mu.Lock()
		busy := d.inflight[key]
		d.mu.Unlock()
		if busy {
			continue
		}
		select {
		case d.sem <- struct{}{}:
		default:
			return nil // all slots busy; a finishing send wakes Run
		}
		d.mu.Lock()
		d.inflight[key] = true
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer func() {
				d.mu.Lock()
				delete(d.inflight, key)
				d.mu.Unlock()
				<-d.sem
				d.wg.Done()
				d.notify()
			}()
			if err := d.deliver(ctx, n, now); err != nil && ctx.Err() == nil {
				d.log.Error("record alert notification attempt", "group", n.Group, "receiver", n.Kind, "err", err)
			}
		}()
	}
	return nil
}

// deliver makes one attempt at n, decided at now plus its latency, and
// records it. An attempt cut short by ctx ending is not recorded.
func (d *Dispatcher) deliver(ctx context.Context, n Notification, now time.Time) error {
	a := Attempt{Delivery: n.ID, Group: n.Group, Kind: n.Kind, Target: Redact(n.Target), AlertID: n.AlertID,
		Rule: n.Rule, Condition: n.Condition, Time: now, Attempt: n.Attempts + 1}
	var res result
	var alert Alert
	g, err := d.o.Store.ActionGroup(ctx, n.Group)
	switch {
	case tether.ErrorKind(err) == tether.KindNotFound:
		return nil // deleted meanwhile: its outbox went with it
	case err != nil:
		return err
	case json.Unmarshal(n.Alert, &alert) != nil:
		res = result{final: true, err: errors.New("the stored notification is not valid JSON")}
	default:
		sctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
		start := d.o.Now()
		res = d.send(sctx, g, Receiver{Kind: n.Kind, Target: n.Target}, alert, now)
		a.Latency = max(d.o.Now().Sub(start), 0)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
	}
	d.decide(&a, n, res)
	d.count(a.Kind, a.Outcome)
	if err := d.o.Store.RecordNotificationAttempt(ctx, a); err != nil {
		return err
	}
	d.log.Debug("alert notification attempt", "group", a.Group, "receiver", a.Kind, "target", a.Target,
		"rule", a.Rule, "state", a.Condition, "attempt", a.Attempt, "status", a.StatusCode, "outcome", a.Outcome,
		"latency", a.Latency, "err", a.Error)
	if a.Outcome == OutcomeDead {
		d.log.Warn("alert notification given up on", "group", a.Group, "receiver", a.Kind, "target", a.Target,
			"rule", a.Rule, "state", a.Condition, "attempts", a.Attempt, "err", a.Error)
	}
	return nil
}

// decide fills in a's outcome from res: delivered; dead when the failure
// is final or n has had MaxAttempts attempts or is MaxAge old; else a
// retry after the back-off (or a longer Retry-After, up to MaxBackoff).
func (d *Dispatcher) decide(a *Attempt, n Notification, res result) {
	a.StatusCode = res.status
	if res.err == nil {
		a.Outcome = OutcomeDelivered
		return
	}
	a.Error = res.err.Error()
	end := a.Time.Add(a.Latency)
	if res.final || a.Attempt >= d.o.MaxAttempts || end.Sub(n.Created) >= d.o.MaxAge {
		a.Outcome = OutcomeDead
		return
	}
	a.Outcome = OutcomeRetry
	a.NextAttempt = end.Add(max(d.backoff(a.Attempt), min(res.retryAfter, d.o.MaxBackoff)))
}

// backoff returns the wait after the n-th failed attempt: MinBackoff
// doubled n-1 times, capped at MaxBackoff, less up to a fifth at random.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.o.MinBackoff
	for i := 1; i < n && b < d.o.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.o.MaxBackoff)
	return b - time.Duration(float64(b/5)*d.jitter())
}

func (d *Dispatcher) read(b []byte) error {
	d.randMu.Lock()
	defer d.randMu.Unlock()
	_, err := io.ReadFull(d.o.Rand, b)
	return err
}

// jitter returns a random number in [0, 1).
func (d *Dispatcher) jitter() float64 {
	var b [8]byte
	if d.read(b[:]) != nil {
		return 0
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}
