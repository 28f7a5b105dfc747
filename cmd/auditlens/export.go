package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/export"
	"github.com/auditlens/auditlens/tui/filterbar"
)

type exportFlags struct {
	filter, sql, format, out, redact, summary string
	bom, noNeutralize, progress               bool
	partitionBy                               []string
}

func (a *app) exportCommand() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export (--filter '…' | --sql 'SELECT …') --out FILE [--format csv|xlsx|jsonl|parquet]",
		Short: "Export events for auditors (CSV, Excel, JSONL, Parquet) with a verifiable manifest",
		Long: `Writes the events a filter selects (the explorer's filter language, e.g.
'cluster:orders-prod db:orders user:app class:DDL since:2026-11-01'; --filter '' for
every event) or the result of one read-only SELECT to FILE, and FILE.manifest.json
next to it: tool version, the filter or SQL, row count, time range, clusters,
redaction, SHA-256 of the export and the source objects (URI, ETag, version id,
SHA-256) of the rows. Check it later with auditlens verify-export FILE.

CSV and XLSX neutralise cells starting with = + - @ TAB or CR (prefix ') unless
--no-neutralize, and drop bind parameters unless --redact none. --redact literals
also replaces string and numeric literals in statements. For a SQL export,
redaction applies to columns named statement and params, and source objects are
listed when the result has an event_id column.

Parquet can be written as a hive-partitioned set with --partition-by cluster,date
(FILE is then a new directory). The export is written to a temp file and renamed:
a failed or interrupted export leaves nothing behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runExport(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.filter, "filter", "", "filter in the explorer's filter language ('' exports every event)")
	fl.StringVar(&f.sql, "sql", "", "one read-only SELECT whose result is exported")
	fl.StringVar(&f.format, "format", "", "csv, xlsx, jsonl or parquet (default: from the --out extension)")
	fl.StringVar(&f.out, "out", "", "file to write (a new directory with --partition-by)")
	fl.BoolVar(&f.bom, "bom", false, "csv: start with a UTF-8 byte order mark (Excel)")
	fl.StringVar(&f.redact, "redact", "", "none, params or literals (default params for csv/xlsx, none otherwise)")
	fl.StringSliceVar(&f.partitionBy, "partition-by", nil, "parquet: hive partitions, any of cluster,date")
	fl.BoolVar(&f.noNeutralize, "no-neutralize", false, "csv/xlsx: keep cells that start with = + - @ TAB or CR as they are")
	fl.BoolVar(&f.progress, "progress", true, "show progress on stderr (terminal only)")
	fl.StringVar(&f.summary, "summary", "table", "what to print when done: table or json (the manifest)")
	return cmd
}

func (a *app) runExport(cmd *cobra.Command, f exportFlags) error {
	ctx := cmd.Context()
	hasFilter := cmd.Flags().Changed("filter")
	if hasFilter == (f.sql != "") {
		return usageError("give either --filter (--filter '' for every event) or --sql")
	}
	if f.out == "" {
		return usageError("--out FILE is required")
	}
	if f.summary != "table" && f.summary != "json" {
		return usageError("--summary must be table or json")
	}
	format := f.format
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(f.out)), ".")
		if len(f.partitionBy) > 0 {
			format = "parquet"
		}
		if format == "" {
			return usageError("give --format csv|xlsx|jsonl|parquet (the --out name has no extension)")
		}
	}
	req := export.Request{
		SQL: f.sql, Format: export.Format(strings.ToLower(format)), Out: f.out, BOM: f.bom,
		Redact: export.Redaction(f.redact), PartitionBy: f.partitionBy, NoNeutralize: f.noNeutralize,
	}
	if hasFilter {
		flt, err := filterbar.Parse(f.filter, time.Now(), time.Local)
		if err != nil {
			return usageError("--filter: %v", err)
		}
		req.Filter, req.FilterText = &flt, f.filter
	}
	// Exports only read: a read-only open also lets the SQL guard lock the session.
	st, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()

	bar := newExportBar(a, f.progress)
	m, err := export.Export(ctx, st, req, bar.update)
	bar.done()
	switch {
	case errors.Is(err, export.ErrUsage), errors.Is(err, store.ErrWriteRefused):
		return withCode(exitUsage, err)
	case err != nil:
		return err
	}
	if f.summary == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	fmt.Fprintf(a.stdout, "exported %d rows (%s, redaction %s", m.Rows, m.Format, m.Redaction)
	if m.FormulaNeutralization {
		fmt.Fprintf(a.stdout, ", %d cells neutralised", m.Alterations.NeutralizedCells)
	}
	if m.Alterations.CutCells > 0 {
		fmt.Fprintf(a.stdout, ", %d cells cut to Excel's limit", m.Alterations.CutCells)
	}
	fmt.Fprintf(a.stdout, ") from %d source objects\n", len(m.Sources))
	for _, fe := range m.Files {
		fmt.Fprintf(a.stdout, "  %s  %s\n", fe.SHA256, fe.Path)
	}
	fmt.Fprintf(a.stdout, "manifest: %s\n", export.ManifestPath(req.Out))
	return nil
}

// exportBar draws row progress on a terminal; exports below a few thousand
// rows finish before it would be useful.
type exportBar struct {
	a       *app
	on      bool
	mu      sync.Mutex
	last    time.Time
	started time.Time
	drawn   bool
}

func newExportBar(a *app, want bool) *exportBar {
	return &exportBar{a: a, on: want && isTerminal(a.stderr), started: time.Now()}
}

func (b *exportBar) update(done, total int64) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.last) < 100*time.Millisecond || (total >= 0 && total < 10000) {
		return
	}
	b.last = time.Now()
	const width = 28
	line := fmt.Sprintf("\rexport: reading query result, %d rows", done)
	if total >= 0 {
		frac := 0.0
		if total > 0 {
			frac = min(float64(done)/float64(total), 1)
		}
		filled := int(frac * width)
		line = fmt.Sprintf("\r%s%s %3.0f%% %d/%d rows", strings.Repeat("█", filled), strings.Repeat("░", width-filled), frac*100, done, total)
	}
	rate := float64(done) / time.Since(b.started).Seconds()
	fmt.Fprintf(b.a.stderr, "%s  %.0f rows/s\x1b[K", line, rate)
	b.drawn = true
}

func (b *exportBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.a.stderr, "\r\x1b[K")
	}
}

func (a *app) verifyExportCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "verify-export FILE",
		Short: "Check an export against its manifest (SHA-256 of every file)",
		Long: `Re-hashes the files of an export (FILE, a partitioned directory, or FILE.manifest.json)
and compares them with the manifest. Exit code 5 when a file was changed, is missing,
or a partitioned set holds a file the manifest does not list.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usageError("--format must be table or json")
			}
			res, err := export.VerifyExport(args[0])
			if err != nil && !errors.Is(err, export.ErrMismatch) {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if jerr := enc.Encode(res); jerr != nil {
					return jerr
				}
			} else {
				for _, fc := range res.Files {
					fmt.Fprintf(a.stdout, "%-10s %s\n", fc.Status, fc.Path)
				}
				if res.OK {
					fmt.Fprintf(a.stdout, "ok: %d files match %s (%d rows, exported %s)\n", len(res.Files), res.ManifestPath,
						res.Manifest.Rows, res.Manifest.Created.Format(time.RFC3339))
				}
			}
			if err != nil {
				return withCode(exitVerify, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table or json")
	return cmd
}
