package store

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinel errors; the CLI and the explorer translate them into messages and
// exit codes in one place.
var (
	// ErrLocked: another process holds the case file open for writing.
	ErrLocked = errors.New("case file is locked by another process")
	// ErrNotCaseFile: the file exists but is not a DuckDB database.
	ErrNotCaseFile = errors.New("not a DuckDB case file")
	// ErrSchemaTooNew: the file was written by a newer auditlens.
	ErrSchemaTooNew = errors.New("case file schema is newer than this binary")
	// ErrNotFound: the case file or the asked row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrReadOnly: a write was attempted on a read-only case file.
	ErrReadOnly = errors.New("case file is open read-only")
	// ErrEncrypted: the key is missing or wrong, or a key was given for a plain file.
	ErrEncrypted = errors.New("case file encryption key problem")
)

// LockError names the file and the process holding it.
type LockError struct {
	Path   string
	PID    string
	Holder string
}

func (e *LockError) Error() string {
	who := "another process"
	if e.PID != "" {
		who = "process " + e.PID
		if e.Holder != "" {
			who += " (" + e.Holder + ")"
		}
	}
	return fmt.Sprintf("case file %s is open for writing by %s; wait for it to finish or stop it, or open this file with --read-only once it is closed", e.Path, who)
}

func (e *LockError) Unwrap() error { return ErrLocked }

var lockHolderRE = regexp.MustCompile(`Conflicting lock is held in (.*?) \(PID (\d+)\)`)

func translateOpenError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock"):
		le := &LockError{Path: path}
		if m := lockHolderRE.FindStringSubmatch(msg); m != nil {
			le.Holder, le.PID = m[1], m[2]
		}
		return le
	case strings.Contains(msg, "Corrupt database file") || strings.Contains(msg, "checksum"):
		return fmt.Errorf("case file %s is damaged (%v); restore it from a copy, or re-create it with sync: the sources still hold the evidence: %w", path, err, ErrNotCaseFile)
	case strings.Contains(msg, "not a valid DuckDB database file"):
		return fmt.Errorf("%s is not an auditlens case file (not a DuckDB database); pass another --db path: %w", path, ErrNotCaseFile)
	case strings.Contains(msg, "httpfs") || strings.Contains(msg, "read-only crypto"):
		return fmt.Errorf("case file %s: writing an encrypted case file needs DuckDB's httpfs extension (OpenSSL), which is not installed; "+
			"install it once with network access (duckdb -c 'INSTALL httpfs', or any DuckDB 1.5 client), or copy httpfs.duckdb_extension "+
			"into ~/.duckdb/extensions/v1.5.6/<platform>/; auditlens never writes with DuckDB's insecure fallback: %w", path, ErrEncrypted)
	case strings.Contains(msg, "is not encrypted"):
		return fmt.Errorf("case file %s is not encrypted; open it without an encryption key: %w", path, ErrEncrypted)
	case strings.Contains(strings.ToLower(msg), "encrypt") || strings.Contains(msg, "wrong key") || strings.Contains(msg, "decrypt"):
		return fmt.Errorf("case file %s: cannot open with the given encryption key (missing or wrong key): %w", path, ErrEncrypted)
	}
	return fmt.Errorf("open case file %s: %w", path, err)
}
