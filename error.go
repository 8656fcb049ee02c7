package tether

import (
	"errors"
	"fmt"
)

// Kind classifies an error for control flow. Append new kinds at the end;
// never reorder them.
type Kind int

const (
	KindInternal     Kind = iota // a fault of the hub itself
	KindInvalid                  // the request or input is malformed
	KindNotFound                 // the entity does not exist
	KindConflict                 // the entity already exists
	KindUnauthorized             // missing or bad credentials
	KindForbidden                // credentials are fine but lack a right
	KindPrecondition             // an If-Match ETag is stale
	KindThrottled                // a rate limit was hit
	KindUnavailable              // the target is offline or the hub is busy
	KindTooLarge                 // a message or body is over its limit
	KindTimeout                  // the operation did not finish in time
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "unauthorized",
	"forbidden", "precondition failed", "throttled", "unavailable", "too large", "timeout"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Error is the hub's one error type. Message is safe to show to the
// caller; Err, if set, is the underlying cause for the operator's log.
type Error struct {
	Kind    Kind
	Code    ResultCode // Azure result code; zero means "derive from Kind"
	Message string
	Err     error
}

// Errorf returns an *Error of the given code, whose Kind follows from the
// code's HTTP status class.
func Errorf(code ResultCode, format string, args ...any) *Error {
	return &Error{Kind: code.Kind(), Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the Azure result code of err: the Code of the first
// *Error in its chain, or 500001 ServerError for anything else.
func ErrorCode(err error) ResultCode {
	var e *Error
	if errors.As(err, &e) {
		if e.Code != 0 {
			return e.Code
		}
		return e.Kind.defaultCode()
	}
	return ServerError
}

// ErrorKind returns the Kind of the first *Error in err's chain, or
// KindInternal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorMessage returns the caller-safe message of err: the Message of the
// first *Error in its chain, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

func (k Kind) defaultCode() ResultCode {
	switch k {
	case KindInvalid:
		return ArgumentInvalid
	case KindNotFound:
		return DeviceNotFound
	case KindConflict:
		return DeviceAlreadyExists
	case KindUnauthorized:
		return IoTHubUnauthorized
	case KindForbidden:
		return IoTHubUnauthorizedAccess
	case KindPrecondition:
		return PreconditionFailed
	case KindThrottled:
		return ThrottlingException
	case KindUnavailable:
		return ServiceUnavailable
	case KindTooLarge:
		return MessageTooLarge
	case KindTimeout:
		return GatewayTimeout
	}
	return ServerError
}
