package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// Fault is a misbehaviour injected into some devices.
type Fault string

const (
	FaultDrop         Fault = "drop"          // close the connection abruptly (no DISCONNECT) at random times
	FaultSilence      Fault = "silence"       // stop reading and writing but keep the socket: the hub's keep-alive timeout fires
	FaultFlap         Fault = "flap"          // connect, hold a few seconds, drop, again and again
	FaultDuplicate    Fault = "duplicate"     // two clients share one identity and take the connection from each other
	FaultWrongKey     Fault = "wrong-key"     // sign with a wrong key: refused with 401003, never retried
	FaultExpiredToken Fault = "expired-token" // sign tokens that expired 10 minutes ago: refused, never retried
	FaultClockSkew    Fault = "clock-skew"    // the device clock is 3 hours behind: every token is already expired
	FaultTokenExpiry  Fault = "token-expiry"  // do not renew: the hub cuts the connection when the token expires
	FaultDisabled     Fault = "disabled"      // the device is disabled in the registry while it keeps trying
	FaultNoJitter     Fault = "no-jitter"     // reconnect back-off without jitter (lock-step reconnects)
	FaultRotatedKey   Fault = "rotated-key"   // the key is changed in the registry while the device runs on the old one
)

// Faults lists every fault with what it does.
var Faults = []struct {
	Fault Fault
	Help  string
}{
	{FaultDrop, "close the connection abruptly (no DISCONNECT) about every --fault-interval; the hub logs 404104 connection_lost"},
	{FaultSilence, "go silent about every --fault-interval (stop reading and writing, keep the socket); the hub logs a keep-alive timeout after 1.5 x keep-alive"},
	{FaultFlap, "connect, hold a few seconds, drop; a reconnect loop"},
	{FaultDuplicate, "two clients with one identity: each connect takes over the other (400027)"},
	{FaultWrongKey, "a wrong key: CONNACK 5, 401003, not retried"},
	{FaultExpiredToken, "tokens that expired 10 minutes ago: 401003 credential_expired, not retried"},
	{FaultClockSkew, "a device clock 3 hours behind: every token is already expired (401003, clock skew)"},
	{FaultTokenExpiry, "no renewal before expiry: the hub closes the connection when the token (--token-lifetime) expires, plus its 5-minute skew allowance; the device reconnects"},
	{FaultDisabled, "the device is disabled in the registry for the run (restored after): CONNACK 3, retried with back-off"},
	{FaultRotatedKey, "after about --fault-interval connected, its key is changed in the registry (restored after the run) and its connection dropped: it reconnects with the old key, gets 401003 and gives up — auth failures after a stretch of success"},
	{FaultNoJitter, "drops like drop, and reconnects like naive firmware: back-off without jitter (exactly 100 ms, 200 ms, 400 ms … after failures in a row) that starts over at every connect, in lock-step with every other such device"},
}

// FaultSpec applies a fault to Count devices.
type FaultSpec struct {
	Fault Fault
	Count int
}

// ParseFault reads "NAME" (one device), "NAME:N" (N devices) or
// "NAME:P%" (P percent of devices, at least one).
func ParseFault(s string, devices int) (FaultSpec, error) {
	name, n, hasN := strings.Cut(s, ":")
	f := Fault(name)
	known := false
	var names []string
	for _, k := range Faults {
		names = append(names, string(k.Fault))
		known = known || k.Fault == f
	}
	if !known {
		return FaultSpec{}, fmt.Errorf("unknown fault %q; the faults are %s", name, strings.Join(names, ", "))
	}
	spec := FaultSpec{Fault: f, Count: 1}
	if !hasN {
		return spec, nil
	}
	if pct, ok := strings.CutSuffix(n, "%"); ok {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil || p <= 0 || p > 100 {
			return FaultSpec{}, fmt.Errorf("fault %q: %q is not a percentage in (0, 100]", s, n)
		}
		spec.Count = max(1, int(p*float64(devices)/100))
		return spec, nil
	}
	c, err := strconv.Atoi(n)
	if err != nil || c < 1 {
		return FaultSpec{}, fmt.Errorf("fault %q: %q is not a positive device count", s, n)
	}
	spec.Count = c
	return spec, nil
}
