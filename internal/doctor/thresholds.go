package doctor

import "time"

// Thresholds are the detectors' limits; docs/diagnose.md explains each.
type Thresholds struct {
	// Periodic is the relative spread within which intervals count as
	// "the same" (0.15: within 15% of their median).
	Periodic float64
	// MinRepeats is how many occurrences make a pattern (3).
	MinRepeats int
	// RenewalGap is how soon a reconnect must follow a clean disconnect
	// for the pair to be a token renewal (1 minute).
	RenewalGap time.Duration
	// ShortConnection is the longest connection a reconnect loop counts
	// as a flap (2 minutes).
	ShortConnection time.Duration
	// FlapWarning and FlapError are the flaps in any one hour that make a
	// reconnect loop a warning (6) and an error (30).
	FlapWarning, FlapError int
	// JitterTolerance is how close retry intervals must be to a fixed
	// value or an exact multiple of the previous one to count as having
	// no jitter (0.06: 6%).
	JitterTolerance float64
	// FleetDevices and FleetFraction: a fleet-wide drop is at least this
	// many devices (5), and this share of the devices seen (0.3), dropping
	// within FleetWindow (1 minute).
	FleetDevices  int
	FleetFraction float64
	FleetWindow   time.Duration
	// StormAttempts is the connection attempts in one minute that make a
	// connect storm (100), if also StormFactor (5) times the window's
	// average per minute.
	StormAttempts int
	StormFactor   float64
	// StormDevices is how many distinct devices must try in that minute
	// (20): one device's loop is not a storm.
	StormDevices int
	// SilentAfter is how long a connected device may send nothing before
	// it is reported silent (1 hour).
	SilentAfter time.Duration
}

// DefaultThresholds are the limits Tether ships with.
func DefaultThresholds() Thresholds {
	return Thresholds{
		Periodic: 0.15, MinRepeats: 3, RenewalGap: time.Minute, ShortConnection: 2 * time.Minute,
		FlapWarning: 6, FlapError: 30, JitterTolerance: 0.06,
		FleetDevices: 5, FleetFraction: 0.3, FleetWindow: time.Minute,
		StormAttempts: 100, StormFactor: 5, StormDevices: 20, SilentAfter: time.Hour,
	}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	pick := func(v *float64, def float64) {
		if *v <= 0 {
			*v = def
		}
	}
	pickI := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pickD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&t.Periodic, d.Periodic)
	pick(&t.JitterTolerance, d.JitterTolerance)
	pick(&t.FleetFraction, d.FleetFraction)
	pick(&t.StormFactor, d.StormFactor)
	pickI(&t.MinRepeats, d.MinRepeats)
	pickI(&t.FlapWarning, d.FlapWarning)
	pickI(&t.FlapError, d.FlapError)
	pickI(&t.FleetDevices, d.FleetDevices)
	pickI(&t.StormAttempts, d.StormAttempts)
	pickI(&t.StormDevices, d.StormDevices)
	pickD(&t.RenewalGap, d.RenewalGap)
	pickD(&t.ShortConnection, d.ShortConnection)
	pickD(&t.FleetWindow, d.FleetWindow)
	pickD(&t.SilentAfter, d.SilentAfter)
	return t
}
