package portal

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultIterations is the PBKDF2-SHA256 work factor of new password
// hashes (OWASP's 2023 advice).
const DefaultIterations = 600_000

// Passwords keeps the portal's admin password, hashed, in one file
// under the data folder. The file is read at every check, so a reset
// takes effect at once, even in a running hub.
type Passwords struct {
	path       string
	iterations int
}

// NewPasswords keeps the admin password in path; iterations 0 means
// DefaultIterations.
func NewPasswords(path string, iterations int) *Passwords {
	if iterations <= 0 {
		iterations = DefaultIterations
	}
	return &Passwords{path: path, iterations: iterations}
}

// Ensure creates an admin password if there is none yet and returns it;
// it returns "" when one already exists.
func (p *Passwords) Ensure() (string, error) {
	if _, err := os.Stat(p.path); err == nil {
		return "", nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("portal password: %w", err)
	}
	return p.Reset()
}

// Reset replaces the admin password with a new random one and returns it.
func (p *Passwords) Reset() (string, error) {
	b := make([]byte, 18)
	rand.Read(b)
	pw := base64.RawURLEncoding.EncodeToString(b)
	return pw, p.Set(pw)
}

// Set stores pw's hash, replacing the file atomically.
func (p *Passwords) Set(pw string) error {
	if len(pw) < 12 {
		return errors.New("portal password: at least 12 characters")
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, pw, salt, p.iterations, 32)
	if err != nil {
		return fmt.Errorf("portal password: %w", err)
	}
	line := fmt.Sprintf("pbkdf2-sha256$%d$%s$%s\n", p.iterations,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return fmt.Errorf("portal password: %w", err)
	}
	tmp := p.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(line), 0o600); err != nil {
		return fmt.Errorf("portal password: %w", err)
	}
	if err := os.Rename(tmp, p.path); err != nil {
		return fmt.Errorf("portal password: %w", err)
	}
	return nil
}

// Check reports whether pw is the admin password. No password file means
// no password matches.
func (p *Passwords) Check(pw string) (bool, error) {
	b, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("portal password: %w", err)
	}
	f := strings.Split(strings.TrimSpace(string(b)), "$")
	if len(f) != 4 || f[0] != "pbkdf2-sha256" {
		return false, fmt.Errorf("portal password: %s is not a pbkdf2-sha256 hash; reset it with tether portal reset-password", p.path)
	}
	iter, err1 := strconv.Atoi(f[1])
	salt, err2 := base64.RawStdEncoding.DecodeString(f[2])
	want, err3 := base64.RawStdEncoding.DecodeString(f[3])
	if err := errors.Join(err1, err2, err3); err != nil || iter < 1 || iter > 10_000_000 || len(want) == 0 {
		return false, fmt.Errorf("portal password: %s is damaged; reset it with tether portal reset-password", p.path)
	}
	got, err := pbkdf2.Key(sha256.New, pw, salt, iter, len(want))
	if err != nil {
		return false, fmt.Errorf("portal password: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
