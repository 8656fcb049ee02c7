package tether

import (
	"fmt"
	"log/slog"
)

// Secret is a string that must never reach a log: a symmetric key, a
// token or a connection string. Its String and LogValue hide the value;
// call Reveal where the value is really needed (signing, an authorised
// API response). JSON encoding keeps the value, so types that carry a
// Secret are only marshalled on paths that are allowed to show it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return fmt.Sprintf("tether.Secret(%q)", s.String()) }

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
