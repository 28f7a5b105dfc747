package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/ingest"
	"github.com/auditlens/auditlens/internal/config"
	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui"
)

func (a *app) runExplorer(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	return a.explore(ctx, st, cfg)
}

// explore opens the explorer on an open case file; sync from the sources page
// uses the configured sources.
func (a *app) explore(ctx context.Context, st *store.Store, cfg *config.Config) error {
	// Counting and faceting tens of millions of rows must stay within a
	// laptop's memory; DuckDB spills beyond the limit.
	if err := st.SetMemoryLimit(ctx, tui.MemoryLimit); err != nil {
		return err
	}
	opts := tui.Options{Store: st, Path: st.Path(), ReadOnly: st.ReadOnly()}
	if cfg != nil {
		opts.RulesFile = expandHome(cfg.Findings.Rules)
	}
	if !st.ReadOnly() && cfg != nil && len(cfg.Sources) > 0 {
		opts.Syncer = &tuiSyncer{st: st, sources: cfg.Sources}
	}
	opts.Exporter = a.tuiExporter(st)
	return tui.Run(ctx, opts)
}

// tuiSyncer runs the real sync pipeline for the explorer's sources page.
type tuiSyncer struct {
	st      *store.Store
	sources []config.Source
}

func (s *tuiSyncer) Sync(ctx context.Context, name string, progress func(tui.SyncProgress)) error {
	selected := s.sources
	if name != "" {
		var err error
		if selected, err = selectSources(s.sources, []string{name}); err != nil {
			return err
		}
	}
	b := newJobBuilder()
	var jobs []ingest.Job
	for _, sc := range selected {
		job, err := b.build(ctx, sc)
		if err != nil {
			return err
		}
		if err := s.st.UpsertSource(ctx, sourceRow(sc)); err != nil {
			return err
		}
		jobs = append(jobs, job)
	}
	sum, err := ingest.Run(ctx, s.st, jobs, ingest.Options{Command: "sync", Progress: func(p ingest.Progress) {
		progress(tui.SyncProgress{Source: name, Objects: p.ObjectsDone, Skipped: p.ObjectsSkipped, Quarantined: p.Quarantined,
			Events: p.Events, Bytes: p.Bytes, Errors: p.Failed, Note: p.Phase})
	}})
	if err != nil {
		return err
	}
	if t := sum.Totals(); t.Quarantined+t.Failed+t.Partial > 0 {
		return fmt.Errorf("%d objects quarantined, %d partly rejected, %d not read", t.Quarantined, t.Partial, t.Failed)
	}
	return nil
}
