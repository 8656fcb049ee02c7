package tether

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// MaxDeviceIDLength is the longest device ID the hub accepts.
const MaxDeviceIDLength = 128

// deviceIDPunct are the punctuation characters Azure allows in device IDs,
// less '+' and '#', which are MQTT wildcards and unsupported by the SDKs.
const deviceIDPunct = "-:.%_*?!(),=@;$'"

// ValidateDeviceID reports whether id is a legal device (or module) ID:
// 1 to 128 characters from A–Z a–z 0–9 and - : . % _ * ? ! ( ) , = @ ; $ '.
// IDs are case-sensitive.
func ValidateDeviceID(id string) error {
	if id == "" {
		return Errorf(ArgumentInvalid, "device ID is empty")
	}
	if len(id) > MaxDeviceIDLength {
		return Errorf(ArgumentInvalid, "device ID is %d characters long; the limit is %d", len(id), MaxDeviceIDLength)
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c < 128 && strings.ContainsRune(deviceIDPunct, c):
		case c == '+' || c == '#':
			return Errorf(ArgumentInvalid, "device ID %q has %q at offset %d: '+' and '#' are MQTT wildcards and are not supported", id, c, i)
		default:
			return Errorf(ArgumentInvalid, "device ID %q has %q at offset %d; allowed are letters, digits and %s", id, c, i, deviceIDPunct)
		}
	}
	return nil
}

// Key lengths accepted for symmetric keys, in decoded bytes.
const (
	MinKeyBytes = 16
	MaxKeyBytes = 64
)

// DecodeKey decodes a base64 symmetric key and checks its length.
func DecodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, Errorf(ArgumentInvalid, "key is not valid base64: %v", err)
	}
	if len(b) < MinKeyBytes || len(b) > MaxKeyBytes {
		return nil, Errorf(ArgumentInvalid, "key is %d bytes long once decoded; it must be %d to %d bytes", len(b), MinKeyBytes, MaxKeyBytes)
	}
	return b, nil
}

// Status says whether a device may connect.
type Status string

const (
	StatusEnabled  Status = "enabled"
	StatusDisabled Status = "disabled"
)

// ConnectionState is whether a device has a live connection.
type ConnectionState string

const (
	Connected    ConnectionState = "Connected"
	Disconnected ConnectionState = "Disconnected"
)

// AuthType is how a device authenticates.
type AuthType string

const (
	AuthSAS        AuthType = "sas"
	AuthSelfSigned AuthType = "selfSigned"
	AuthCA         AuthType = "certificateAuthority"
	AuthNone       AuthType = "none"
)

// Authentication holds a device's credentials. Keys are base64.
type Authentication struct {
	Type                AuthType
	PrimaryKey          Secret
	SecondaryKey        Secret
	PrimaryThumbprint   string
	SecondaryThumbprint string
}

// Device is an identity in the registry.
type Device struct {
	ID           string
	GenerationID string
	// Version counts writes to the device; the ETag is derived from it.
	Version                    int64
	Status                     Status
	StatusReason               string
	StatusUpdatedTime          time.Time
	ConnectionState            ConnectionState
	ConnectionStateUpdatedTime time.Time
	LastActivityTime           time.Time
	CloudToDeviceMessageCount  int
	Auth                       Authentication
	IoTEdge                    bool
	// LastDisconnect is why and when the device last lost its connection.
	LastDisconnect Disconnect
}

// Disconnect is the end of a device's connection: when, why, and the
// Azure result code logged for it.
type Disconnect struct {
	Time   time.Time
	Reason Reason
	Code   ResultCode
}

// MaxStatusReasonLength is the longest status reason the hub keeps.
const MaxStatusReasonLength = 128

// ETag returns the device's ETag value (unquoted): base64 of its version
// as a decimal string, as Azure writes it ("MA==" for 0).
func (d Device) ETag() string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(d.Version)))
}

// Validate checks the fields a caller may set.
func (d Device) Validate() error {
	if err := ValidateDeviceID(d.ID); err != nil {
		return err
	}
	switch d.Status {
	case StatusEnabled, StatusDisabled:
	default:
		return Errorf(ArgumentInvalid, "status %q is not valid; use \"enabled\" or \"disabled\"", d.Status)
	}
	if len(d.StatusReason) > MaxStatusReasonLength {
		return Errorf(ArgumentInvalid, "statusReason is %d characters long; the limit is %d", len(d.StatusReason), MaxStatusReasonLength)
	}
	a := d.Auth
	switch a.Type {
	case AuthSAS:
		for _, k := range []struct {
			name string
			v    Secret
		}{{"primaryKey", a.PrimaryKey}, {"secondaryKey", a.SecondaryKey}} {
			if _, err := DecodeKey(k.v.Reveal()); err != nil {
				return Errorf(ArgumentInvalid, "authentication.symmetricKey.%s: %s", k.name, ErrorMessage(err))
			}
		}
	case AuthSelfSigned:
		if a.PrimaryThumbprint == "" || a.SecondaryThumbprint == "" {
			return Errorf(ArgumentInvalid, "authentication type selfSigned needs both x509Thumbprint.primaryThumbprint and secondaryThumbprint")
		}
		for _, t := range []string{a.PrimaryThumbprint, a.SecondaryThumbprint} {
			if !isThumbprint(t) {
				return Errorf(ArgumentInvalid, "x509 thumbprint %q is not a SHA-1 (40) or SHA-256 (64) hex digest", t)
			}
		}
	case AuthCA, AuthNone:
	default:
		return Errorf(ArgumentInvalid, "authentication type %q is not valid; use sas, selfSigned, certificateAuthority or none", a.Type)
	}
	return nil
}

func isThumbprint(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
