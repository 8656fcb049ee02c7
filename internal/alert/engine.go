package alert

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Store keeps rules with their status, and the history of state changes.
type Store interface {
	// PutAlertRule creates or replaces r.Name and reports whether it
	// created it.
	PutAlertRule(ctx context.Context, r StoredRule) (bool, error)
	AlertRules(ctx context.Context) ([]StoredRule, error)
	// DeleteAlertRule returns a not-found *tether.Error for an unknown name.
	DeleteAlertRule(ctx context.Context, name string) error
	SetAlertStatus(ctx context.Context, name string, status []byte) error
	// AppendAlertEvents writes state changes to the Alerts table.
	AppendAlertEvents(ctx context.Context, es []Event) error
	// AlertEvents returns one rule's (or, for "", every rule's) newest
	// limit state changes, newest first.
	AlertEvents(ctx context.Context, rule string, limit int) ([]Event, error)
}

// StoredRule is a rule as the store keeps it: its definition and status
// as JSON that only this package reads.
type StoredRule struct {
	Name    string
	Spec    []byte
	Status  []byte
	Created time.Time
	Updated time.Time
}

// Event is one state change of a rule: a row of the Alerts table.
type Event struct {
	Time          time.Time
	Rule          string
	State         string
	PreviousState string
	Severity      int
	SignalType    string
	MetricName    string
	Aggregation   string
	Operator      string
	Threshold     float64
	Value         float64
	Window        time.Duration
	Query         string
	ResultCount   int64
	Description   string
}

// MetricInfo describes one metric a rule can watch.
type MetricInfo struct {
	Name       string // Azure's name, such as connectedDeviceCount
	Prometheus string // the /metrics name, such as tether_connected_devices
	Counter    bool   // a running total (rules see its increase per sample) rather than a gauge
}

// MetricSource reads metrics live.
type MetricSource interface {
	Metrics() []MetricInfo
	// Value is a gauge's value now or a counter's running total.
	Value(name string) (float64, bool)
}

// LogQuerier runs KQL over the diagnostic logs.
type LogQuerier interface {
	// Check compiles query and returns its error, with the position.
	Check(query string) error
	// Query runs query over [from, to].
	Query(ctx context.Context, query string, from, to time.Time) (LogResult, error)
}

// LogResult is a query's result table.
type LogResult struct {
	Columns []string
	Rows    [][]any
}

// ActionGroups says whether an action group exists.
type ActionGroups interface {
	ActionGroupExists(ctx context.Context, name string) (bool, error)
}

// Notifier sends a rule's firing or resolution to its action groups.
type Notifier interface {
	Notify(ctx context.Context, actionGroups []string, n Notification) error
}

// Options configures an Engine.
type Options struct {
	Store   Store        // required
	Metrics MetricSource // nil: metric rules are refused
	Logs    LogQuerier   // nil: log rules are refused
	Groups  ActionGroups // nil: rules with action groups are refused
	// Notifier hears of every firing and resolution; nil: none is sent.
	Notifier Notifier
	// ResourceID is the hub's resource ID, in notifications.
	ResourceID string
	Logger     *slog.Logger     // nil: discard
	Now        func() time.Time // nil: time.Now
	// NotifyTimeout bounds one Notify call; 0: 30s.
	NotifyTimeout time.Duration
}

// Engine evaluates the rules.
type Engine struct {
	o       Options
	loadMu  sync.Mutex // held while loading; before mu
	loaded  bool
	mu      sync.Mutex
	rules   map[string]*entry
	series  map[string]*series
	metrics map[string]MetricInfo
	sends   sync.WaitGroup
	sem     chan struct{} // bounds notifications in flight
}

// entry is a rule and its evaluation state.
type entry struct {
	rule      Rule
	status    Status
	since     time.Time // samples before are not this rule's
	next      time.Time // the next evaluation
	lastEval  time.Time
	lastValue float64
	hasValue  bool
	lastErr   string
}

// New returns an Engine; Run evaluates its rules.
func New(o Options) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("alert: Store is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NotifyTimeout <= 0 {
		o.NotifyTimeout = 30 * time.Second
	}
	e := &Engine{o: o, rules: map[string]*entry{}, series: map[string]*series{}, metrics: map[string]MetricInfo{},
		sem: make(chan struct{}, 32)}
	if o.Metrics != nil {
		for _, m := range o.Metrics.Metrics() {
			e.metrics[m.Name] = m
		}
	}
	return e, nil
}

// Run samples metrics every [SampleEvery] and evaluates the rules that are
// due, until ctx ends; then it waits (a few seconds at most) for the
// notifications in flight.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.load(ctx); err != nil && ctx.Err() == nil {
		e.o.Logger.Error("load alert rules; will retry", "err", err)
	}
	t := time.NewTicker(SampleEvery)
	defer t.Stop()
	defer e.drain(5 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := e.load(ctx); err != nil {
			continue
		}
		now := e.o.Now()
		e.Sample(now)
		e.Evaluate(ctx, now)
	}
}

// drain waits up to d for the notifications in flight.
func (e *Engine) drain(d time.Duration) {
	done := make(chan struct{})
	go func() { e.sends.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		e.o.Logger.Warn("alert notifications still in flight at shutdown")
	}
}
