package device

import (
	"fmt"
	"time"
)

// Status is where the connection stands.
type Status int

const (
	Connecting   Status = iota // dialling, or waiting to retry
	Connected                  // CONNACK accepted
	Disconnected               // the connection dropped or was refused; a retry may follow
	Closed                     // Close was called, or the client gave up; final
)

func (s Status) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ConnectionState is what OnConnectionState receives.
type ConnectionState struct {
	Status Status
	Time   time.Time
	// Renewal says a disconnect or connect is the planned token renewal
	// (MQTT 3.1.1 cannot change a token in-band, so the client sends
	// DISCONNECT and connects again with a new token).
	Renewal bool
	// Err explains a Disconnected or Closed state: Err.Code is the
	// catalog entry. nil for a clean close or a renewal.
	Err *Error
	// Attempt counts failed attempts in a row; RetryIn is the back-off
	// before the next one (0 when none will follow).
	Attempt int
	RetryIn time.Duration
	// SessionPresent is the CONNACK flag: the hub kept the subscriptions
	// of the previous connection.
	SessionPresent bool
}

// Explain says in words what the state means, using the catalog.
func (s ConnectionState) Explain() string {
	msg := s.Status.String()
	if s.Renewal {
		msg += " (token renewal)"
	}
	if s.Err != nil {
		info := s.Err.Code.Info()
		msg += fmt.Sprintf(": %s: %s", s.Err.Code, info.Meaning)
		if s.Err.Detail != "" {
			msg += " — " + s.Err.Detail
		}
	}
	if s.RetryIn > 0 {
		msg += fmt.Sprintf("; retry %d in %v", s.Attempt, s.RetryIn.Round(time.Millisecond))
	} else if s.Err != nil && s.Status == Closed {
		msg += "; not retried"
	}
	return msg
}
