// Package events owns the events table: a window of rows fetched by keyset
// pages around the cursor (never all matching rows), the background count, and
// drawing only the visible rows. Everything slow runs in tea.Cmds whose
// messages carry a generation, so results of a superseded filter are dropped,
// and the previous filter's queries are cancelled through their context.
//
// events imports store (types and the Pager contract it defines), common and
// sanitize; it must not import other tui components, ingest or AWS.
package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Pager is what the table needs from the case file. *store.Store satisfies it.
type Pager interface {
	Page(ctx context.Context, f store.Filter, after *store.Cursor, limit int) ([]store.Row, error)
	PageBefore(ctx context.Context, f store.Filter, before *store.Cursor, limit int) ([]store.Row, error)
	Count(ctx context.Context, f store.Filter) (int64, error)
}

type fetchKind int

const (
	fetchFirst  fetchKind = iota // the first rows (home)
	fetchLast                    // the last rows (end)
	fetchAfter                   // rows after the window
	fetchBefore                  // rows before the window
)

// rowsLoadedMsg carries one keyset page. anchor is the window edge the page
// continues from; a page whose anchor is no longer the edge is stale.
type rowsLoadedMsg struct {
	gen    int
	kind   fetchKind
	anchor *store.Cursor
	limit  int
	rows   []store.Row
	err    error
}

type countLoadedMsg struct {
	gen int
	n   int64
	err error
}

// Model is the events table.
type Model struct {
	data   Pager
	ctx    context.Context // parent of every query; cancelled when the program ends
	genCtx context.Context // this filter's queries; cancelled when the filter changes
	cancel context.CancelFunc
	filter store.Filter
	gen    int

	rows      []store.Row
	base      int64 // absolute index of rows[0] when baseKnown
	baseKnown bool
	top, cur  int
	pending   int // cursor movement waiting for a page in flight

	total       int64
	totalKnown  bool
	countWanted bool // ask for the count once the first page is in
	eofBefore   bool
	eofAfter    bool
	loading     map[fetchKind]bool
	err         error

	width, height int // height counts the header line
}

// New returns a table reading from data; nothing is fetched until SetFilter.
func New(ctx context.Context, data Pager) Model {
	return Model{data: data, ctx: ctx, genCtx: ctx, loading: map[fetchKind]bool{}}
}

// SetSize sets the table's cells, header included.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, max(h, 2)
	m.clampTop()
}

func (m Model) visible() int { return max(m.height-1, 1) }

// Visible is how many rows the table shows: a page.
func (m Model) Visible() int { return m.visible() }

// A keyset page costs about the same for 50 rows as for 300, and paging
// down at key-repeat speed eats a screen every 30 ms: fetch several screens
// at once and start early, so the next screen is there before it is asked for.
func (m Model) pageSize() int { return max(10*m.visible(), 250) }

// prefetchMargin keeps a whole fetch ahead of the cursor, so a fetch has
// ten screens of key repeat to arrive in.
func (m Model) prefetchMargin() int { return m.pageSize() }

func (m Model) windowCap() int { return 4 * m.pageSize() }

// Filter is the filter the table shows.
func (m Model) Filter() store.Filter { return m.filter }

// SetFilter starts over with a new filter: the previous generation's queries
// are cancelled and the first page and the count are fetched.
func (m *Model) SetFilter(f store.Filter) tea.Cmd {
	m.filter = f
	return m.restart(fetchFirst)
}

// Reload fetches the current filter again from the start.
func (m *Model) Reload() tea.Cmd { return m.restart(fetchFirst) }

func (m *Model) restart(kind fetchKind) tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.genCtx, m.cancel = ctx, cancel
	m.gen++
	m.rows, m.top, m.cur, m.pending = nil, 0, 0, 0
	m.baseKnown, m.eofBefore, m.eofAfter, m.err = false, false, false, nil
	m.loading = map[fetchKind]bool{}
	if kind == fetchFirst {
		m.totalKnown = false
	}
	// The count waits for the first page: on a large case file it would
	// compete with the page for the same cores, and the rows are what the
	// user is waiting for. A count of the cancelled generation will never
	// arrive: ask again.
	m.countWanted = !m.totalKnown
	return m.fetch(ctx, kind, nil)
}

func (m *Model) fetch(ctx context.Context, kind fetchKind, anchor *store.Cursor) tea.Cmd {
	m.loading[kind] = true
	gen, f, limit, data := m.gen, m.filter, m.pageSize(), m.data
	return func() tea.Msg {
		var rows []store.Row
		var err error
		switch kind {
		case fetchFirst, fetchAfter:
			rows, err = data.Page(ctx, f, anchor, limit)
		case fetchLast, fetchBefore:
			rows, err = data.PageBefore(ctx, f, anchor, limit)
		}
		return rowsLoadedMsg{gen: gen, kind: kind, anchor: anchor, limit: limit, rows: rows, err: err}
	}
}

func (m *Model) count(ctx context.Context) tea.Cmd {
	gen, f, data := m.gen, m.filter, m.data
	return func() tea.Msg {
		n, err := data.Count(ctx, f)
		return countLoadedMsg{gen: gen, n: n, err: err}
	}
}

// Loading reports whether the first page of the filter is still on its way.
func (m Model) Loading() bool {
	return m.loading[fetchFirst] || m.loading[fetchLast]
}

// Err is the last query error of this filter.
func (m Model) Err() error { return m.err }

// Selected is the row under the cursor.
func (m Model) Selected() (store.Row, bool) {
	if m.cur < 0 || m.cur >= len(m.rows) {
		return store.Row{}, false
	}
	return m.rows[m.cur], true
}

// Position is the cursor's 1-based row number and the total. known is false
// while the count, or the window's place in the result, is not known yet.
func (m Model) Position() (n, total int64, nKnown, totalKnown bool) {
	if len(m.rows) == 0 {
		return 0, m.total, true, m.totalKnown
	}
	return m.base + int64(m.cur) + 1, m.total, m.baseKnown, m.totalKnown
}

// Update handles the table's messages and, when focused, its keys.
func (m Model) Update(c common.Context, msg tea.Msg, focused bool) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case rowsLoadedMsg:
		if msg.gen != m.gen {
			return m, nil // a newer filter took over
		}
		delete(m.loading, msg.kind)
		if msg.err != nil {
			if !errors.Is(msg.err, context.Canceled) {
				m.err = msg.err
			}
			return m, nil
		}
		cmd := m.applyPage(msg)
		if m.countWanted && (msg.kind == fetchFirst || msg.kind == fetchLast) {
			m.countWanted = false
			if !m.totalKnown {
				cmd = tea.Batch(cmd, m.count(m.genCtx))
			}
		}
		return m, cmd
	case countLoadedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		if msg.err != nil {
			m.err = msg.err
			return m, nil
		}
		m.total, m.totalKnown = msg.n, true
		if m.eofAfter && !m.baseKnown {
			m.base, m.baseKnown = m.total-int64(len(m.rows)), true
		}
		return m, nil
	case tea.KeyPressMsg:
		if !focused {
			return m, nil
		}
		k := c.Keys
		switch {
		case key.Matches(msg, k.Up):
			return m, m.Move(-1)
		case key.Matches(msg, k.Down):
			return m, m.Move(1)
		case key.Matches(msg, k.PageUp):
			return m, m.Move(-m.visible())
		case key.Matches(msg, k.PageDown):
			return m, m.Move(m.visible())
		case key.Matches(msg, k.Home):
			return m, m.restart(fetchFirst)
		case key.Matches(msg, k.End):
			return m, m.End()
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			return m, m.Move(-3)
		case tea.MouseWheelDown:
			return m, m.Move(3)
		}
	}
	return m, nil
}

// End jumps to the last rows (PageBefore with no cursor); the count is kept.
func (m *Model) End() tea.Cmd {
	if m.eofAfter && len(m.rows) > 0 {
		return m.Move(len(m.rows))
	}
	total, known := m.total, m.totalKnown
	cmd := m.restart(fetchLast)
	m.total, m.totalKnown = total, known
	return cmd
}

// Click selects the row drawn on line y of the table (0 is the header).
func (m *Model) Click(y int) tea.Cmd {
	if y < 1 {
		return nil
	}
	i := m.top + y - 1
	if i >= len(m.rows) {
		return nil
	}
	return m.Move(i - m.cur)
}

// Move moves the cursor by delta rows, fetching the next page when the cursor
// nears an edge of the window. A move past a page still in flight resumes
// when the page arrives.
func (m *Model) Move(delta int) tea.Cmd {
	if len(m.rows) == 0 {
		return nil
	}
	want := m.cur + delta
	m.cur = min(max(want, 0), len(m.rows)-1)
	m.pending = 0
	if want > m.cur && !m.eofAfter {
		m.pending = want - m.cur
	} else if want < m.cur && !m.eofBefore {
		m.pending = want - m.cur
	}
	m.clampTop()
	return m.prefetch()
}

func (m *Model) clampTop() {
	v := m.visible()
	if m.cur < m.top {
		m.top = m.cur
	}
	if m.cur >= m.top+v {
		m.top = m.cur - v + 1
	}
	m.top = max(min(m.top, len(m.rows)-v), 0)
}

func (m *Model) prefetch() tea.Cmd {
	var cmds []tea.Cmd
	busy := m.loading[fetchFirst] || m.loading[fetchLast]
	if !busy && !m.eofAfter && !m.loading[fetchAfter] && len(m.rows)-1-m.cur < m.prefetchMargin() {
		c := store.CursorOf(m.rows[len(m.rows)-1])
		cmds = append(cmds, m.fetch(m.genCtx, fetchAfter, &c))
	}
	if !busy && !m.eofBefore && !m.loading[fetchBefore] && m.cur < m.prefetchMargin() {
		c := store.CursorOf(m.rows[0])
		cmds = append(cmds, m.fetch(m.genCtx, fetchBefore, &c))
	}
	return tea.Batch(cmds...)
}

func (m *Model) applyPage(msg rowsLoadedMsg) tea.Cmd {
	short := len(msg.rows) < msg.limit
	switch msg.kind {
	case fetchFirst:
		m.rows, m.top, m.cur = msg.rows, 0, 0
		m.base, m.baseKnown, m.eofBefore, m.eofAfter = 0, true, true, short
		if short {
			m.total, m.totalKnown = int64(len(msg.rows)), true
		}
	case fetchLast:
		m.rows = msg.rows
		m.cur = max(len(m.rows)-1, 0)
		m.eofAfter, m.eofBefore = true, short
		m.top = max(len(m.rows)-m.visible(), 0)
		switch {
		case short:
			m.base, m.baseKnown = 0, true
		case m.totalKnown:
			m.base, m.baseKnown = m.total-int64(len(m.rows)), true
		}
		m.pending = 0
		return nil
	case fetchAfter:
		if len(m.rows) == 0 || *msg.anchor != store.CursorOf(m.rows[len(m.rows)-1]) {
			return nil // the window moved on
		}
		m.rows = append(m.rows, msg.rows...)
		m.eofAfter = short
		if over := len(m.rows) - m.windowCap(); over > 0 {
			k := min(over, m.top)
			m.rows = append([]store.Row(nil), m.rows[k:]...)
			m.top -= k
			m.cur -= k
			m.base += int64(k)
			m.eofBefore = m.eofBefore && k == 0
		}
	case fetchBefore:
		if len(m.rows) == 0 || *msg.anchor != store.CursorOf(m.rows[0]) {
			return nil
		}
		n := len(msg.rows)
		m.rows = append(append([]store.Row(nil), msg.rows...), m.rows...)
		m.top += n
		m.cur += n
		m.base -= int64(n)
		m.eofBefore = short
		if short {
			m.base, m.baseKnown = 0, true
		}
		if over := len(m.rows) - m.windowCap(); over > 0 {
			k := min(over, len(m.rows)-(m.top+m.visible()))
			if k > 0 {
				m.rows = m.rows[:len(m.rows)-k]
				m.eofAfter = false
			}
		}
	}
	m.clampTop()
	if m.pending != 0 {
		p := m.pending
		m.pending = 0
		return m.Move(p)
	}
	return m.prefetch()
}

// View draws the header and the visible rows in exactly width×height cells.
func (m Model) View(c common.Context) string {
	t := c.Theme
	cols := layout(m.width)
	var b strings.Builder
	var head []string
	for _, col := range cols {
		head = append(head, common.Fit(col.title, col.width))
	}
	b.WriteString(t.TableHead.Render(common.Fit(strings.Join(head, " "), m.width)))
	v := m.visible()
	switch {
	case len(m.rows) == 0 && m.err != nil:
		b.WriteString("\n" + t.Error.Render(common.Fit("query failed: "+sanitize.LineOf(m.err.Error()), m.width)))
	case len(m.rows) == 0 && m.Loading():
		b.WriteString("\n" + t.Dim.Render(common.Fit("loading…", m.width)))
	case len(m.rows) == 0:
		b.WriteString("\n" + t.Dim.Render(common.Fit("no events match this filter (esc clears it, i shows internal users)", m.width)))
	}
	for i := m.top; i < min(m.top+v, len(m.rows)); i++ {
		r := m.rows[i]
		var cells []string
		for _, col := range cols {
			cells = append(cells, common.Fit(col.value(c, r), col.width))
		}
		line := common.Fit(strings.Join(cells, " "), m.width)
		st := t.Row
		if r.ErrorMessage != "" {
			st = t.RowError
		}
		if i == m.cur {
			st = t.RowSelected
		}
		b.WriteString("\n" + st.Render(line))
	}
	return common.Block(b.String(), m.width, m.height)
}

// String describes the window for test failure messages.
func (m Model) String() string {
	return fmt.Sprintf("events{gen %d rows %d top %d cur %d base %d}", m.gen, len(m.rows), m.top, m.cur, m.base)
}
