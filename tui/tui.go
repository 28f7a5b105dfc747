// Package tui is the explorer: the root Bubble Tea model that routes messages
// to the components (events table, detail pane, filter bar, facets, timeline,
// sessions, sources, gaps, findings, export form, help) and owns the layout,
// plus Run, the entry point the command layer calls.
//
// tui reads the case file only through the small interfaces its components
// define (Data, satisfied by *store.Store); sync and export are reached through
// Syncer and Exporter, implemented by the command layer. tui must never import
// ingest, AWS SDKs or cmd.
package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/detail"
	"github.com/auditlens/auditlens/tui/events"
	"github.com/auditlens/auditlens/tui/exportform"
	"github.com/auditlens/auditlens/tui/facets"
	"github.com/auditlens/auditlens/tui/findings"
	"github.com/auditlens/auditlens/tui/gaps"
	"github.com/auditlens/auditlens/tui/sessions"
	"github.com/auditlens/auditlens/tui/sources"
	"github.com/auditlens/auditlens/tui/timeline"
)

// Data is everything the explorer reads from (and the one thing it writes to)
// the case file. *store.Store satisfies it.
type Data interface {
	events.Pager
	detail.Source
	facets.Counter
	timeline.Histogrammer
	sessions.Lister
	gaps.Source
	AddNote(ctx context.Context, eventID int64, kind, text, author string) (int64, error)
}

var _ Data = (*store.Store)(nil)

// Syncer starts a sync from the sources page; see sources.Syncer.
type Syncer = sources.Syncer

// SyncProgress is one progress report of a sync.
type SyncProgress = sources.Progress

// SourceStatus is one row of the sources page.
type SourceStatus = sources.Status

// SourceLister feeds the sources page; see sources.Lister.
type SourceLister = sources.Lister

// ExportRequest says what the user asked to export from the export form: the
// events under Filter (FilterText as typed), the format, path and redaction;
// see exportform.Request.
type ExportRequest = exportform.Request

// Exporter writes the current view for auditors; see exportform.Exporter. The
// command layer implements it over store/export; the explorer says "not
// available" when it is nil.
type Exporter = exportform.Exporter

// FindingsRunner runs the findings rules; see findings.Runner.
type FindingsRunner = findings.Runner

// MemoryLimit is DuckDB's memory budget while exploring: counting and
// faceting tens of millions of rows must stay within a laptop's memory, and
// DuckDB spills beyond it (10 M events: peak RSS 369 MB with it, 449–456 MB
// without). The command that opens the explorer sets it.
const MemoryLimit = "256MB"

// Options configure the explorer.
type Options struct {
	// Store is the open case file. When Data or Sources are nil they are
	// served from it.
	Store *store.Store
	// Data overrides Store for reads and notes.
	Data Data
	// Sources feeds the sources page; nil reads the case file's tables.
	Sources SourceLister
	// ReadOnly disables every write: notes and sync.
	ReadOnly bool
	// Syncer, when set, lets the sources page start a sync.
	Syncer Syncer
	// Exporter, when set, backs the export key.
	Exporter Exporter
	// Findings runs the rules for the findings page; nil runs the built-in
	// rules (merged with RulesFile) on Store.
	Findings FindingsRunner
	// RulesFile is a user's findings rules file ("" = built-in rules only).
	RulesFile string
	// Path is the case file's path, for the header.
	Path string
	// UTC shows times in UTC instead of the local zone.
	UTC bool
	// NoColor drops colors (Run sets it when NO_COLOR is set).
	NoColor bool
	// Author is recorded with notes (Run defaults it to $USER).
	Author string
	// Now is the clock for relative filter times; nil is time.Now.
	Now func() time.Time
}

// Run opens the explorer on the terminal and returns when the user quits or
// ctx is cancelled.
func Run(ctx context.Context, opts Options) error {
	if os.Getenv("NO_COLOR") != "" {
		opts.NoColor = true
	}
	if opts.Author == "" {
		opts.Author = os.Getenv("USER")
	}
	m, err := New(ctx, opts)
	if err != nil {
		return err
	}
	p := tea.NewProgram(m, tea.WithContext(ctx))
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("explorer: %w", err)
	}
	return nil
}
