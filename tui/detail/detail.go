// Package detail owns the detail pane: one event drawn whole (the statement
// wrapped and lightly SQL-highlighted, its parameters, every field, where it
// came from) plus the same statement as recorded by the other source and the
// raw record, loaded in the background.
//
// detail imports store (types and the Source contract it defines), common and
// sanitize; it must not import other tui components, ingest or AWS.
package detail

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Source is what the pane needs besides the row. *store.Store satisfies it.
type Source interface {
	Counterparts(ctx context.Context, r store.Row) ([]store.Row, error)
	Raw(ctx context.Context, id int64) (string, error)
}

// Display limits: the pane is for reading, y copies the whole statement.
const (
	maxStatement = 64 << 10
	maxRaw       = 4 << 10
)

// Delay is how long the cursor rests on a row before its extras are loaded:
// finding the other source's record scans the case file, and paging through
// a large one must not queue a scan per row passed.
const Delay = 120 * time.Millisecond

// extrasDueMsg says the cursor rested on a row for Delay.
type extrasDueMsg struct {
	eventID int64
	seq     int
}

type extrasLoadedMsg struct {
	eventID int64
	others  []store.Row
	raw     string
	err     error
}

// Model is the detail pane.
type Model struct {
	data          Source
	ctx           context.Context
	row           store.Row
	has           bool
	others        []store.Row
	raw           string
	extrasLoaded  bool
	err           error
	scroll        int
	width, height int
	cache         *render // lines drawn for one (row, width, theme, zone)
	// Delay overrides the package Delay (0 loads at once; tests use it).
	Delay  time.Duration
	seq    int
	cancel context.CancelFunc // the extras query of the previous row
}

type render struct {
	key   string
	lines []string
}

// New returns an empty pane.
func New(ctx context.Context, data Source) Model {
	return Model{data: data, ctx: ctx, cache: &render{}, Delay: Delay}
}

// SetSize sets the pane's cells.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, max(h, 1) }

// Row is the event shown.
func (m Model) Row() (store.Row, bool) { return m.row, m.has }

// Clear empties the pane.
func (m *Model) Clear() { m.row, m.has, m.others, m.raw = store.Row{}, false, nil, "" }

// SetRow shows r and loads its counterparts and raw record.
func (m *Model) SetRow(r store.Row) tea.Cmd {
	if m.has && m.row.EventID == r.EventID {
		return nil
	}
	m.row, m.has, m.others, m.raw, m.err, m.scroll, m.extrasLoaded = r, true, nil, "", nil, 0, false
	if m.data == nil {
		return nil
	}
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.seq++
	if m.Delay > 0 {
		seq, id := m.seq, r.EventID
		return tea.Tick(m.Delay, func(time.Time) tea.Msg { return extrasDueMsg{eventID: id, seq: seq} })
	}
	return m.loadExtras()
}

// loadExtras fetches the shown row's counterparts and raw record; moving to
// another row cancels the query.
func (m *Model) loadExtras() tea.Cmd {
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	r, data := m.row, m.data
	return func() tea.Msg {
		others, err := data.Counterparts(ctx, r)
		if err != nil {
			return extrasLoadedMsg{eventID: r.EventID, err: err}
		}
		raw, err := data.Raw(ctx, r.EventID)
		return extrasLoadedMsg{eventID: r.EventID, others: others, raw: raw, err: err}
	}
}

// Update handles loaded extras and, when focused, scrolling keys.
func (m Model) Update(c common.Context, msg tea.Msg, focused bool) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case extrasDueMsg:
		if m.has && msg.seq == m.seq && msg.eventID == m.row.EventID {
			return m, m.loadExtras()
		}
	case extrasLoadedMsg:
		if !m.has || msg.eventID != m.row.EventID {
			return m, nil
		}
		m.others, m.raw, m.err, m.extrasLoaded = msg.others, msg.raw, msg.err, true
	case tea.KeyPressMsg:
		if !focused {
			return m, nil
		}
		k := c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.scroll--
		case key.Matches(msg, k.Down):
			m.scroll++
		case key.Matches(msg, k.PageUp):
			m.scroll -= m.height - 1
		case key.Matches(msg, k.PageDown):
			m.scroll += m.height - 1
		case key.Matches(msg, k.Home):
			m.scroll = 0
		case key.Matches(msg, k.End):
			m.scroll = 1 << 30
		}
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			m.scroll -= 3
		} else if msg.Button == tea.MouseWheelDown {
			m.scroll += 3
		}
	}
	return m, nil
}

// View draws the pane in exactly width×height cells.
func (m Model) View(c common.Context, focused bool) string {
	t := c.Theme
	title := "detail"
	if focused {
		title = "detail (esc back · ↑↓ scroll · y copy · n note)"
	}
	ruleStyle := t.Border
	if focused {
		ruleStyle = t.Focused
	}
	head := common.Rule(ruleStyle, title, m.width)
	if !m.has {
		return common.Block(head+"\n"+t.Dim.Render("no event selected"), m.width, m.height)
	}
	lines := m.lines(c)
	body := m.height - 1
	scroll := min(max(m.scroll, 0), max(len(lines)-body, 0))
	end := min(scroll+body, len(lines))
	return common.Block(head+"\n"+strings.Join(lines[scroll:end], "\n"), m.width, m.height)
}

func (m Model) lines(c common.Context) []string {
	k := fmt.Sprintf("%d/%d/%v/%v/%v/%d/%v/%d", m.row.EventID, m.width, c.Theme.Dark, c.Theme.NoColor, c.UTC, len(m.others), m.extrasLoaded, len(m.raw))
	if m.cache != nil && m.cache.key == k {
		return m.cache.lines
	}
	lines := m.build(c)
	if m.cache != nil {
		m.cache.key, m.cache.lines = k, lines
	}
	return lines
}

func (m Model) build(c common.Context) []string {
	t := c.Theme
	r := m.row
	w := max(m.width-2, 10)
	var out []string
	section := func(name string) { out = append(out, t.Title.Render(name)) }

	section("Statement")
	stmt := r.Statement
	truncated := len(stmt) > maxStatement
	if truncated {
		stmt = stmt[:maxStatement]
	}
	if stmt == "" {
		out = append(out, "  "+t.Dim.Render("(no statement)"))
	}
	for _, l := range wrap(sanitize.Clean(stmt, sanitize.Block), w) {
		out = append(out, "  "+Highlight(t, l))
	}
	if truncated {
		out = append(out, "  "+t.Warn.Render(fmt.Sprintf("… statement cut at %d KB here (%d KB in all); y copies it whole", maxStatement>>10, len(r.Statement)>>10)))
	}
	if len(r.Params) > 0 {
		section("Parameters")
		for i, p := range r.Params {
			out = append(out, fmt.Sprintf("  $%d  %s", i+1, sanitize.LineOf(p)))
		}
	}

	section("Fields")
	for _, f := range fields(c, r) {
		if f[1] == "" {
			continue
		}
		out = append(out, "  "+t.Label.Render(common.Fit(f[0], 16))+sanitize.LineOf(f[1]))
	}

	section("Seen by the other source")
	switch {
	case m.err != nil:
		out = append(out, "  "+t.Error.Render("could not load: "+sanitize.LineOf(m.err.Error())))
	case !m.extrasLoaded:
		out = append(out, "  "+t.Dim.Render("loading…"))
	case len(m.others) == 0:
		other := "DAS"
		if r.Source == "das" {
			other = "pgAudit"
		}
		out = append(out, "  "+t.Dim.Render("no matching "+other+" record (same session, statement and substatement id)"))
	}
	for _, o := range m.others {
		same := "same statement"
		if o.Statement != r.Statement {
			same = "statement differs"
		}
		out = append(out, fmt.Sprintf("  %s  %s  event %d  %s", t.Label.Render(o.Source), c.FormatTime(o.LogTime), o.EventID, same))
		if o.Statement != r.Statement {
			for _, l := range wrap(sanitize.Clean(o.Statement, sanitize.Block), w-2) {
				out = append(out, "    "+Highlight(t, l))
			}
		}
		out = append(out, "    "+t.Dim.Render("from "+sanitize.LineOf(o.ObjectRef)))
	}
	if m.raw != "" {
		section("Raw record")
		raw := m.raw
		if len(raw) > maxRaw {
			raw = raw[:maxRaw] + " …"
		}
		for _, l := range wrap(sanitize.Clean(raw, sanitize.Block), w) {
			out = append(out, "  "+t.Dim.Render(l))
		}
	}
	return out
}

func wrap(s string, w int) []string {
	return strings.Split(ansi.Wrap(s, w, " ,"), "\n")
}

func fields(c common.Context, r store.Row) [][2]string {
	i64 := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	i32 := func(p *int32) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(int64(*p), 10)
	}
	host := r.RemoteHost
	if r.RemotePort != nil {
		host += ":" + i32(r.RemotePort)
	}
	internal := ""
	if r.Internal {
		internal = "yes (RDS housekeeping user)"
	}
	return [][2]string{
		{"time", c.FormatTime(r.LogTime) + " " + c.ZoneName()},
		{"event id", strconv.FormatInt(r.EventID, 10)},
		{"source", r.Source},
		{"cluster", r.Cluster},
		{"instance", r.Instance},
		{"database", r.DatabaseName},
		{"user", r.UserName},
		{"internal user", internal},
		{"application", r.ApplicationName},
		{"remote host", host},
		{"pid", i32(r.PID)},
		{"session", r.SessionID},
		{"statement id", i64(r.StatementID)},
		{"substatement", i64(r.SubstatementID)},
		{"audit type", r.AuditType},
		{"class", r.Class},
		{"command", r.Command},
		{"object type", r.ObjectType},
		{"object", r.ObjectName},
		{"rows", i64(r.RowCount)},
		{"error", r.ErrorMessage},
		{"exit code", i32(r.ExitCode)},
		{"object_ref", r.ObjectRef},
	}
}
