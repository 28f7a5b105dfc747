// Package export owns evidence export: it writes the events of a case file
// chosen by a store.Filter, or the result of one read-only SQL SELECT, to CSV,
// XLSX, JSONL or (optionally hive-partitioned) Parquet, with a manifest
// (FILE.manifest.json) that records what was exported, from which source
// objects, and the SHA-256 of every file written, and it verifies exports
// against their manifests.
//
// Files are written to a private temp file next to the target, synced and
// renamed, so a failed or cancelled export leaves nothing behind. Spreadsheet
// formats (CSV, XLSX) neutralise cells that a spreadsheet would run as a
// formula. Redaction of parameters and statement literals uses the PostgreSQL
// lexer in store/export/sqllex.
//
// export imports store, excelize and the standard library (and DuckDB through
// the store's handle); it must not import Charm, AWS, tui or ingest packages.
package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/auditlens/auditlens/store"
)

// Format is an export file format.
type Format string

// Export formats.
const (
	CSV     Format = "csv"
	XLSX    Format = "xlsx"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// Redaction says what an export leaves out.
type Redaction string

// Redaction modes. The zero value picks the format's default: params for CSV
// and XLSX (files that travel by mail), none for JSONL and Parquet.
const (
	RedactDefault  Redaction = ""
	RedactNone     Redaction = "none"
	RedactParams   Redaction = "params"   // drop bind parameters (the params column)
	RedactLiterals Redaction = "literals" // drop parameters and replace statement literals with ? / '?'
)

// Request describes one export. Exactly one of Filter and SQL is set.
type Request struct {
	// Filter selects events of the audit_events view (ordered by log_time,
	// event_id); every filter value is bound as a parameter.
	Filter *store.Filter
	// FilterText is the filter as the user typed it, recorded in the manifest.
	FilterText string
	// SQL is one read-only SELECT, run under store.QueryReadOnlyTyped's guard
	// (the store must be opened read-only). Redaction applies to result
	// columns named statement and params; source objects are listed when the
	// result has an event_id column.
	SQL string

	Format Format
	// Out is the file to write, or the directory of a partitioned Parquet set.
	Out string
	// BOM starts a CSV file with a UTF-8 byte order mark so Excel reads it as UTF-8.
	BOM    bool
	Redact Redaction
	// PartitionBy (Parquet only) writes a hive-partitioned set under Out:
	// any of "cluster" and "date" (the UTC date of log_time), in order.
	PartitionBy []string
	// NoNeutralize turns off formula neutralisation for CSV and XLSX.
	NoNeutralize bool
}

// Progress reports rows written; total is -1 while it is not known yet (a SQL
// export is counted only once its result has been read).
type Progress func(done, total int64)

// ErrUsage marks a request that cannot be run as given.
var ErrUsage = errors.New("invalid export request")

func usage(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

// normalise checks req and fills in defaults.
func (req Request) normalise(st *store.Store) (Request, error) {
	if (req.Filter == nil) == (req.SQL == "") {
		return req, usage("give either a filter or a SQL query, not both or neither")
	}
	switch req.Format {
	case CSV, XLSX, JSONL, Parquet:
	default:
		return req, usage("unknown format %q: use csv, xlsx, jsonl or parquet", req.Format)
	}
	switch req.Redact {
	case RedactDefault:
		req.Redact = RedactNone
		if req.Format == CSV || req.Format == XLSX {
			req.Redact = RedactParams
		}
	case RedactNone, RedactParams, RedactLiterals:
	default:
		return req, usage("unknown redaction %q: use none, params or literals", req.Redact)
	}
	if req.BOM && req.Format != CSV {
		return req, usage("a byte order mark is only written for csv")
	}
	if len(req.PartitionBy) > 0 {
		if req.Format != Parquet {
			return req, usage("partitioning is only for parquet")
		}
		seen := map[string]bool{}
		for _, p := range req.PartitionBy {
			if p != "cluster" && p != "date" {
				return req, usage("cannot partition by %q: use cluster and/or date", p)
			}
			if seen[p] {
				return req, usage("partition key %q given twice", p)
			}
			seen[p] = true
		}
	}
	if req.Out == "" {
		return req, usage("no output path")
	}
	out, err := filepath.Abs(req.Out)
	if err != nil {
		return req, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	req.Out = out
	if st != nil && (out == st.Path() || out == st.Path()+".wal") {
		return req, usage("%s is the case file; choose another output path", out)
	}
	if strings.HasSuffix(out, manifestSuffix) {
		return req, usage("%s: an export cannot be named like a manifest", out)
	}
	return req, nil
}

// neutralize reports whether spreadsheet formula neutralisation applies.
func (req Request) neutralize() bool {
	return !req.NoNeutralize && (req.Format == CSV || req.Format == XLSX)
}

// Export writes the rows req selects to req.Out and the manifest next to it.
// progress may be nil. On any error, including cancellation, no export file,
// partial file or manifest is left behind.
func Export(ctx context.Context, st *store.Store, req Request, progress Progress) (Manifest, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	req, err := req.normalise(st)
	if err != nil {
		return Manifest{}, err
	}
	if len(req.PartitionBy) > 0 {
		if _, err := os.Lstat(req.Out); err == nil {
			return Manifest{}, usage("%s exists; a partitioned export needs a new directory", req.Out)
		}
	}
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	defer conn.Close()

	// One read transaction: the count, the manifest's sources and the rows
	// written all come from the same snapshot, even while a sync appends.
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // read-only; nothing to keep

	var tbl *table
	if req.Filter != nil {
		tbl, err = materializeFilter(ctx, conn, *req.Filter, req.Redact)
	} else {
		tbl, err = materializeSQL(ctx, st, req.SQL, req.Redact, progress)
	}
	if err != nil {
		return Manifest{}, err
	}
	defer tbl.close()

	m := newManifest(req)
	if err := tbl.describe(ctx, conn, &m); err != nil {
		return Manifest{}, err
	}
	progress(0, m.Rows)

	if req.Format == Parquet && !tbl.canCopy(ctx) {
		// The store's session was locked for read-only SQL (external access
		// off), so DuckDB cannot write files there: rebuild the rows in a
		// private in-memory database that never runs user SQL.
		side, err := tbl.toSide(ctx)
		if err != nil {
			return Manifest{}, err
		}
		defer side.close()
		tbl = side
	}

	var files []FileEntry
	switch {
	case len(req.PartitionBy) > 0:
		files, err = writePartitioned(ctx, tbl, req)
	default:
		var fe FileEntry
		fe, err = writeSingle(ctx, tbl, req, &m, progress)
		files = []FileEntry{fe}
	}
	if err != nil {
		return Manifest{}, err
	}
	progress(m.Rows, m.Rows)
	m.Files = files
	if err := writeManifest(req.Out+manifestSuffix, m); err != nil {
		if len(req.PartitionBy) > 0 {
			_ = os.RemoveAll(req.Out)
		} else {
			_ = os.Remove(req.Out)
		}
		return Manifest{}, err
	}
	return m, nil
}

// column is one exported column with DuckDB's name of its type.
type column struct {
	Name string
	Type string
}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func hasColumn(cols []column, name string) (column, bool) {
	i := slices.IndexFunc(cols, func(c column) bool { return c.Name == name })
	if i < 0 {
		return column{}, false
	}
	return cols[i], true
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a string for DuckDB; used only for output paths, which
// COPY cannot take as a parameter.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func randomName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
