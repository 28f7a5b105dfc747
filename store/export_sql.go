package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/duckdb/duckdb-go/v2"
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
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Kept in step with QueryReadOnly: the settings are global to the database
	// instance and cannot be changed back once the configuration is locked.
	var locked bool
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('lock_configuration')").Scan(&locked); err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if !locked {
		for _, set := range []string{"SET enable_external_access = false", "SET lock_configuration = true"} {
			if _, err := conn.ExecContext(ctx, set); err != nil {
				return fmt.Errorf("%s: %w", set, err)
			}
		}
	}
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(*duckdb.Conn)
		if !ok {
			return errors.New("unexpected driver connection")
		}
		// Prepare refuses more than one statement, so a second, writing
		// statement cannot ride along behind a SELECT.
		st, err := dconn.Prepare(q)
		if err != nil {
			return translateQueryError(err)
		}
		defer st.Close()
		stmt, ok := st.(*duckdb.Stmt)
		if !ok {
			return errors.New("unexpected driver statement")
		}
		typ, err := stmt.StatementType()
		if err != nil {
			return translateQueryError(err)
		}
		if typ != duckdb.STATEMENT_TYPE_SELECT && typ != duckdb.STATEMENT_TYPE_EXPLAIN {
			return fmt.Errorf("%w: only SELECT (and EXPLAIN) statements are allowed", ErrWriteRefused)
		}
		rows, err := stmt.QueryContext(ctx, nil)
		if err != nil {
			return translateQueryError(err)
		}
		defer rows.Close()
		names := rows.Columns()
		cols := make([]ResultColumn, len(names))
		typed, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
		for i, n := range names {
			cols[i].Name = n
			if typed != nil {
				cols[i].Type = typed.ColumnTypeDatabaseTypeName(i)
			}
		}
		if err := fn(cols, nil); err != nil {
			return err
		}
		vals := make([]driver.Value, len(cols))
		out := make([]any, len(cols))
		for {
			if err := rows.Next(vals); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return translateQueryError(err)
			}
			for i, v := range vals {
				out[i] = v
			}
			if err := fn(cols, out); err != nil {
				return err
			}
		}
	})
}
