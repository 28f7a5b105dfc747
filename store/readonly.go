package store

import (
	"context"
	"database/sql"
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
	var names []string
	return s.runGuarded(ctx, q, guard{lock: true, explain: true}, func(cols []ResultColumn, row []any) error {
		if row == nil {
			names = make([]string, len(cols))
			for i, c := range cols {
				names[i] = c.Name
			}
		}
		return fn(names, row)
	})
}

// guard says how runGuarded protects the case file from a user's statement.
type guard struct {
	lock       bool // lock the session: external access off, configuration locked
	readOnlyTx bool // run inside a READ ONLY transaction that is rolled back
	explain    bool // allow EXPLAIN besides SELECT
	// bind returns the statement's arguments (nil: it takes none).
	bind func(*duckdb.Stmt) ([]driver.NamedValue, error)
}

// runGuarded is the one place user-written SQL runs: Prepare refuses more than
// one statement (so "SELECT 1; DELETE …" cannot smuggle a write past the type
// check), the statement type is checked before anything runs, and the session
// is locked as g says. fn gets the columns first (row == nil), then each row;
// row is reused between calls.
func (s *Store) runGuarded(ctx context.Context, q string, g guard, fn func(cols []ResultColumn, row []any) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if g.lock {
		if err := s.lockSession(ctx, conn); err != nil {
			return err
		}
	}
	if g.readOnlyTx {
		if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
			return fmt.Errorf("begin read-only transaction: %w", err)
		}
		// Rolled back on a fresh context: the caller's may be cancelled already,
		// and the connection goes back to the pool.
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") }()
	}
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(*duckdb.Conn)
		if !ok {
			return errors.New("unexpected driver connection")
		}
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
		switch {
		case typ == duckdb.STATEMENT_TYPE_SELECT:
		case typ == duckdb.STATEMENT_TYPE_EXPLAIN && g.explain:
		case g.explain:
			return fmt.Errorf("%w: only SELECT (and EXPLAIN) statements are allowed", ErrWriteRefused)
		default:
			return fmt.Errorf("%w: only a SELECT statement is allowed", ErrWriteRefused)
		}
		var args []driver.NamedValue
		if g.bind != nil {
			if args, err = g.bind(stmt); err != nil {
				return err
			}
		}
		rows, err := stmt.QueryContext(ctx, args)
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

// lockSession turns external access off and locks the configuration. Both
// settings are global to the database instance and cannot be changed back
// once the configuration is locked, so they are applied once; the mutex keeps
// two first queries from both seeing "unlocked" and the second one failing.
func (s *Store) lockSession(ctx context.Context, conn *sql.Conn) error {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	var locked bool
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('lock_configuration')").Scan(&locked); err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if locked {
		return nil
	}
	for _, set := range []string{"SET enable_external_access = false", "SET lock_configuration = true"} {
		if _, err := conn.ExecContext(ctx, set); err != nil {
			return fmt.Errorf("%s: %w", set, err)
		}
	}
	return nil
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
