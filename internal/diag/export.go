package diag

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-iot/tether"
)

// ExportRecord is a record as Azure writes resource logs to Storage and
// Event Hubs: properties is a JSON object written as a string, and
// durationMs, too, is a string.
type ExportRecord struct {
	Time              string `json:"time"`
	ResourceID        string `json:"resourceId"`
	OperationName     string `json:"operationName"`
	Category          string `json:"category"`
	Level             string `json:"level"`
	ResultType        string `json:"resultType,omitempty"`
	ResultDescription string `json:"resultDescription,omitempty"`
	DurationMs        string `json:"durationMs,omitempty"`
	Properties        string `json:"properties"`
	Location          string `json:"location"`
}

// exportTime writes a time as Azure does: UTC, to Kusto's 100 ns tick.
func exportTime(t, now time.Time) string {
	if t.IsZero() {
		t = now
	}
	return t.UTC().Truncate(100 * time.Nanosecond).Format(time.RFC3339Nano)
}

// Envelope encodes recs as Azure's export envelope, {"records":[…]},
// followed by a newline: one line of a JSON-lines file, or an HTTP body.
func Envelope(recs []tether.LogRecord, resourceID, location string, now time.Time) []byte {
	out := struct {
		Records []ExportRecord `json:"records"`
	}{make([]ExportRecord, len(recs))}
	for i, r := range recs {
		e := ExportRecord{Time: exportTime(r.Time, now), ResourceID: resourceID, OperationName: r.OperationName,
			Category: r.Category, Level: r.Level, ResultType: r.ResultType, ResultDescription: r.ResultDescription,
			Properties: r.Properties, Location: location}
		if r.DurationMs != nil {
			e.DurationMs = strconv.FormatInt(*r.DurationMs, 10)
		}
		out.Records[i] = e
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(out) // cannot fail: strings only
	return b.Bytes()
}

// ExportOptions configures an Exporter.
type ExportOptions struct {
	ResourceID string // the resourceId of every record (upper case, as Azure writes it)
	Location   string
	Logger     *slog.Logger // nil: discard
	// HTTPClient sends to the HTTP destination; nil: a client of its own
	// (the destination's timeout applies per attempt either way).
	HTTPClient *http.Client
	MaxQueued  int64         // bytes waiting per destination before batches are dropped; default 64 MB
	Backoff    time.Duration // the first wait between HTTP attempts, doubling; default 1 s
}

// DestinationStats are a destination's counters since the hub started.
type DestinationStats struct {
	Destination string // "file" or "http"
	Records     int64  // records written or delivered
	Failures    int64  // batches that could not be written or delivered (after the retries)
	Dropped     int64  // records lost: their batch failed, or the destination fell too far behind
}

type counters struct{ records, failures, dropped atomic.Int64 }

// Exporter sends batches of records to the file and HTTP destinations of
// the settings, each on a goroutine of its own: Export never blocks, and
// a slow or failing destination only loses its own batches, counted.
type Exporter struct {
	o     ExportOptions
	log   *slog.Logger
	stats map[string]*counters

	mu    sync.Mutex
	file  *destination
	http  *destination
	fileS *FileSettings
	httpS *HTTPSettings
}

// NewExporter returns an Exporter with no destination.
func NewExporter(o ExportOptions) *Exporter {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 64 << 20
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	return &Exporter{o: o, log: o.Logger, stats: map[string]*counters{"file": {}, "http": {}}}
}

// Apply starts, changes or stops the destinations to match s. A
// destination whose settings did not change keeps running.
func (e *Exporter) Apply(s Settings) {
	s = s.Normalized()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !equalPtr(e.fileS, s.File) {
		if e.file != nil {
			e.file.stop()
			e.file = nil
		}
		if f := s.File; f != nil {
			w := &fileWriter{path: f.Path, maxSize: int64(f.MaxSizeMB) << 20, maxFiles: f.MaxFiles}
			e.file = e.start("file", w.write, w.close)
		}
		e.fileS = s.File
	}
	if !equalPtr(e.httpS, s.HTTP) {
		if e.http != nil {
			e.http.stop()
			e.http = nil
		}
		if h := s.HTTP; h != nil {
			client := e.o.HTTPClient
			if client == nil {
				client = &http.Client{}
			}
			p := &poster{url: h.URL, client: client, retries: h.MaxRetries, timeout: time.Duration(h.TimeoutSeconds) * time.Second, backoff: e.o.Backoff}
			e.http = e.start("http", p.post, func() {})
		}
		e.httpS = s.HTTP
	}
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Export queues recs for every destination; it never blocks.
func (e *Exporter) Export(recs []tether.LogRecord) {
	if len(recs) == 0 {
		return
	}
	e.mu.Lock()
	dests := []*destination{e.file, e.http}
	e.mu.Unlock()
	var payload []byte
	for _, d := range dests {
		if d == nil {
			continue
		}
		if payload == nil {
			payload = Envelope(recs, e.o.ResourceID, e.o.Location, time.Now())
		}
		d.push(batch{payload, len(recs)})
	}
}

// Stats returns the counters of both destinations.
func (e *Exporter) Stats() []DestinationStats {
	out := make([]DestinationStats, 0, 2)
	for _, name := range []string{"file", "http"} {
		c := e.stats[name]
		out = append(out, DestinationStats{name, c.records.Load(), c.failures.Load(), c.dropped.Load()})
	}
	return out
}

// Close stops the destinations, giving them up to wait to send what is
// queued.
func (e *Exporter) Close(wait time.Duration) {
	e.mu.Lock()
	dests := []*destination{e.file, e.http}
	e.file, e.http, e.fileS, e.httpS = nil, nil, nil, nil
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, d := range dests {
		if d != nil {
			wg.Add(1)
			go func() { defer wg.Done(); d.drain(wait) }()
		}
	}
	wg.Wait()
}

type batch struct {
	payload []byte
	records int
}

// destination is one destination's queue and sending goroutine.
type destination struct {
	name  string
	c     *counters
	log   *slog.Logger
	write func(ctx context.Context, payload []byte) error
	close func()
	max   int64

	mu     sync.Mutex
	queue  []batch
	bytes  int64
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	ending chan struct{} // closed: send what is queued, then stop
	done   chan struct{}

	lastLog    time.Time
	suppressed int
}

func (e *Exporter) start(name string, write func(context.Context, []byte) error, close func()) *destination {
	ctx, cancel := context.WithCancel(context.Background())
	d := &destination{name: name, c: e.stats[name], log: e.log, write: write, close: close, max: e.o.MaxQueued,
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, ending: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *destination) push(b batch) {
	d.mu.Lock()
	if d.bytes+int64(len(b.payload)) > d.max {
		d.mu.Unlock()
		d.c.dropped.Add(int64(b.records))
		d.failed(b.records, errors.New("the destination is too far behind; batch dropped"))
		return
	}
	d.queue = append(d.queue, b)
	d.bytes += int64(len(b.payload))
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *destination) pop() (batch, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return batch{}, false
	}
	b := d.queue[0]
	d.queue = d.queue[1:]
	d.bytes -= int64(len(b.payload))
	return b, true
}

func (d *destination) run() {
	defer close(d.done)
	defer d.close()
	for {
		for {
			b, ok := d.pop()
			if !ok {
				break
			}
			if err := d.write(d.ctx, b.payload); err != nil {
				d.c.failures.Add(1)
				d.c.dropped.Add(int64(b.records))
				d.failed(b.records, err)
				continue
			}
			d.c.records.Add(int64(b.records))
		}
		select {
		case <-d.wake:
		case <-d.ending:
			if d.empty() {
				return
			}
		}
	}
}

func (d *destination) empty() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue) == 0
}

// failed logs a lost batch, at most once a minute per destination.
func (d *destination) failed(records int, err error) {
	d.mu.Lock()
	now := time.Now()
	if now.Sub(d.lastLog) < time.Minute {
		d.suppressed++
		d.mu.Unlock()
		return
	}
	suppressed := d.suppressed
	d.lastLog, d.suppressed = now, 0
	d.mu.Unlock()
	d.log.Warn("diagnostic export failed; records lost", "destination", d.name, "records", records,
		"earlierFailuresNotLogged", suppressed, "err", err)
}

// stop ends the destination now; what is queued is dropped.
func (d *destination) stop() { d.drain(0) }

// drain lets the destination send what is queued for up to wait, then
// stops it.
func (d *destination) drain(wait time.Duration) {
	close(d.ending)
	select {
	case d.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-d.done:
		return
	case <-t.C:
	}
	d.cancel()
	<-d.done
	d.mu.Lock()
	for _, b := range d.queue {
		d.c.dropped.Add(int64(b.records))
	}
	d.queue, d.bytes = nil, 0
	d.mu.Unlock()
}

// fileWriter appends to a JSON-lines file and rotates it by size:
// PATH → PATH.1 → … → PATH.<maxFiles>, the oldest removed.
type fileWriter struct {
	path     string
	maxSize  int64
	maxFiles int
	f        *os.File
	size     int64
}

func (w *fileWriter) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, fi.Size()
	return nil
}

func (w *fileWriter) write(_ context.Context, payload []byte) error {
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	if w.size > 0 && w.size+int64(len(payload)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(payload)
	w.size += int64(n)
	if err != nil {
		w.close() // reopen on the next batch
	}
	return err
}

func (w *fileWriter) rotate() error {
	w.close()
	for i := w.maxFiles - 1; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", w.path, i), fmt.Sprintf("%s.%d", w.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(w.path, w.path+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return w.open()
}

func (w *fileWriter) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// poster POSTs batches, retrying failures that may pass on a retry
// (network errors, 408, 429, 5xx) up to retries times with a doubling
// backoff.
type poster struct {
	url     string
	client  *http.Client
	retries int
	timeout time.Duration
	backoff time.Duration
}

func (p *poster) post(ctx context.Context, payload []byte) error {
	wait := p.backoff
	var err error
	for attempt := 0; ; attempt++ {
		var retry bool
		if retry, err = p.once(ctx, payload); err == nil || !retry || attempt >= p.retries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (p *poster) once(ctx context.Context, payload []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(payload))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return true, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	retry = resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return retry, fmt.Errorf("POST %s: %s", p.url, resp.Status)
}
