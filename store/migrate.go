package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		body, err := fs.ReadFile(migrationFS, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate brings the schema up to date. A read-only open only checks it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	latest := ms[len(ms)-1].version

	var hasTable bool
	if err := s.db.QueryRowContext(ctx,
		`SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'schema_version'`).Scan(&hasTable); err != nil {
		return fmt.Errorf("read schema version of %s: %w", s.path, err)
	}
	current := 0
	if hasTable {
		if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version of %s: %w", s.path, err)
		}
	} else {
		var n int
		if err := s.db.QueryRowContext(ctx,
			`SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()`).Scan(&n); err != nil {
			return fmt.Errorf("inspect %s: %w", s.path, err)
		}
		if n > 0 {
			return fmt.Errorf("%s is a DuckDB database but not an auditlens case file (it has tables but no schema_version): %w", s.path, ErrNotCaseFile)
		}
	}
	if current > latest {
		return fmt.Errorf("case file %s has schema version %d, this auditlens knows up to %d; upgrade auditlens: %w",
			s.path, current, latest, ErrSchemaTooNew)
	}
	if current == latest {
		return nil
	}
	if s.readOnly {
		if current == 0 {
			return fmt.Errorf("%s is empty, not a case file yet; run a sync first: %w", s.path, ErrNotCaseFile)
		}
		// A read-only open never changes the evidence: an older schema is
		// read as it is when every newer migration only adds what readers
		// can do without.
		if readableFrom(current, latest) {
			s.schema = current
			return nil
		}
		return fmt.Errorf("case file %s has schema version %d and needs migration to %d; open it once read-write (auditlens sync or ingest, or the explorer without --read-only)", s.path, current, latest)
	}
	storage, err := s.storageVersion(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmts := m.sql
		if need := requiredStorage(m.sql); need != "" && versionLess(storage, need) {
			// The file's storage version cannot hold what this migration
			// changes; it only recompresses, so record it as applied.
			stmts = ""
		}
		if current == 0 && !hasTable {
			stmts = "CREATE TABLE schema_version (version INTEGER NOT NULL, name VARCHAR, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());\n" + stmts
			hasTable = true
		}
		if strings.TrimSpace(stmts) != "" {
			if _, err := tx.ExecContext(ctx, stmts); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("apply migration %s to %s: %w", m.name, s.path, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %s: %w", m.name, err)
		}
	}
	s.schema = latest
	return nil
}

// additive are the migrations that only add what a reader of an older case
// file can do without (2: raw_blocks; before it, raw records are in
// events.raw; 3: statements recompressed, same rows).
var additive = map[int]bool{2: true, 3: true}

// caseFileStorage is the DuckDB storage version new case files are created
// with: v1.2.0 is the first that stores strings with zstd (migration 0003).
// DuckDB 1.2 and later read it.
const caseFileStorage = "v1.2.0"

// storageVersion is the DuckDB storage version of the open case file, as
// "v1.2.0" ("v0.0.0" when DuckDB does not say).
func (s *Store) storageVersion(ctx context.Context) (string, error) {
	var tag sql.NullString
	if err := s.db.QueryRowContext(ctx,
		`SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&tag); err != nil {
		return "", fmt.Errorf("read storage version of %s: %w", s.path, err)
	}
	v := strings.TrimSuffix(tag.String, "+")
	if v == "" {
		v = "v0.0.0"
	}
	return v, nil
}

// requiredStorage reads a migration's "-- requires-storage: vX.Y.Z" line.
func requiredStorage(body string) string {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "-- requires-storage:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// versionLess compares "vX.Y.Z" versions numerically.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// readableFrom reports whether a case file of schema version v can be read,
// unmigrated, by a binary that knows up to latest.
func readableFrom(v, latest int) bool {
	for n := v + 1; n <= latest; n++ {
		if !additive[n] {
			return false
		}
	}
	return true
}
