package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/auditlens/auditlens/store"
)

// Exit codes: a public contract for scripts, documented in README.md.
const (
	exitOK          = 0 // success, nothing lost or quarantined
	exitError       = 1 // the command failed (message on stderr)
	exitUsage       = 2 // bad flags, arguments or configuration
	exitFindings    = 3 // findings: a finding of severity high or above exists
	exitQuarantined = 4 // finished, but objects or records were quarantined, or records are missing (gaps)
	exitVerify      = 5 // verify / verify-export: the evidence does not match
	exitLocked      = 6 // the case file is held by another process
)

// exitErr carries an exit code through cobra's error path.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitErr) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitErr{code: code, err: err} }

// usageError marks a problem with what the user typed.
func usageError(format string, a ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, a...))
}

// report prints err once, in one place, and maps it to an exit code.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	code := exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	} else if errors.Is(err, store.ErrLocked) {
		code = exitLocked
	}
	fmt.Fprintln(stderr, "auditlens:", err)
	return code
}
