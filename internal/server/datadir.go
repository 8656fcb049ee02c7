package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// prepareDataDir makes sure dir exists and is writable, with advice when
// it is not.
func prepareDataDir(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("data folder %s is a file, not a folder; choose another with --data", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("data folder %s cannot be created: permission denied; choose another with --data or fix the owner of its parent", dir)
		}
		return fmt.Errorf("data folder %s cannot be created (%w); choose another with --data", dir, err)
	}
	probe := filepath.Join(dir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return fmt.Errorf("data folder %s is not writable (%v); fix its permissions or choose another with --data", dir, errors.Unwrap(err))
	}
	return os.Remove(probe)
}

// storePath is where the SQLite store lives in the data folder.
func storePath(dir string) string { return filepath.Join(dir, "tether.db") }
