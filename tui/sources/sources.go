// Package sources owns the sources page: each source's last sync, objects,
// events and quarantined objects with their reasons, and starting a sync in
// the background through the Syncer contract defined here, reporting progress
// as typed messages.
//
// sources imports store/common/sanitize and database/sql (for the read-only
// query in catalog.go); it must not import ingest, AWS or other components.
package sources

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Status is one source as the case file knows it.
type Status struct {
	Name, Kind, Cluster, URL, Mode string
	LastSync                       time.Time // zero: never synced
	Objects, Events                int64
	Quarantined, Partial           int64
	Problems                       []Problem // objects not fully ingested, newest first
}

// Problem is an object that was quarantined or partly rejected.
type Problem struct {
	URI, Status, Reason, Detail string
	Rejects                     int64
}

// Lister reads the sources summary. FromDB implements it on the case file.
type Lister interface {
	Sources(ctx context.Context) ([]Status, error)
}

// Progress is one throttled report of a running sync.
type Progress struct {
	Source                                string
	Objects, Skipped, Quarantined, Events int64
	Bytes                                 int64
	Errors                                int64
	Note                                  string // what is happening now, e.g. "listing s3://…"
}

// Syncer runs a sync of one source ("" for every configured source), calling
// progress from any goroutine as often as it likes (the page keeps only the
// latest report). It returns when the sync ends or ctx is cancelled. The
// command layer implements it over ingest; the explorer never imports ingest.
type Syncer interface {
	Sync(ctx context.Context, source string, progress func(Progress)) error
}

// SyncRequestMsg asks the root to start a sync (it owns the status line).
type SyncRequestMsg struct{ Source string }

// ProgressMsg carries the latest report of a running sync.
type ProgressMsg struct {
	Progress Progress
	ch       <-chan Progress
	done     <-chan error
}

// DoneMsg says a sync ended.
type DoneMsg struct {
	Source string
	Err    error
}

// StartSync runs s.Sync in the background and returns the command that
// delivers its progress and end as messages; feed each ProgressMsg back to
// Next to keep listening.
func StartSync(ctx context.Context, s Syncer, source string) tea.Cmd {
	ch := make(chan Progress, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Sync(ctx, source, func(p Progress) {
			// Keep only the newest report: a slow screen must not slow the sync.
			for {
				select {
				case ch <- p:
					return
				default:
				}
				select {
				case <-ch:
				default:
				}
			}
		})
	}()
	return wait(source, ch, done)
}

// Next listens for the report after msg.
func Next(source string, msg ProgressMsg) tea.Cmd { return wait(source, msg.ch, msg.done) }

func wait(source string, ch <-chan Progress, done <-chan error) tea.Cmd {
	return func() tea.Msg {
		select {
		case p := <-ch:
			return ProgressMsg{Progress: p, ch: ch, done: done}
		case err := <-done:
			return DoneMsg{Source: source, Err: err}
		}
	}
}

// Describe is the status-line text of a report.
func Describe(p Progress) string {
	s := fmt.Sprintf("sync %s: %d objects (%d skipped, %d quarantined), %s, %d events",
		sanitize.LineOf(p.Source), p.Objects, p.Skipped, p.Quarantined, bytes(p.Bytes), p.Events)
	if p.Errors > 0 {
		s += fmt.Sprintf(", %d errors", p.Errors)
	}
	if p.Note != "" {
		s += " · " + sanitize.LineOf(p.Note)
	}
	return s
}

func bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

type loadedMsg struct {
	gen  int
	rows []Status
	err  error
}

// Model is the sources page.
type Model struct {
	data          Lister
	ctx           context.Context
	gen           int
	rows          []Status
	cur           int
	loading       bool
	err           error
	width, height int
}

// New returns an empty page.
func New(ctx context.Context, data Lister) Model { return Model{data: data, ctx: ctx} }

// SetSize sets the page's cells.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, max(h, 3) }

// Load reads the summary in the background.
func (m *Model) Load() tea.Cmd {
	if m.data == nil {
		return nil
	}
	m.gen++
	m.loading = true
	gen, ctx, data := m.gen, m.ctx, m.data
	return func() tea.Msg {
		rows, err := data.Sources(ctx)
		return loadedMsg{gen: gen, rows: rows, err: err}
	}
}

// Selected is the source under the cursor ("" when none).
func (m Model) Selected() string {
	if m.cur < len(m.rows) {
		return m.rows[m.cur].Name
	}
	return ""
}

// Update handles the summary and keys; the sync key becomes a SyncRequestMsg.
func (m Model) Update(c common.Context, msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.gen == m.gen {
			m.loading, m.err = false, msg.err
			if msg.err == nil {
				m.rows = msg.rows
				m.cur = min(m.cur, max(len(m.rows)-1, 0))
			}
		}
	case tea.KeyPressMsg:
		k := c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.cur = max(m.cur-1, 0)
		case key.Matches(msg, k.Down):
			m.cur = min(m.cur+1, max(len(m.rows)-1, 0))
		case key.Matches(msg, k.Sync):
			name := m.Selected()
			return m, func() tea.Msg { return SyncRequestMsg{Source: name} }
		}
	}
	return m, nil
}

// View draws the page in exactly width×height cells.
func (m Model) View(c common.Context, syncing bool) string {
	t := c.Theme
	head := fmt.Sprintf("%-20s %-8s %-14s %-6s %-19s %9s %11s %6s %7s  %s", "source", "kind", "cluster", "mode", "last sync", "objects", "events", "quar.", "partial", "url")
	lines := []string{t.TableHead.Render(common.Fit(head, m.width))}
	switch {
	case m.err != nil:
		lines = append(lines, t.Error.Render("sources: "+sanitize.LineOf(m.err.Error())))
	case len(m.rows) == 0 && m.loading:
		lines = append(lines, t.Dim.Render("loading…"))
	case len(m.rows) == 0:
		lines = append(lines, t.Dim.Render("no sources yet: add them to the config and run `auditlens sync`"))
	}
	for i, s := range m.rows {
		last := "never"
		if !s.LastSync.IsZero() {
			last = c.FormatTime(s.LastSync)
		}
		line := fmt.Sprintf("%-20s %-8s %-14s %-6s %-19s %9d %11d %6d %7d  %s",
			common.Fit(sanitize.LineOf(s.Name), 20), common.Fit(sanitize.LineOf(s.Kind), 8), common.Fit(sanitize.LineOf(s.Cluster), 14),
			common.Fit(sanitize.LineOf(s.Mode), 6), last, s.Objects, s.Events, s.Quarantined, s.Partial, sanitize.LineOf(s.URL))
		st := t.Row
		if s.Quarantined > 0 {
			st = t.Warn
		}
		if i == m.cur {
			st = t.RowSelected
		}
		lines = append(lines, st.Render(common.Fit(line, m.width)))
	}
	hint := "s sync the selected source"
	if syncing {
		hint = "a sync is running (see the status line)"
	}
	lines = append(lines, "", t.Dim.Render(hint))
	if m.cur < len(m.rows) && len(m.rows[m.cur].Problems) > 0 {
		s := m.rows[m.cur]
		lines = append(lines, "", t.Title.Render(fmt.Sprintf("Objects of %s not fully ingested (%d quarantined, %d partial)", sanitize.LineOf(s.Name), s.Quarantined, s.Partial)))
		for _, p := range s.Problems {
			if len(lines) >= m.height {
				break
			}
			lines = append(lines, common.Fit(fmt.Sprintf("  %-11s %-16s %s  %s", p.Status, sanitize.LineOf(p.Reason), sanitize.LineOf(p.URI), t.Dim.Render(sanitize.LineOf(p.Detail))), m.width))
		}
	}
	return common.Block(strings.Join(lines, "\n"), m.width, m.height)
}
