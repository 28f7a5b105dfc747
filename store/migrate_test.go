package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

// statementCompression checkpoints s and lists the compressions of the
// statement column's segments.
func statementCompression(t *testing.T, s *Store) map[string]int {
	t.Helper()
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT compression, count(*) FROM pragma_storage_info('events')
		WHERE column_name = 'statement' AND segment_type = 'VARCHAR' GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		got[c] = n
	}
	return got
}

func statementEvents(n int) []model.Event {
	evs := make([]model.Event, n)
	for i := range evs {
		evs[i] = ev(i, "app", "READ", "SELECT", fmt.Sprintf("SELECT id, status, amount FROM sales.orders WHERE id = %d AND tenant_id = %d", i*7919%100000, i%50))
	}
	return evs
}

// A new case file stores statements with zstd (migration 0003).
func TestStatementsZstd(t *testing.T) {
	s, _ := openTemp(t)
	if v, err := s.storageVersion(context.Background()); err != nil || versionLess(v, caseFileStorage) {
		t.Fatalf("storage version of a new case file: %q, %v", v, err)
	}
	writeObject(t, s, "/a", statementEvents(5000))
	got := statementCompression(t, s)
	if got["ZSTD"] == 0 || len(got) != 1 {
		t.Errorf("statement segments: %v, want ZSTD only", got)
	}
	res, err := s.Page(context.Background(), Filter{Text: "= 7919 AND"}, nil, 10)
	if err != nil || len(res) != 1 {
		t.Errorf("search in zstd statements: %d rows, %v", len(res), err)
	}
}

// A case file created by an older DuckDB storage version cannot hold zstd
// strings: migration 0003 is recorded and skipped, and the file works as
// before.
func TestStatementsZstdSkippedOnOldStorage(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "old.duckdb")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ATTACH "+quoteLiteral(p)+" AS old (STORAGE_VERSION 'v1.0.0')"); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	s, err := Open(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.db.QueryRowContext(ctx, "SELECT max(version) FROM schema_version").Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("schema version %d, %v", v, err)
	}
	writeObject(t, s, "/a", statementEvents(5000))
	if got := statementCompression(t, s); got["ZSTD"] != 0 || got["Uncompressed"] == len(got) {
		t.Errorf("statement segments on v1.0.0 storage: %v, want DuckDB's own compressed choice", got)
	}
	if n, err := s.Count(ctx, Filter{}); err != nil || n != 5000 {
		t.Errorf("count %d, %v", n, err)
	}
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"v1.0.0", "v1.2.0", true}, {"v1.2.0", "v1.2.0", false}, {"v1.10.0", "v1.2.0", false},
		{"v0.0.0", "v1.2.0", true}, {"v1.4.0", "v1.2.0", false}, {"v1.2", "v1.2.0", false},
	} {
		if got := versionLess(c.a, c.b); got != c.want {
			t.Errorf("versionLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
	if requiredStorage("-- x\n-- requires-storage: v1.2.0\nSELECT 1") != "v1.2.0" || requiredStorage("SELECT 1") != "" {
		t.Error("requiredStorage")
	}
}
