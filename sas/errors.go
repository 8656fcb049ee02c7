package sas

import (
	"errors"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

// Errors returned by [ParseToken] and [Verify], wrapped with detail. Test
// for them with errors.Is.
var (
	ErrMalformed         = errors.New("sas: malformed token")
	ErrExpired           = errors.New("sas: token expired")
	ErrSignatureMismatch = errors.New("sas: signature mismatch")
	ErrAudience          = errors.New("sas: wrong audience")
	ErrUnknownPolicy     = errors.New("sas: unknown policy")
	ErrPermission        = errors.New("sas: permission denied")
)

// ExpiredError reports a token used after its expiry plus the allowed
// clock skew. It matches [ErrExpired].
type ExpiredError struct {
	Expiry time.Time     // the token's se
	Now    time.Time     // the server's time
	Skew   time.Duration // the allowed clock skew
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("sas: token expired at %s (server time %s, allowed clock skew %v)",
		e.Expiry.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339), e.Skew)
}

// Is reports whether target is [ErrExpired].
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// AudienceError reports a token whose resource does not cover what the
// caller wants to reach. It matches [ErrAudience].
type AudienceError struct {
	Got  string // the token's resource, decoded
	Want string // the target
}

func (e *AudienceError) Error() string {
	return fmt.Sprintf("sas: token is for %q, not %q", e.Got, e.Want)
}

// Is reports whether target is [ErrAudience].
func (e *AudienceError) Is(target error) bool { return target == ErrAudience }

// PermissionError reports a policy-signed token whose policy lacks a
// right the request needs. It matches [ErrPermission].
type PermissionError struct {
	Policy string        // the policy named by the token's skn
	Has    tether.Rights // the rights the policy grants
	Need   tether.Rights // the rights the request needs
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("sas: permission denied: policy %q grants %v but this needs %v (missing %v)",
		e.Policy, e.Has, e.Need, e.Need&^e.Has)
}

// Is reports whether target is [ErrPermission].
func (e *PermissionError) Is(target error) bool { return target == ErrPermission }
