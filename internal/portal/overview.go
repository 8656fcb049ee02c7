package portal

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// ranges are the overview's time ranges.
var ranges = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// points is about how many buckets a chart gets.
const points = 120

// cacheFor is how long an overview's log figures are reused, per range:
// the queries read every connection row of the range (a week of a large
// fleet takes about a second), and a dashboard polls. Health is never
// cached.
var cacheFor = map[string]time.Duration{"1h": 5 * time.Second, "24h": 30 * time.Second, "7d": 2 * time.Minute}

// overviewCache keeps the latest answer of each range.
type overviewCache struct {
	mu sync.Mutex
	m  map[string]cachedOverview
}

type cachedOverview struct {
	at time.Time
	a  overviewAnswer
}

func (c *overviewCache) get(name string, now time.Time) (overviewAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[name]
	if !ok || now.Sub(e.at) >= cacheFor[name] || now.Before(e.at) {
		return overviewAnswer{}, false
	}
	return e.a, true
}

func (c *overviewCache) put(name string, now time.Time, a overviewAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedOverview{}
	}
	c.m[name] = cachedOverview{at: now, a: a}
}

// overviewAnswer is GET /portal/api/overview's answer. Times are Unix
// seconds, as the charts want them.
type overviewAnswer struct {
	Range     string       `json:"range"`
	Since     int64        `json:"since"`
	Bucket    int64        `json:"bucketSeconds"`
	Connected series       `json:"connected"` // connectedDeviceCount, max per bucket
	Activity  activity     `json:"activity"`  // connects, disconnects, refused attempts per bucket
	Outcomes  []outcome    `json:"outcomes"`  // Connections rows by operation and result code
	Failing   []failingDev `json:"failing"`   // devices with the most error rows
	Health    *Health      `json:"health,omitempty"`
}

type series struct {
	T []int64    `json:"t"`
	V []*float64 `json:"v"`
}

// activity counts Connections rows per bucket, every bucket of the range
// present: successful connects, disconnects, and refused connection
// attempts (deviceConnect at Level Error), three disjoint sets.
type activity struct {
	T           []int64 `json:"t"`
	Connects    []int64 `json:"connects"`
	Disconnects []int64 `json:"disconnects"`
	Refused     []int64 `json:"refused"`
}

type outcome struct {
	Operation  string `json:"operation"`
	Level      string `json:"level"`
	ResultType string `json:"resultType"`
	Reason     string `json:"reason"`
	Count      int64  `json:"count"`
}

type failingDev struct {
	DeviceID   string `json:"deviceId"`
	Errors     int64  `json:"errors"`
	Last       int64  `json:"last"`
	ResultType string `json:"resultType"`
	Reason     string `json:"reason"`
}

func (p *Portal) overview(w http.ResponseWriter, r *http.Request, _ *session) {
	name := r.URL.Query().Get("range")
	if name == "" {
		name = "24h"
	}
	d, ok := ranges[name]
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "ArgumentInvalid", "range="+quote(name)+": use 1h, 24h or 7d")
		return
	}
	if p.o.Logs == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the log store is not connected to the portal")
		return
	}
	now := p.o.Now()
	a, cached := p.overviews.get(name, now)
	var err error
	if !cached {
		a = overviewAnswer{Range: name, Since: now.Add(-d).Unix(), Bucket: int64(d/time.Second) / points}
		if err = p.fillOverview(r.Context(), &a, now.Add(-d), now); err == nil {
			p.overviews.put(name, now, a)
		}
	}
	if err == nil && p.o.Health != nil {
		var h Health
		if h, err = p.o.Health(r.Context()); err == nil {
			a.Health = &h
		}
	}
	if err != nil {
		p.log.Error("portal overview", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "InternalError", "internal error reading the logs")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (p *Portal) fillOverview(ctx context.Context, a *overviewAnswer, since, now time.Time) error {
	ns := since.UnixNano()
	bucket := a.Bucket * int64(time.Second)
	rows, err := p.o.Logs.QueryContext(ctx, `SELECT (TimeGenerated / ?) * ? AS b, MAX(COALESCE(Maximum, Average))
		FROM AzureMetrics WHERE MetricName = 'connectedDeviceCount' AND TimeGenerated >= ? GROUP BY b ORDER BY b`, bucket, bucket, ns)
	if err != nil {
		return err
	}
	a.Connected = series{T: []int64{}, V: []*float64{}}
	for rows.Next() {
		var t int64
		var v *float64
		if err := rows.Scan(&t, &v); err != nil {
			rows.Close()
			return err
		}
		a.Connected.T, a.Connected.V = append(a.Connected.T, t/int64(time.Second)), append(a.Connected.V, v)
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	rows, err = p.o.Logs.QueryContext(ctx, `SELECT (TimeGenerated / ?) * ? AS b,
		SUM(OperationName = 'deviceConnect' AND Level <> 'Error'), SUM(OperationName = 'deviceDisconnect'),
		SUM(OperationName <> 'deviceDisconnect' AND Level = 'Error')
		FROM AzureDiagnostics WHERE Category = 'Connections' AND TimeGenerated >= ? GROUP BY b ORDER BY b`, bucket, bucket, ns)
	if err != nil {
		return err
	}
	first := ns / bucket * bucket
	n := int((now.UnixNano()-first)/bucket) + 1
	a.Activity = activity{T: make([]int64, n), Connects: make([]int64, n), Disconnects: make([]int64, n), Refused: make([]int64, n)}
	for i := range a.Activity.T {
		a.Activity.T[i] = (first + int64(i)*bucket) / int64(time.Second)
	}
	for rows.Next() {
		var t, c, d, e int64
		if err := rows.Scan(&t, &c, &d, &e); err != nil {
			rows.Close()
			return err
		}
		if i := int((t - first) / bucket); i >= 0 && i < n {
			a.Activity.Connects[i], a.Activity.Disconnects[i], a.Activity.Refused[i] = c, d, e
		}
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	rows, err = p.o.Logs.QueryContext(ctx, `SELECT OperationName, Level, ResultType, _Reason, COUNT(*) AS n
		FROM AzureDiagnostics WHERE Category = 'Connections' AND TimeGenerated >= ?
		GROUP BY OperationName, Level, ResultType, _Reason ORDER BY n DESC LIMIT 50`, ns)
	if err != nil {
		return err
	}
	a.Outcomes = []outcome{}
	for rows.Next() {
		var o outcome
		if err := rows.Scan(&o.Operation, &o.Level, &o.ResultType, &o.Reason, &o.Count); err != nil {
			rows.Close()
			return err
		}
		a.Outcomes = append(a.Outcomes, o)
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	// The last error row's code and reason come with the count: SQLite
	// takes the bare columns from the row that holds MAX(TimeGenerated).
	rows, err = p.o.Logs.QueryContext(ctx, `SELECT _DeviceId, COUNT(*) AS n, MAX(TimeGenerated), ResultType, _Reason
		FROM AzureDiagnostics WHERE Category = 'Connections' AND Level = 'Error' AND _DeviceId <> '' AND TimeGenerated >= ?
		GROUP BY _DeviceId ORDER BY n DESC, _DeviceId LIMIT 10`, ns)
	if err != nil {
		return err
	}
	a.Failing = []failingDev{}
	for rows.Next() {
		var f failingDev
		if err := rows.Scan(&f.DeviceID, &f.Errors, &f.Last, &f.ResultType, &f.Reason); err != nil {
			rows.Close()
			return err
		}
		f.Last /= int64(time.Second)
		a.Failing = append(a.Failing, f)
	}
	return closeRows(rows)
}

type rowsCloser interface {
	Err() error
	Close() error
}

func closeRows(rows rowsCloser) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
