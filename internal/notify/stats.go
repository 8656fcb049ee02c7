package notify

import (
	"slices"
	"strings"
)

// Count is how many attempts to one kind of receiver had one outcome
// since the dispatcher started (tests included).
type Count struct {
	Receiver string // webhook, alertmanager or email
	Outcome  string // delivered, retry, dead or failed
	N        int64
}

// count adds one attempt.
func (d *Dispatcher) count(kind, outcome string) {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	d.counts[kind+" "+outcome]++
}

// Counts returns the attempts by receiver kind and outcome, sorted: for
// /metrics.
func (d *Dispatcher) Counts() []Count {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	out := make([]Count, 0, len(d.counts))
	for k, n := range d.counts {
		kind, outcome, _ := strings.Cut(k, " ")
		out = append(out, Count{Receiver: kind, Outcome: outcome, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return strings.Compare(a.Receiver+" "+a.Outcome, b.Receiver+" "+b.Outcome)
	})
	return out
}
