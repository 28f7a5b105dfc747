package store

import (
	"context"
	"errors"
)

// SQL returns the filter as a WHERE condition over the events table (without
// the keyword; "true" when empty) and the values to bind to its placeholders.
// Packages that build their own queries over events (export) use it so a
// filter means the same everywhere; no filter value is ever part of the text.
func (f Filter) SQL() (string, []any) { return f.where("") }

// ResultColumn is one column of a read-only query's result.
type ResultColumn struct {
	Name string
	// Type is DuckDB's name of the column type (VARCHAR, TIMESTAMPTZ, VARCHAR[],
	// DECIMAL(18,3), STRUCT(…), ENUM, …).
	Type string
}

// QueryReadOnlyTyped runs a user's SQL under the same guard as QueryReadOnly
// (case file opened read-only, configuration locked with external access off,
// exactly one SELECT or EXPLAIN statement) and also reports each column's type,
// which exporters need to rebuild the result elsewhere. fn is called with the
// columns first (row == nil), then once per row; row is reused between calls.
func (s *Store) QueryReadOnlyTyped(ctx context.Context, q string, fn func(cols []ResultColumn, row []any) error) error {
	if !s.readOnly {
		return errors.New("a SQL export needs the case file opened read-only")
	}
	return s.runGuarded(ctx, q, guard{lock: true, explain: true}, fn)
}
