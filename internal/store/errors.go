package store

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrNewerSchema is matched (with errors.Is) by the error [Open]
	// returns for a database written by a newer Tether.
	ErrNewerSchema = errors.New("store: database schema is newer than this build")
	// ErrCorrupt is matched (with errors.Is) by the error [Open] returns
	// for a file that is not a readable Tether database.
	ErrCorrupt = errors.New("store: not a readable Tether database")
)

// kindError is an error with its own message that matches a sentinel and
// wraps its cause.
type kindError struct {
	msg  string
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.msg }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

func newerSchemaError(path string, have, know int) error {
	return &kindError{
		msg: fmt.Sprintf("store %s was written by a newer Tether (schema version %d; this build knows up to %d): "+
			"upgrade tether, or point --data at another folder", path, have, know),
		kind: ErrNewerSchema,
	}
}

func corruptError(path string, err error) error {
	return &kindError{
		msg: fmt.Sprintf("store %s is not a readable Tether database (corrupt or not SQLite): %v; "+
			"move it aside to start fresh", path, err),
		kind: ErrCorrupt,
		err:  err,
	}
}

// openError explains an error met while opening or migrating the store.
func openError(path string, err error) error {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return corruptError(path, err)
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_AUTH:
		return fmt.Errorf("store %s cannot be opened for reading and writing "+
			"(check the permissions of the file and its folder): %w", path, err)
	}
	return fmt.Errorf("open store %s: %w", path, err)
}

// sqliteCode returns the extended SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}
