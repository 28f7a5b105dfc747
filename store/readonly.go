package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// ErrWriteRefused: a statement given to QueryReadOnly tried to write.
var ErrWriteRefused = errors.New("statement would write; auditlens sql only reads the case file")

// QueryReadOnly runs a user's SQL for reading only. It requires a store opened
// with ReadOnly (so DuckDB itself refuses writes to the case file) and also
// locks the session's configuration with external access off, so the statement
// cannot attach the file again writable, write other files or load extensions.
// fn is called with the column names first (row == nil), then once per row.
func (s *Store) QueryReadOnly(ctx context.Context, q string, fn func(cols []string, row []any) error) error {
	if !s.readOnly {
		return errors.New("QueryReadOnly needs a case file opened read-only")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Both settings are global to the database instance and cannot be changed
	// back once the configuration is locked, so apply them once.
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
		// Prepare refuses more than one statement, so "SELECT 1; DELETE …" cannot
		// smuggle a write past the type check below.
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
		cols := rows.Columns()
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

func translateQueryError(err error) error {
	msg := err.Error()
	for _, s := range []string{"read-only mode", "read only", "lock_configuration", "external access", "Cannot change configuration", "disabled by configuration"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("%w (%v)", ErrWriteRefused, err)
		}
	}
	return fmt.Errorf("query: %w", err)
}

// AddNote stores a case note or bookmark on an event (eventID 0: a note on the case).
func (s *Store) AddNote(ctx context.Context, eventID int64, kind, text, author string) (int64, error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	var id int64
	var ev any
	if eventID != 0 {
		ev = eventID
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO notes (event_id, kind, text, author) VALUES (?, ?, ?, ?) RETURNING note_id`,
		ev, kind, text, nullStr(author)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("add note: %w", err)
	}
	return id, nil
}

// Note is a case note or bookmark.
type Note struct {
	ID, EventID        int64
	Kind, Text, Author string
}

// Notes lists notes, newest first.
func (s *Store) Notes(ctx context.Context) ([]Note, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT note_id, coalesce(event_id, 0), kind, coalesce(text, ''), coalesce(author, '') FROM notes ORDER BY note_id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.EventID, &n.Kind, &n.Text, &n.Author); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
