// Package exportform owns the export form (format, path, redaction) and
// running an export in the background through the Exporter contract defined
// here, reporting progress and the end as typed messages. The command layer
// implements Exporter over store/export; the explorer never writes files
// itself.
//
// exportform imports store (the Filter type), prompt, common and sanitize; it
// must not import other tui components, ingest or AWS.
package exportform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/prompt"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Formats and redaction modes the form offers, as store/export names them.
var (
	Formats    = []string{"csv", "xlsx", "jsonl", "parquet"}
	Redactions = []string{"none", "params", "literals"}
)

// DefaultRedaction is the redaction export applies to a format when none is
// chosen: parameters are dropped from files that travel by mail.
func DefaultRedaction(format string) string {
	if format == "csv" || format == "xlsx" {
		return "params"
	}
	return "none"
}

// Request says what the user asked to export: the events under Filter (as
// typed: FilterText), to Path in Format with Redact applied. EventID is the
// row under the cursor (0 when none).
type Request struct {
	Filter     store.Filter
	FilterText string
	EventID    int64
	Format     string // csv | xlsx | jsonl | parquet
	Path       string
	Redact     string // none | params | literals
}

// Exporter writes the current view for auditors, calling progress (from any
// goroutine, as often as it likes) with rows written and the total (-1 while
// unknown). It returns a one-line summary for the status line (for example
// the files written).
type Exporter interface {
	Export(ctx context.Context, req Request, progress func(done, total int64)) (summary string, err error)
}

// SubmitMsg says the user filled the form in; the root adds the filter and
// starts the export.
type SubmitMsg struct {
	Format, Path, Redact string
}

// CancelMsg says the user closed the form.
type CancelMsg struct{}

type field int

const (
	fieldFormat field = iota
	fieldPath
	fieldRedact
	fieldCount
)

// Model is the form.
type Model struct {
	format, redact int
	redactTouched  bool
	path           prompt.Input
	pathTouched    bool
	focus          field
	stamp          string
}

// New opens the form for an export at now: csv, the default path and the
// format's default redaction.
func New(now time.Time) Model {
	m := Model{stamp: now.Format("20060102-150405"), focus: fieldFormat}
	m.setFormat(0)
	return m
}

// DefaultPath is where an export goes unless the user says otherwise.
func DefaultPath(stamp, format string) string {
	return "./auditlens-export-" + stamp + "." + format
}

func (m *Model) setFormat(i int) {
	m.format = (i + len(Formats)) % len(Formats)
	f := Formats[m.format]
	if !m.pathTouched {
		m.path.SetValue(DefaultPath(m.stamp, f))
	}
	if !m.redactTouched {
		m.redact = slices.Index(Redactions, DefaultRedaction(f))
	}
}

// Values are the form's current choices.
func (m Model) Values() SubmitMsg {
	return SubmitMsg{Format: Formats[m.format], Path: strings.TrimSpace(m.path.Value()), Redact: Redactions[m.redact]}
}

// Update handles one key press.
func (m Model) Update(c common.Context, msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := c.Keys
	switch {
	case key.Matches(msg, k.Back):
		return m, func() tea.Msg { return CancelMsg{} }
	case key.Matches(msg, k.Accept):
		v := m.Values()
		if v.Path == "" {
			m.focus = fieldPath
			return m, nil
		}
		return m, func() tea.Msg { return v }
	case key.Matches(msg, k.NextField):
		m.focus = (m.focus + 1) % fieldCount
		return m, nil
	case key.Matches(msg, k.PrevField):
		m.focus = (m.focus + fieldCount - 1) % fieldCount
		return m, nil
	}
	switch m.focus {
	case fieldPath:
		if changed, _ := m.path.Update(msg); changed {
			m.pathTouched = true
		}
	case fieldFormat, fieldRedact:
		d := 0
		switch msg.String() {
		case "left", "h":
			d = -1
		case "right", "l", "space":
			d = 1
		}
		if d == 0 {
			return m, nil
		}
		if m.focus == fieldFormat {
			m.setFormat(m.format + d)
		} else {
			m.redact = (m.redact + d + len(Redactions)) % len(Redactions)
			m.redactTouched = true
		}
	}
	return m, nil
}

// View draws the form in width cells: a title, the three fields and a hint.
func (m Model) View(c common.Context, width int, filterText string) string {
	t := c.Theme
	label := func(f field, s string) string {
		st := t.Label
		mark := "  "
		if m.focus == f {
			st, mark = t.Focused, "▸ "
		}
		return st.Render(mark + common.Fit(s, 10))
	}
	choices := func(f field, opts []string, cur int, note func(string) string) string {
		var parts []string
		for i, o := range opts {
			s := o
			if note != nil {
				s += note(o)
			}
			if i == cur {
				if m.focus == f {
					parts = append(parts, t.Cursor.Render("["+s+"]"))
				} else {
					parts = append(parts, t.Active.Render("["+s+"]"))
				}
			} else {
				parts = append(parts, " "+s+" ")
			}
		}
		return strings.Join(parts, " ")
	}
	format := Formats[m.format]
	what := "every event"
	if filterText != "" {
		what = "events matching " + sanitize.LineOf(filterText)
	}
	lines := []string{
		common.Rule(t.Border, "Export", width),
		common.Fit(t.Title.Render("Export "+what)+t.Dim.Render(" (a manifest FILE.manifest.json is written next to it)"), width),
		common.Fit(label(fieldFormat, "format")+choices(fieldFormat, Formats, m.format, nil), width),
		common.Fit(label(fieldPath, "path")+m.path.View("", t.Label, t.Cursor, m.focus == fieldPath, width-12), width),
		common.Fit(label(fieldRedact, "redaction")+choices(fieldRedact, Redactions, m.redact, func(o string) string {
			if o == DefaultRedaction(format) {
				return " (default for " + format + ")"
			}
			return ""
		}), width),
		t.Dim.Render(common.Fit("  tab/↑↓ field · ←/→ change · enter export · esc cancel", width)),
	}
	return strings.Join(lines, "\n")
}

// Height is the lines View draws.
const Height = 6

// ProgressMsg carries the latest progress of a running export.
type ProgressMsg struct {
	Done, Total int64
	ch          <-chan [2]int64
	done        <-chan result
}

// DoneMsg says an export ended.
type DoneMsg struct {
	Summary string
	Err     error
}

type result struct {
	summary string
	err     error
}

// Start runs ex.Export in the background and returns the command that
// delivers its progress and end; feed each ProgressMsg back to Next.
func Start(ctx context.Context, ex Exporter, req Request) tea.Cmd {
	ch := make(chan [2]int64, 1)
	done := make(chan result, 1)
	go func() {
		s, err := ex.Export(ctx, req, func(d, total int64) {
			// Keep only the newest report: a slow screen must not slow the export.
			for {
				select {
				case ch <- [2]int64{d, total}:
					return
				default:
				}
				select {
				case <-ch:
				default:
				}
			}
		})
		done <- result{summary: s, err: err}
	}()
	return wait(ch, done)
}

// Next listens for the report after msg.
func Next(msg ProgressMsg) tea.Cmd { return wait(msg.ch, msg.done) }

func wait(ch <-chan [2]int64, done <-chan result) tea.Cmd {
	return func() tea.Msg {
		select {
		case p := <-ch:
			return ProgressMsg{Done: p[0], Total: p[1], ch: ch, done: done}
		case r := <-done:
			return DoneMsg{Summary: r.summary, Err: r.err}
		}
	}
}

// Describe is the status-line text of a report.
func Describe(p ProgressMsg) string {
	if p.Total < 0 {
		return fmt.Sprintf("exporting… %d rows", p.Done)
	}
	if p.Total == 0 {
		return "exporting…"
	}
	return fmt.Sprintf("exporting… %d of %d rows (%d%%)", p.Done, p.Total, 100*p.Done/p.Total)
}
