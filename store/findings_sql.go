package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// ErrUnknownParameter: a statement given to QueryNamedReadOnly uses a $name
// that the caller did not provide.
var ErrUnknownParameter = errors.New("unknown parameter")

// QueryNamedReadOnly runs one SELECT written by a user (a findings rule) with
// named parameters ($name), for reading only, on a case file opened either
// way:
//
//   - the statement must be exactly one SELECT (Prepare refuses a second
//     statement, and the statement type is checked before it runs);
//   - it runs inside a READ ONLY transaction that is rolled back afterwards,
//     so it cannot write to the case file even when the explorer has it open
//     read-write (nextval, CREATE TEMP … are refused too);
//   - when the case file was opened read-only, the session is also locked the
//     way QueryReadOnly locks it (external access off, configuration locked).
//     On a read-write case file the configuration is left alone, because the
//     explorer's writer and exports need it; a rule can then read, but not
//     write, files the user can read.
//
// Every $name the statement uses must be a key of params (ErrUnknownParameter
// otherwise; positional parameters are refused); params the statement does
// not use are ignored. Values are bound, never spliced into the text. fn is
// called with the columns first (row == nil), then once per row; row is
// reused between calls.
func (s *Store) QueryNamedReadOnly(ctx context.Context, q string, params map[string]any, fn func(cols []ResultColumn, row []any) error) error {
	return s.runGuarded(ctx, q, guard{lock: s.readOnly, readOnlyTx: true,
		bind: func(stmt *duckdb.Stmt) ([]driver.NamedValue, error) { return bindNamed(stmt, params) }}, fn)
}

// bindNamed returns, in the statement's parameter order, the values of the
// $names it uses. The driver falls back to position for a name it cannot
// find, so an unknown name must be refused here rather than bound to
// whatever value happens to sit at its index.
func bindNamed(stmt *duckdb.Stmt, params map[string]any) ([]driver.NamedValue, error) {
	n := stmt.NumInput()
	args := make([]driver.NamedValue, 0, n)
	var unknown []string
	for i := 1; i <= n; i++ {
		name, err := stmt.ParamName(i)
		if err != nil {
			return nil, fmt.Errorf("parameter %d: %w", i, err)
		}
		v, ok := params[name]
		if !ok {
			unknown = append(unknown, "$"+name)
			continue
		}
		args = append(args, driver.NamedValue{Name: name, Ordinal: i, Value: v})
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(params))
		for k := range params {
			known = append(known, "$"+k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("%w %s (known: %s)", ErrUnknownParameter, strings.Join(slices.Compact(slices.Sorted(slices.Values(unknown))), ", "), strings.Join(known, ", "))
	}
	return args, nil
}

// IntervalParam returns d as a value that binds as a DuckDB INTERVAL, for
// packages that bind durations without importing the driver.
func IntervalParam(d time.Duration) any { return duckdb.Interval{Micros: d.Microseconds()} }
