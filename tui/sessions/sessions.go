// Package sessions owns the sessions page: database sessions under the current
// filter (user, database, host, application, start, end, statements, errors),
// and Enter to drill down into one session's events.
//
// sessions imports store (types and the Lister contract it defines), common and
// sanitize; it must not import other tui components, ingest or AWS.
package sessions

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Lister lists sessions. *store.Store satisfies it.
type Lister interface {
	Sessions(ctx context.Context, f store.Filter, limit int) ([]store.Session, error)
}

// Limit is how many sessions the page lists, most recent first; narrow the
// filter to reach older ones.
const Limit = 1000

// OpenMsg asks the root to show one session's events.
type OpenMsg struct{ Cluster, SessionID string }

type loadedMsg struct {
	gen  int
	rows []store.Session
	err  error
}

// Model is the sessions page.
type Model struct {
	data          Lister
	ctx           context.Context
	gen           int
	rows          []store.Session
	cur, top      int
	loading       bool
	err           error
	width, height int
}

// New returns an empty page.
func New(ctx context.Context, data Lister) Model { return Model{data: data, ctx: ctx} }

// SetSize sets the page's cells.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, max(h, 2) }

// Len is the number of sessions listed.
func (m Model) Len() int { return len(m.rows) }

// Cursor is the 1-based selected line.
func (m Model) Cursor() int { return m.cur + 1 }

// Load lists sessions under f in the background.
func (m *Model) Load(f store.Filter) tea.Cmd {
	m.gen++
	m.loading = true
	gen, ctx, data := m.gen, m.ctx, m.data
	return func() tea.Msg {
		rows, err := data.Sessions(ctx, f, Limit)
		return loadedMsg{gen: gen, rows: rows, err: err}
	}
}

// Update handles loaded rows and keys.
func (m Model) Update(c common.Context, msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.loading, m.err = false, msg.err
		if msg.err == nil {
			m.rows = msg.rows
			m.cur = min(m.cur, max(len(m.rows)-1, 0))
			m.scroll()
		}
	case tea.KeyPressMsg:
		k := c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.move(-1)
		case key.Matches(msg, k.Down):
			m.move(1)
		case key.Matches(msg, k.PageUp):
			m.move(-(m.height - 1))
		case key.Matches(msg, k.PageDown):
			m.move(m.height - 1)
		case key.Matches(msg, k.Home):
			m.move(-len(m.rows))
		case key.Matches(msg, k.End):
			m.move(len(m.rows))
		case key.Matches(msg, k.Open):
			if m.cur < len(m.rows) {
				s := m.rows[m.cur]
				return m, func() tea.Msg { return OpenMsg{Cluster: s.Cluster, SessionID: s.SessionID} }
			}
		}
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			m.move(-3)
		} else if msg.Button == tea.MouseWheelDown {
			m.move(3)
		}
	}
	return m, nil
}

// Click selects the session drawn on line y (0 is the header).
func (m *Model) Click(y int) {
	if i := m.top + y - 1; y >= 1 && i < len(m.rows) {
		m.cur = i
	}
}

func (m *Model) move(d int) {
	m.cur = min(max(m.cur+d, 0), max(len(m.rows)-1, 0))
	m.scroll()
}

func (m *Model) scroll() {
	v := m.height - 1
	if m.cur < m.top {
		m.top = m.cur
	}
	if m.cur >= m.top+v {
		m.top = m.cur - v + 1
	}
}

type col struct {
	title string
	width int
}

// View draws the page in exactly width×height cells.
func (m Model) View(c common.Context) string {
	t := c.Theme
	cols := []col{{"start", 19}, {"end", 8}, {"cluster", 12}, {"session", 14}, {"user", 10}, {"database", 9}, {"host", 12}, {"application", 0}, {"stmts", 6}, {"errors", 6}, {"sources", 7}}
	fixed := 0
	for _, x := range cols {
		fixed += x.width + 1
	}
	cols[7].width = max(m.width-fixed, 6)
	var head []string
	for _, x := range cols {
		head = append(head, common.Fit(x.title, x.width))
	}
	lines := []string{t.TableHead.Render(common.Fit(strings.Join(head, " "), m.width))}
	switch {
	case m.err != nil:
		lines = append(lines, t.Error.Render("sessions: "+sanitize.LineOf(m.err.Error())))
	case len(m.rows) == 0 && m.loading:
		lines = append(lines, t.Dim.Render("loading sessions…"))
	case len(m.rows) == 0:
		lines = append(lines, t.Dim.Render("no sessions under this filter"))
	}
	for i := m.top; i < len(m.rows) && len(lines) < m.height; i++ {
		s := m.rows[i]
		vals := []string{
			c.FormatTime(s.Start), endTime(c, s), sanitize.LineOf(s.Cluster), sanitize.LineOf(s.SessionID),
			sanitize.LineOf(s.User), sanitize.LineOf(s.Database), sanitize.LineOf(s.Host), sanitize.LineOf(s.Application),
			fmt.Sprintf("%6d", s.Statements), fmt.Sprintf("%6d", s.Errors), sourcesLabel(s.Sources),
		}
		cells := make([]string, len(cols))
		for j, x := range cols {
			cells[j] = common.Fit(vals[j], x.width)
		}
		st := t.Row
		if s.Errors > 0 {
			st = t.RowError
		}
		if i == m.cur {
			st = t.RowSelected
		}
		lines = append(lines, st.Render(common.Fit(strings.Join(cells, " "), m.width)))
	}
	return common.Block(strings.Join(lines, "\n"), m.width, m.height)
}

// endTime shows only the time of day when the session ended the day it began,
// which keeps the column narrow.
func endTime(c common.Context, s store.Session) string {
	start, end := c.FormatTime(s.Start), c.FormatTime(s.End)
	if len(start) >= 10 && len(end) > 11 && start[:10] == end[:10] {
		return end[11:]
	}
	return end
}

func sourcesLabel(src []string) string {
	if len(src) > 1 {
		return "both"
	}
	return sanitize.LineOf(strings.Join(src, ""))
}
