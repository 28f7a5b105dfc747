package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/ingest"
	"github.com/auditlens/auditlens/ingest/das"
	"github.com/auditlens/auditlens/internal/config"
	"github.com/auditlens/auditlens/internal/textsafe"
	"github.com/auditlens/auditlens/store"
)

type syncFlags struct {
	source   []string
	since    string
	until    string
	workers  int
	report   bool
	format   string
	progress bool
}

func (a *app) syncCommand() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync [--source NAME] [--since T] [--until T]",
		Short: "Bring the case file up to date with the configured sources",
		Long: `Lists every configured source (or those named with --source), skips objects already in
the case file with the same ETag, and ingests the rest. Safe to interrupt (Ctrl-C) or kill:
every finished object is committed, and a re-run completes the rest without duplicates.
--since/--until restrict the listing to the Firehose date prefixes YYYY/MM/DD/HH/ of the range.
--report lists the quarantined and partly rejected objects already in the case file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.report {
				return a.syncReport(cmd.Context(), f.format)
			}
			return a.runSync(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.source, "source", nil, "sync only these sources (by name)")
	fl.StringVar(&f.since, "since", "", "only objects from this time on (2026-11-24T10:00, 2026-11-24, 2h, 7d)")
	fl.StringVar(&f.until, "until", "", "only objects before this time")
	fl.IntVar(&f.workers, "workers", 0, "concurrent downloads (default 4 × CPUs)")
	fl.BoolVar(&f.report, "report", false, "list quarantined objects and rejected records instead of syncing")
	fl.StringVar(&f.format, "format", "table", "summary format: table or json")
	fl.BoolVar(&f.progress, "progress", true, "show progress on stderr")
	return cmd
}

func (a *app) runSync(ctx context.Context, f syncFlags) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if len(cfg.Sources) == 0 {
		return usageError("no sources configured: add sources: to %s (see README: Configuration), or use `auditlens ingest` for local files", configName(a.configPath))
	}
	selected, err := selectSources(cfg.Sources, f.source)
	if err != nil {
		return err
	}
	now := time.Now()
	since, err := parseTimeFlag(f.since, now)
	if err != nil {
		return usageError("--since: %v", err)
	}
	until, err := parseTimeFlag(f.until, now)
	if err != nil {
		return usageError("--until: %v", err)
	}
	st, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	b := newJobBuilder()
	var jobs []ingest.Job
	for _, sc := range selected {
		if sc.Kind == "das" && sc.Mode == "" {
			sc.Mode = a.askStreamMode(ctx, sc)
		}
		job, err := b.build(ctx, sc)
		if err != nil {
			return err
		}
		if err := st.UpsertSource(ctx, sourceRow(sc)); err != nil {
			return err
		}
		jobs = append(jobs, job)
	}
	return a.runJobs(ctx, st, jobs, ingest.Options{Workers: f.workers, Since: since, Until: until, Command: "sync"}, f.format, f.progress)
}

// runJobs runs the pipeline with progress, prints the summary and maps the
// outcome to an exit code.
func (a *app) runJobs(ctx context.Context, st *store.Store, jobs []ingest.Job, opt ingest.Options, format string, progress bool) error {
	if progress {
		pp := newProgressPrinter(a.stderr)
		opt.Progress = pp.update
	}
	restore, err := st.TuneForBulkWrites(ctx)
	if err != nil {
		return err
	}
	defer restore()
	sum, err := ingest.Run(ctx, st, jobs, opt)
	if perr := printSummary(a.stdout, sum, format); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return withCode(exitError, fmt.Errorf("interrupted: every finished object is committed; run the same command again to complete"))
		}
		if m := strings.ToLower(err.Error()); strings.Contains(m, "no space left") || strings.Contains(m, "file too large") || strings.Contains(m, "disk quota") {
			return fmt.Errorf("the disk is full: free space where the case file is and run the same command again (every finished object is committed, nothing is duplicated): %w", err)
		}
		return err
	}
	if !sum.Clean() {
		return withCode(exitQuarantined, fmt.Errorf("some objects or records were quarantined or could not be read; see `auditlens sync --report`"))
	}
	return nil
}

func selectSources(all []config.Source, names []string) ([]config.Source, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []config.Source
	for _, n := range names {
		found := false
		for _, s := range all {
			if s.Name == n {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, usageError("no source named %q in the config", n)
		}
	}
	return out, nil
}

func configName(p string) string {
	if p != "" {
		return p
	}
	return config.Default()
}

func printSummary(w io.Writer, sum ingest.Summary, format string) error {
	if format == "json" {
		type src struct {
			ingest.SourceSummary
			ElapsedSeconds float64 `json:"elapsed_seconds"`
		}
		out := struct {
			RunID   int64 `json:"run_id"`
			Clean   bool  `json:"clean"`
			Sources []src `json:"sources"`
		}{RunID: sum.RunID, Clean: sum.Clean()}
		for _, s := range sum.Sources {
			out.Sources = append(out.Sources, src{SourceSummary: *s, ElapsedSeconds: s.Elapsed.Seconds()})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\tkind\tnew objects\tevents\theartbeats\tskipped\tpartial\tquarantined\tfailed\ttime\t")
	row := func(s ingest.SourceSummary) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", textsafe.Line(s.Name, 40), s.Kind, s.New, s.Events,
			s.Heartbeats, s.Skipped, s.Partial, s.Quarantined, s.Failed, s.Elapsed.Round(time.Millisecond))
	}
	for _, s := range sum.Sources {
		row(*s)
	}
	if len(sum.Sources) > 1 {
		row(sum.Totals())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range sum.Sources {
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  %s %s: %s %s\n", p.Status, textsafe.Line(p.URI, 200), p.Reason, textsafe.Line(p.Detail, 200))
		}
	}
	return nil
}

func (a *app) syncReport(ctx context.Context, format string) error {
	st, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	probs, err := st.Problems(ctx, "", 20)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if probs == nil {
			probs = []store.ObjectProblem{}
		}
		if err := enc.Encode(probs); err != nil {
			return err
		}
	} else {
		if len(probs) == 0 {
			fmt.Fprintln(a.stdout, "no quarantined or partly rejected objects")
		}
		for _, p := range probs {
			fmt.Fprintf(a.stdout, "%s  %s  %s  events=%d rejected=%d  %s\n", p.Status, textsafe.Line(p.Source, 40),
				textsafe.Line(p.URI, 300), p.Events, p.Rejects, textsafe.Line(p.Detail, 200))
			for _, r := range p.Rejected {
				fmt.Fprintf(a.stdout, "    at %d: %s: %s\n", r.Offset, r.Reason, textsafe.Line(r.Detail, 200))
			}
		}
	}
	if len(probs) > 0 {
		return withCode(exitQuarantined, nil)
	}
	return nil
}

// askStreamMode reads a DAS source's mode from the RDS API when the config does
// not say it. Gap analysis needs it; without it the cluster's mode is unknown.
func (a *app) askStreamMode(ctx context.Context, sc config.Source) string {
	id := sc.ResourceID
	if id == "" {
		id = sc.Cluster
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	mode, err := das.StreamMode(actx, sc.Region, sc.Profile, id)
	if err != nil {
		fmt.Fprintf(a.stderr, "auditlens: source %s: DAS mode unknown (set mode: sync|async in the config): %v\n", sc.Name, err)
		return ""
	}
	return mode
}
