package export

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/export/sqllex"
)

// viewColumns are the columns of the public audit_events view, in its order:
// a filter export has exactly these.
var viewColumns = []string{"event_id", "source", "cluster", "instance", "log_time", "session_id", "statement_id",
	"substatement_id", "audit_type", "class", "command", "object_type", "object_name", "statement", "params",
	"row_count", "database_name", "user_name", "application_name", "remote_host", "remote_port", "pid",
	"error_message", "exit_code", "object_ref"}

// objectIDColumn is the hidden column of a filter export's snapshot that ties
// each row to its source object; it is never written to the export.
const objectIDColumn = "__auditlens_object_id"

// table is the snapshot an export writes from: a temp table on the store's
// connection (filter exports), or a table in a private in-memory database
// (SQL exports, and Parquet from a session whose file access is locked). The
// manifest is computed from the same snapshot, so it describes exactly the
// rows written even while the case file grows.
type table struct {
	conn *sql.Conn
	// ref is the relation rows are read from: a table name, or a subquery
	// over events whose placeholders take args.
	ref       string
	args      []any
	order     string // ORDER BY list for reading rows ("" keeps table order)
	cols      []column
	objectIDs bool   // has objectIDColumn
	drop      string // temp table to drop when done
	side      *sideDB
}

func (t *table) close() {
	if t.drop != "" {
		// Cleanup must run even when the export's ctx was cancelled.
		_, _ = t.conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+t.drop)
	}
	if t.side != nil {
		t.side.close()
	}
}

// rowsQuery selects the exported columns (plus extra expressions) in order.
func (t *table) rowsQuery(extra string) string {
	q := "SELECT " + t.selectList() + extra + " FROM " + t.ref
	if t.order != "" {
		q += " ORDER BY " + t.order
	}
	return q
}

func (t *table) selectList() string {
	q := make([]string, len(t.cols))
	for i, c := range t.cols {
		q[i] = quoteIdent(c.Name)
	}
	return strings.Join(q, ", ")
}

// scan calls fn once per row, in table order; row is reused between calls.
func (t *table) scan(ctx context.Context, fn func(row []any) error) error {
	return t.scanQuery(ctx, t.rowsQuery(""), len(t.cols), fn)
}

// scanQuery runs q (a query over t.ref taking t.args) with ncols result
// columns and calls fn once per row, in order; row is reused between calls.
func (t *table) scanQuery(ctx context.Context, q string, ncols int, fn func(row []any) error) error {
	named := make([]driver.NamedValue, len(t.args))
	for i, a := range t.args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return t.conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("unexpected driver connection")
		}
		rows, err := qc.QueryContext(ctx, q, named)
		if err != nil {
			return fmt.Errorf("read export rows: %w", err)
		}
		defer rows.Close()
		vals := make([]driver.Value, ncols)
		out := make([]any, ncols)
		for n := 0; ; n++ {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := rows.Next(vals); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("read export rows: %w", err)
			}
			for i, v := range vals {
				out[i] = v
			}
			if err := fn(out); err != nil {
				return err
			}
		}
	})
}

// canCopy reports whether DuckDB may write files from this connection.
func (t *table) canCopy(ctx context.Context) bool {
	var on bool
	err := t.conn.QueryRowContext(ctx, "SELECT current_setting('enable_external_access')").Scan(&on)
	return err == nil && on
}

// materializeFilter describes the events a filter selects. Without literal
// redaction the rows are read straight from events (Export runs in one
// transaction, so every read sees the same snapshot); with it, they are copied
// to a temp table first so statements can be rewritten.
func materializeFilter(ctx context.Context, conn *sql.Conn, f store.Filter, redact Redaction) (*table, error) {
	where, args := f.SQL()
	sel := make([]string, len(viewColumns))
	for i, c := range viewColumns {
		sel[i] = c
		if c == "params" && redact != RedactNone {
			sel[i] = "CAST(NULL AS VARCHAR[]) AS params"
		}
	}
	sub := "SELECT " + strings.Join(sel, ", ") + ", object_id AS " + objectIDColumn + " FROM events WHERE " + where
	t := &table{conn: conn, ref: "(" + sub + ") AS export_rows", args: args, order: "log_time, event_id", objectIDs: true}
	if redact == RedactLiterals {
		name := quoteIdent(randomName("auditlens_export_"))
		if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+name+" AS "+sub, args...); err != nil {
			return nil, fmt.Errorf("select events to export: %w", err)
		}
		t.ref, t.args, t.drop = name, nil, name
		if err := redactStatements(ctx, conn, t.ref); err != nil {
			t.close()
			return nil, err
		}
	}
	rows, err := conn.QueryContext(ctx, "SELECT * EXCLUDE ("+objectIDColumn+") FROM "+t.ref+" LIMIT 0", t.args...)
	if err != nil {
		t.close()
		return nil, fmt.Errorf("read export columns: %w", err)
	}
	types, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		t.close()
		return nil, fmt.Errorf("read export columns: %w", err)
	}
	for _, ct := range types {
		t.cols = append(t.cols, column{Name: ct.Name(), Type: ct.DatabaseTypeName()})
	}
	return t, nil
}

// redactStatements replaces the literals of every distinct statement of the
// snapshot. The lexer runs in Go; the rewrite is one join in DuckDB.
func redactStatements(ctx context.Context, conn *sql.Conn, ref string) error {
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT statement FROM "+ref+" WHERE statement IS NOT NULL")
	if err != nil {
		return fmt.Errorf("redact statements: %w", err)
	}
	type pair struct{ from, to string }
	var pairs []pair
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("redact statements: %w", err)
		}
		if r := sqllex.RedactLiterals(s); r != s {
			pairs = append(pairs, pair{s, r})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("redact statements: %w", err)
	}
	if len(pairs) == 0 {
		return nil
	}
	mapName := randomName("auditlens_redact_")
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+mapName+" (orig VARCHAR, red VARCHAR)"); err != nil {
		return fmt.Errorf("redact statements: %w", err)
	}
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+mapName) //nolint:errcheck // best-effort cleanup
	err = conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("unexpected driver connection")
		}
		app, err := duckdb.NewAppender(dconn, "temp", "main", mapName)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			if err := app.AppendRow(p.from, p.to); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return fmt.Errorf("redact statements: %w", err)
	}
	_, err = conn.ExecContext(ctx, "UPDATE "+ref+" SET statement = m.red FROM "+mapName+" m WHERE "+ref+".statement = m.orig")
	if err != nil {
		return fmt.Errorf("redact statements: %w", err)
	}
	return nil
}

// sideDB is a private in-memory DuckDB database. User SQL never runs in it,
// so it can keep file access for COPY while the store's session is locked.
type sideDB struct {
	db    *sql.DB
	raw   driver.Conn // for the appender
	conn  *sql.Conn
	close func()
}

func openSide(ctx context.Context) (*sideDB, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open export workspace: %w", err)
	}
	raw, err := connector.Connect(ctx)
	if err != nil {
		_ = connector.Close()
		return nil, fmt.Errorf("open export workspace: %w", err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = raw.Close()
		_ = db.Close()
		return nil, fmt.Errorf("open export workspace: %w", err)
	}
	s := &sideDB{db: db, raw: raw, conn: conn}
	s.close = func() {
		_ = conn.Close()
		_ = raw.Close()
		_ = db.Close()
	}
	return s, nil
}

// keepType matches DuckDB types a side table can hold as they are; other
// columns (ENUM, STRUCT, MAP, UNION, UUID, INTERVAL, …) are stored as text.
// Type names come from query results, so nothing else may reach the DDL.
var keepType = regexp.MustCompile(`^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|VARCHAR|BLOB|DATE|TIME|TIMESTAMP|TIMESTAMPTZ|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|DECIMAL\([0-9]+,[0-9]+\))(\[\])*$`)

// sideTable creates a table for cols in the side database and returns it with
// an appender and the per-column conversion of values.
func (s *sideDB) sideTable(ctx context.Context, cols []column) (*table, *duckdb.Appender, []bool, error) {
	t := &table{conn: s.conn, ref: "export_rows", drop: "export_rows", side: s}
	asText := make([]bool, len(cols))
	defs := make([]string, len(cols))
	seen := map[string]bool{}
	for i, c := range cols {
		if seen[strings.ToLower(c.Name)] {
			return nil, nil, nil, usage("the query returns column %q twice; give each column its own name (AS …)", c.Name)
		}
		seen[strings.ToLower(c.Name)] = true
		typ := c.Type
		if !keepType.MatchString(typ) {
			typ, asText[i] = "VARCHAR", true
		}
		defs[i] = quoteIdent(c.Name) + " " + typ
		t.cols = append(t.cols, column{Name: c.Name, Type: typ})
	}
	if _, err := s.conn.ExecContext(ctx, "CREATE TABLE export_rows ("+strings.Join(defs, ", ")+")"); err != nil {
		return nil, nil, nil, fmt.Errorf("prepare export rows: %w", err)
	}
	app, err := duckdb.NewAppender(s.raw, "", "", "export_rows")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("prepare export rows: %w", err)
	}
	return t, app, asText, nil
}

// materializeSQL runs a user's SELECT under the store's read-only guard and
// keeps its result, redacted, in a side table.
func materializeSQL(ctx context.Context, st *store.Store, q string, redact Redaction, progress Progress) (*table, error) {
	side, err := openSide(ctx)
	if err != nil {
		return nil, err
	}
	var (
		t       *table
		app     *duckdb.Appender
		asText  []bool
		stmtCol = -1
		parCol  = -1
		vals    []driver.Value
		n       int64
	)
	err = st.QueryReadOnlyTyped(ctx, q, func(rc []store.ResultColumn, row []any) error {
		if row == nil {
			cols := make([]column, len(rc))
			for i, c := range rc {
				cols[i] = column{Name: c.Name, Type: c.Type}
				switch {
				case strings.EqualFold(c.Name, "statement"):
					stmtCol = i
				case strings.EqualFold(c.Name, "params"):
					parCol = i
				}
			}
			var err error
			t, app, asText, err = side.sideTable(ctx, cols)
			vals = make([]driver.Value, len(cols))
			return err
		}
		for i, v := range row {
			switch {
			case v == nil:
			case i == parCol && redact != RedactNone:
				v = nil
			case i == stmtCol && redact == RedactLiterals:
				if s, ok := v.(string); ok {
					v = sqllex.RedactLiterals(s)
				} else {
					v = sqllex.RedactLiterals(textOf(v, t.cols[i].Type))
				}
			}
			if v != nil && asText[i] {
				v = textOf(v, "")
			}
			vals[i] = v
		}
		if err := app.AppendRow(vals...); err != nil {
			return fmt.Errorf("keep query row %d: %w", n+1, err)
		}
		n++
		if n%8192 == 0 {
			progress(n, -1)
			return ctx.Err()
		}
		return nil
	})
	if app != nil {
		if cerr := app.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("keep query rows: %w", cerr)
		}
	}
	if err != nil {
		side.close()
		return nil, err
	}
	return t, nil
}

// toSide copies the snapshot into a side table (see Export).
func (t *table) toSide(ctx context.Context) (*table, error) {
	side, err := openSide(ctx)
	if err != nil {
		return nil, err
	}
	st, app, asText, err := side.sideTable(ctx, t.cols)
	if err != nil {
		side.close()
		return nil, err
	}
	vals := make([]driver.Value, len(t.cols))
	err = t.scan(ctx, func(row []any) error {
		for i, v := range row {
			if v != nil && asText[i] {
				v = textOf(v, "")
			}
			vals[i] = v
		}
		return app.AppendRow(vals...)
	})
	if cerr := app.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		side.close()
		return nil, fmt.Errorf("copy export rows: %w", err)
	}
	return st, nil
}

// describe fills the manifest's row count, time range, clusters, columns and
// source objects from the snapshot.
func (t *table) describe(ctx context.Context, storeConn *sql.Conn, m *Manifest) error {
	m.Columns = columnNames(t.cols)
	q := "SELECT count(*) FROM " + t.ref
	timed := false
	if c, ok := hasColumn(t.cols, "log_time"); ok && (c.Type == "TIMESTAMPTZ" || c.Type == "TIMESTAMP") {
		q = "SELECT count(*), min(log_time), max(log_time) FROM " + t.ref
		timed = true
	}
	var first, last sql.NullTime
	dest := []any{&m.Rows}
	if timed {
		dest = append(dest, &first, &last)
	}
	if err := t.conn.QueryRowContext(ctx, q, t.args...).Scan(dest...); err != nil {
		return fmt.Errorf("count export rows: %w", err)
	}
	if first.Valid && last.Valid {
		m.TimeRange = &TimeRange{First: first.Time.UTC(), Last: last.Time.UTC()}
	}
	if c, ok := hasColumn(t.cols, "cluster"); ok && c.Type == "VARCHAR" {
		rows, err := t.conn.QueryContext(ctx, "SELECT DISTINCT cluster FROM "+t.ref+" WHERE cluster IS NOT NULL ORDER BY 1", t.args...)
		if err != nil {
			return fmt.Errorf("list export clusters: %w", err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			m.Clusters = append(m.Clusters, s)
		}
		rows.Close()
	}
	return t.describeSources(ctx, storeConn, m)
}

const sourceColumns = "o.uri, coalesce(o.etag, ''), coalesce(o.version_id, ''), coalesce(o.sha256, ''), o.status"

func (t *table) describeSources(ctx context.Context, storeConn *sql.Conn, m *Manifest) error {
	var rows *sql.Rows
	var err error
	switch {
	case t.objectIDs:
		m.SourcesFrom = "filter"
		rows, err = storeConn.QueryContext(ctx, `SELECT `+sourceColumns+`, c.n
			FROM (SELECT `+objectIDColumn+` AS object_id, count(*) AS n FROM `+t.ref+` GROUP BY 1) c
			JOIN objects o ON o.object_id = c.object_id ORDER BY o.object_id`, t.args...)
	default:
		c, ok := hasColumn(t.cols, "event_id")
		if !ok || !isIntegerType(c.Type) {
			m.SourcesFrom = "none: the query result has no integer event_id column"
			return nil
		}
		m.SourcesFrom = "event_id"
		ids, counts, err := eventCounts(ctx, t)
		if err != nil {
			return err
		}
		var matched int64
		rows, err = storeConn.QueryContext(ctx, `SELECT `+sourceColumns+`, sum(c.n)::BIGINT
			FROM (SELECT unnest(?::BIGINT[]) AS event_id, unnest(?::BIGINT[]) AS n) c
			JOIN events e ON e.event_id = c.event_id JOIN objects o ON o.object_id = e.object_id
			GROUP BY ALL ORDER BY min(o.object_id)`, ids, counts)
		if err != nil {
			return fmt.Errorf("list source objects: %w", err)
		}
		defer func() { m.RowsWithoutSource = m.Rows - matched }()
		defer rows.Close()
		for rows.Next() {
			var so SourceObject
			if err := rows.Scan(&so.URI, &so.ETag, &so.VersionID, &so.SHA256, &so.Status, &so.Events); err != nil {
				return fmt.Errorf("list source objects: %w", err)
			}
			matched += so.Events
			m.Sources = append(m.Sources, so)
		}
		return rows.Err()
	}
	if err != nil {
		return fmt.Errorf("list source objects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var so SourceObject
		if err := rows.Scan(&so.URI, &so.ETag, &so.VersionID, &so.SHA256, &so.Status, &so.Events); err != nil {
			return fmt.Errorf("list source objects: %w", err)
		}
		m.Sources = append(m.Sources, so)
	}
	return rows.Err()
}

func isIntegerType(t string) bool {
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT":
		return true
	}
	return false
}

// eventCounts lists each event id of a SQL result and how many rows carry it.
func eventCounts(ctx context.Context, t *table) ([]int64, []int64, error) {
	rows, err := t.conn.QueryContext(ctx, "SELECT event_id::BIGINT, count(*) FROM "+t.ref+" WHERE event_id IS NOT NULL GROUP BY 1", t.args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list exported events: %w", err)
	}
	defer rows.Close()
	var ids, counts []int64
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, nil, fmt.Errorf("list exported events: %w", err)
		}
		ids, counts = append(ids, id), append(counts, n)
	}
	return ids, counts, rows.Err()
}

// utcDate is the partition date of a log_time: the UTC calendar day.
const utcDate = "CAST(log_time AT TIME ZONE 'UTC' AS DATE)"
