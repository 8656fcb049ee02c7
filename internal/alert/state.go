package alert

import "time"

// State is where a rule is in its life cycle.
type State string

// The states. Resolved behaves as Inactive, but says the rule fired.
const (
	Inactive State = "Inactive"
	Pending  State = "Pending"
	Fired    State = "Fired"
	Resolved State = "Resolved"
)

// Status is a rule's state and what led to it. It is stored, so that a
// restarted hub neither forgets a firing alert nor fires it twice.
type Status struct {
	State   State     `json:"state"`
	Since   time.Time `json:"since"`
	Met     int       `json:"met"` // evaluations in a row whose condition held
	FiredAt time.Time `json:"firedAt,omitzero"`
}

// Outcome is what one evaluation found.
type Outcome struct {
	Met         bool
	Value       float64 // the aggregated value (metric) or the row count / column aggregate (log)
	Threshold   float64 // the threshold compared against (for dropPercent, the previous window's value less X%)
	ResultCount int64   // log rules: rows returned
}

// Step moves s by one evaluation whose condition held (met) or not, at
// now, and reports whether the state changed. It is pure.
func Step(s Status, met bool, pending int, autoResolve bool, now time.Time) (Status, bool) {
	if pending < 1 {
		pending = 1
	}
	next := s
	if met {
		next.Met++
	} else {
		next.Met = 0
	}
	switch s.State {
	case Inactive, Resolved, "":
		if met {
			next.State = Pending
			if next.Met >= pending {
				next.State, next.FiredAt = Fired, now
			}
		}
	case Pending:
		switch {
		case !met:
			next.State = Inactive
		case next.Met >= pending:
			next.State, next.FiredAt = Fired, now
		}
	case Fired:
		if !met && autoResolve {
			next.State = Resolved
		}
	}
	if next.State == "" {
		next.State = Inactive
	}
	changed := next.State != s.State && !(s.State == "" && next.State == Inactive)
	if changed {
		next.Since = now
	}
	return next, changed
}
