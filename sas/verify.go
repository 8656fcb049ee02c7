package sas

import (
	"errors"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

// Credential is a pair of keys a token may be signed with: a shared
// access policy's, or a device's or module's own.
type Credential struct {
	Name         string        // the policy name, or the device (or "device/module") ID; used in errors
	PrimaryKey   tether.Secret // base64
	SecondaryKey tether.Secret // base64; either key is accepted, so keys can be rotated
	Rights       tether.Rights // what a policy grants; ignored for a device's own keys
}

// Request is what [Verify] checks a token against.
type Request struct {
	Token string
	Now   time.Time
	// Skew is how long after its expiry a token is still accepted.
	// Zero means DefaultSkew; a negative value means none.
	Skew time.Duration
	// Target is what the caller wants to reach, unescaped: the host name
	// for the service API, "host/devices/<id>" for a device, or
	// "host/devices/<id>/modules/<mid>" for a module.
	Target string
	// Need is the rights a policy-signed token (one with skn) must carry.
	Need tether.Rights
	// Policy looks up the policy a token's skn names. It returns an error
	// wrapping ErrUnknownPolicy if there is none. A nil Policy refuses
	// policy-signed tokens.
	Policy func(name string) (Credential, error)
	// Device returns the keys of the device or module named by Target,
	// for tokens without skn. A nil Device refuses such tokens.
	Device func() (Credential, error)
}

// Verify checks r.Token and returns it parsed. In order, it
//
//   - parses the token ([ErrMalformed]);
//   - looks up its keys: the policy named by skn through r.Policy, or else
//     the device's own through r.Device, whose errors are returned wrapped;
//   - checks the signature against the primary and the secondary key
//     ([ErrSignatureMismatch]);
//   - checks the expiry, allowing r.Skew ([*ExpiredError]);
//   - checks that the token covers r.Target ([*AudienceError]);
//   - for a policy-signed token, checks that the policy grants r.Need
//     ([*PermissionError]).
//
// A token with skn is a policy's, whatever its resource: a hub-level
// token of a policy with DeviceConnect covers every device. Which device
// it then acts as is for the caller to decide.
func Verify(r Request) (*Parsed, error) {
	if r.Now.IsZero() {
		// A zero time would pass every expiry check.
		return nil, errors.New("sas: verify: Request.Now is not set")
	}
	p, err := ParseToken(r.Token)
	if err != nil {
		return nil, err
	}
	cred, whose, err := credential(p, r)
	if err != nil {
		return nil, err
	}
	keys := []tether.Secret{cred.PrimaryKey, cred.SecondaryKey}
	if !p.signedWith(keys) {
		return nil, fmt.Errorf("%w: the token %s of %s", ErrSignatureMismatch, mismatch(keys), whose)
	}
	skew := r.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	if err := p.CheckExpiry(r.Now, skew); err != nil {
		return nil, err
	}
	if !p.Covers(r.Target) {
		return nil, &AudienceError{Got: p.Resource, Want: r.Target}
	}
	if p.KeyName != "" && !cred.Rights.Has(r.Need) {
		return nil, &PermissionError{Policy: p.KeyName, Has: cred.Rights, Need: r.Need}
	}
	return p, nil
}

// credential finds the keys p must be signed with and names their owner
// for error messages.
func credential(p *Parsed, r Request) (Credential, string, error) {
	if p.KeyName != "" {
		if r.Policy == nil {
			return Credential{}, "", fmt.Errorf("%w: the token is signed with policy %q, but only device keys are accepted here", ErrUnknownPolicy, p.KeyName)
		}
		c, err := r.Policy(p.KeyName)
		if err != nil {
			return Credential{}, "", fmt.Errorf("token signed with policy %q: %w", p.KeyName, err)
		}
		return c, fmt.Sprintf("policy %q", p.KeyName), nil
	}
	if r.Device == nil {
		return Credential{}, "", fmt.Errorf("%w: the token has no skn (it is signed with a device key), but only policy-signed tokens are accepted here", ErrUnknownPolicy)
	}
	c, err := r.Device()
	if err != nil {
		return Credential{}, "", fmt.Errorf("token signed with a device key: %w", err)
	}
	return c, fmt.Sprintf("device %q", c.Name), nil
}
