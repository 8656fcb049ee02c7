package doctor

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// Operation names of the Connections rows, as internal/diag writes them.
const (
	opConnect    = "deviceConnect"
	opDisconnect = "deviceDisconnect"
)

// row is one Connections row with its properties_s parsed.
type row struct {
	t      time.Time
	op     string
	code   tether.ResultCode // 0 for none
	reason tether.Reason
	device string
	p      props
}

// props are the properties_s fields the detectors read.
type props struct {
	Detail            string `json:"detail"`
	ConnectionID      string `json:"connectionId"`
	MaskedIP          string `json:"maskedIpAddress"`
	DurationMs        *int64 `json:"durationMs"`
	KeepAliveSec      *int64 `json:"keepAliveSec"`
	LastActivityAgoMs *int64 `json:"lastActivityAgoMs"`
	TokenExpiry       string `json:"tokenExpiry"`
	Follows           string `json:"follows"`
}

func parseRows(recs []tether.LogRecord) []*row {
	out := make([]*row, 0, len(recs))
	for _, r := range recs {
		x := &row{t: r.Time, op: r.OperationName, reason: r.Reason, device: r.DeviceID}
		if n, err := strconv.Atoi(r.ResultType); err == nil {
			x.code = tether.ResultCode(n)
		}
		json.Unmarshal([]byte(r.Properties), &x.p) // a row with bad properties still counts by its columns
		out = append(out, x)
	}
	return out
}

func groupByDevice(rows []*row) map[string][]*row {
	m := map[string][]*row{}
	for _, r := range rows {
		m[r.device] = append(m[r.device], r)
	}
	return m
}

// connected reports whether r is a successful connect.
func (r *row) connected() bool { return r.op == opConnect && r.code == 0 }

// failed reports whether r is a refused or unfinished connection attempt.
func (r *row) failed() bool { return r.op == opConnect && r.code != 0 }

func (r *row) disconnect() bool { return r.op == opDisconnect }

// duration is how long the connection that r ends lasted, or -1.
func (r *row) duration() time.Duration {
	if r.p.DurationMs == nil {
		return -1
	}
	return time.Duration(*r.p.DurationMs) * time.Millisecond
}

func (r *row) keepAlive() time.Duration {
	if r.p.KeepAliveSec == nil {
		return 0
	}
	return time.Duration(*r.p.KeepAliveSec) * time.Second
}

func (r *row) tokenExpiry() time.Time {
	t, _ := time.Parse(time.RFC3339, r.p.TokenExpiry)
	return t
}

// evidence turns r into a finding's evidence row with a note.
func (r *row) evidence(note string) wire.Evidence {
	e := wire.Evidence{Time: r.t, DeviceID: r.device, Operation: r.op, Reason: string(r.reason),
		ConnectionID: r.p.ConnectionID, MaskedIP: r.p.MaskedIP, Detail: r.p.Detail, Note: note}
	if r.code != 0 {
		e.ResultType = strconv.Itoa(int(r.code))
	}
	return e
}

// maxEvidence is how many rows a finding shows: the first few and the
// most recent.
const maxEvidence = 12

// withEvidence sets f's evidence to ev, keeping the first 4 and the last
// 8 when there are more than maxEvidence, and counting the rest in More.
func withEvidence(f wire.Finding, ev []wire.Evidence) wire.Finding {
	if ev == nil {
		ev = []wire.Evidence{}
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].Time.Before(ev[j].Time) })
	if len(ev) > maxEvidence {
		f.More = len(ev) - maxEvidence
		ev = append(ev[:4:4], ev[len(ev)-8:]...)
	}
	f.Evidence = ev
	return f
}

// catalogRef fills f's code and docs link from the catalog.
func catalogRef(f wire.Finding, code tether.ResultCode) wire.Finding {
	f.Code = int(code)
	f.Docs = code.Info().DocsLink()
	return f
}

// median returns the median of ds (0 for none).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// clustered returns how many of ds lie within tol (relative) of their
// median, and the median.
func clustered(ds []time.Duration, tol float64) (int, time.Duration) {
	m := median(ds)
	n := 0
	for _, d := range ds {
		if math.Abs(float64(d-m)) <= tol*float64(m) {
			n++
		}
	}
	return n, m
}

// round formats d for people: 59m58s, 1.5s, 230ms.
func round(d time.Duration) string {
	switch {
	case d >= time.Hour:
		d = d.Round(time.Minute)
		if d%time.Hour == 0 {
			return strings.TrimSuffix(d.String(), "0m0s")
		}
		return strings.TrimSuffix(d.String(), "0s")
	case d >= time.Minute:
		d = d.Round(time.Second)
		if d%time.Minute == 0 {
			return strings.TrimSuffix(d.String(), "0s")
		}
		return d.String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// nextConnect returns the first successful connect in rows after i, or nil.
func nextConnect(rows []*row, i int) *row {
	for _, r := range rows[i+1:] {
		if r.connected() {
			return r
		}
	}
	return nil
}
