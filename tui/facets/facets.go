// Package facets owns the facet panel: event counts per cluster, source,
// database, user, class and command under the current filter, with a cursor to
// toggle a value in or out of the filter. Counts of a dimension that has
// selected values ignore that dimension's own selection, so its other values
// stay visible and can be added.
//
// facets imports store (types and the Counter contract it defines), common and
// sanitize; it must not import other tui components, ingest or AWS.
package facets

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Counter counts facet values. *store.Store satisfies it.
type Counter interface {
	Facets(ctx context.Context, f store.Filter, dims []store.Dim, limit int) (map[store.Dim][]store.FacetValue, error)
}

// perDim bounds each dimension's list: the panel is for picking, the filter
// line (with completion) reaches any value.
const perDim = 25

// Width is the panel's width in cells.
const Width = 32

// ToggleMsg asks the root to add or remove Value of Dim in the filter.
type ToggleMsg struct {
	Dim   store.Dim
	Value string
}

type loadedMsg struct {
	gen    int
	values map[store.Dim][]store.FacetValue
	err    error
}

type item struct {
	dim   store.Dim
	value string
	count int64
}

// Model is the facet panel.
type Model struct {
	data    Counter
	ctx     context.Context
	gen     int
	items   []item // headers have value == "" and count -1
	cur     int
	top     int
	err     error
	loading bool
	height  int
}

// New returns an empty panel.
func New(ctx context.Context, data Counter) Model { return Model{data: data, ctx: ctx} }

// Loading reports whether counts are on their way.
func (m Model) Loading() bool { return m.loading }

// SetHeight sets the panel's lines.
func (m *Model) SetHeight(h int) { m.height = max(h, 1) }

// Load counts the values under f in the background.
func (m *Model) Load(f store.Filter) tea.Cmd {
	m.gen++
	m.loading = true
	gen, ctx, data := m.gen, m.ctx, m.data
	return func() tea.Msg {
		out := map[store.Dim][]store.FacetValue{}
		// Dimensions without a selection share one grouped scan; each
		// dimension with a selection is counted without its own selection.
		var free []store.Dim
		for _, d := range store.AllDims() {
			if len(dimValues(f, d)) == 0 {
				free = append(free, d)
			}
		}
		if len(free) > 0 {
			got, err := data.Facets(ctx, f, free, perDim)
			if err != nil {
				return loadedMsg{gen: gen, err: err}
			}
			for d, v := range got {
				out[d] = v
			}
		}
		for _, d := range store.AllDims() {
			if len(dimValues(f, d)) == 0 {
				continue
			}
			g := f
			setDimValues(&g, d, nil)
			got, err := data.Facets(ctx, g, []store.Dim{d}, perDim)
			if err != nil {
				return loadedMsg{gen: gen, err: err}
			}
			out[d] = got[d]
		}
		return loadedMsg{gen: gen, values: out}
	}
}

// Update handles loaded counts and, when focused, moving and toggling.
func (m Model) Update(c common.Context, msg tea.Msg, focused bool) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.loading, m.err = false, msg.err
		if msg.err == nil {
			m.setItems(msg.values)
		}
	case tea.KeyPressMsg:
		if !focused || len(m.items) == 0 {
			return m, nil
		}
		k := c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.move(-1)
		case key.Matches(msg, k.Down):
			m.move(1)
		case key.Matches(msg, k.PageUp):
			m.move(-m.height)
		case key.Matches(msg, k.PageDown):
			m.move(m.height)
		case key.Matches(msg, k.Home):
			m.move(-len(m.items))
		case key.Matches(msg, k.End):
			m.move(len(m.items))
		case key.Matches(msg, k.Toggle):
			it := m.items[m.cur]
			if it.count >= 0 {
				return m, func() tea.Msg { return ToggleMsg{Dim: it.dim, Value: it.value} }
			}
		}
	}
	return m, nil
}

func (m *Model) setItems(values map[store.Dim][]store.FacetValue) {
	var keep item
	if m.cur < len(m.items) {
		keep = m.items[m.cur]
	}
	m.items = m.items[:0]
	for _, d := range store.AllDims() {
		m.items = append(m.items, item{dim: d, count: -1})
		for _, v := range values[d] {
			m.items = append(m.items, item{dim: d, value: v.Value, count: v.Count})
		}
	}
	// Keep the cursor on the same value across reloads so toggling several
	// values in a row does not jump around.
	m.cur = 1
	for i, it := range m.items {
		if it.dim == keep.dim && it.value == keep.value && it.count >= 0 == (keep.count >= 0) {
			m.cur = i
		}
	}
	m.cur = min(m.cur, len(m.items)-1)
	m.move(0)
}

func (m *Model) move(d int) {
	if len(m.items) == 0 {
		return
	}
	m.cur = min(max(m.cur+d, 0), len(m.items)-1)
	// Headers are not selectable: step over them in the direction of travel.
	if m.items[m.cur].count < 0 {
		if d < 0 && m.cur > 0 {
			m.cur--
		} else if m.cur+1 < len(m.items) {
			m.cur++
		}
	}
	if m.cur < m.top {
		m.top = m.cur
		if m.top > 0 && m.items[m.top-1].count < 0 {
			m.top-- // show the header of the first visible value
		}
	}
	if m.cur >= m.top+m.height {
		m.top = m.cur - m.height + 1
	}
}

func title(d store.Dim) string {
	switch d {
	case store.DimCluster:
		return "cluster"
	case store.DimSource:
		return "source"
	case store.DimDatabase:
		return "database"
	case store.DimUser:
		return "user"
	case store.DimClass:
		return "class"
	case store.DimCommand:
		return "command"
	}
	return string(d)
}

// View draws the panel in Width×height cells; values selected in f are marked.
func (m Model) View(c common.Context, f store.Filter, focused bool) string {
	t := c.Theme
	var lines []string
	switch {
	case m.err != nil:
		lines = append(lines, t.Error.Render("facets: "+sanitize.LineOf(m.err.Error())))
	case len(m.items) == 0 && m.loading:
		lines = append(lines, t.Dim.Render("counting…"))
	}
	for i := m.top; i < len(m.items) && len(lines) < m.height; i++ {
		it := m.items[i]
		if it.count < 0 {
			lines = append(lines, t.Title.Render(common.Fit(title(it.dim), Width-1)))
			continue
		}
		mark := "○ "
		if slices.Contains(dimValues(f, it.dim), it.value) {
			mark = "● "
		}
		n := fmt.Sprintf(" %d", it.count)
		label := common.Fit(mark+sanitize.LineOf(it.value), Width-1-len(n))
		line := label + n
		switch {
		case focused && i == m.cur:
			line = t.RowSelected.Render(line)
		case mark == "● ":
			line = t.Active.Render(line)
		}
		lines = append(lines, line)
	}
	return common.Block(strings.Join(lines, "\n"), Width-1, m.height)
}

// dimValues returns f's selection for d.
func dimValues(f store.Filter, d store.Dim) []string {
	switch d {
	case store.DimCluster:
		return f.Clusters
	case store.DimSource:
		return f.Sources
	case store.DimDatabase:
		return f.Databases
	case store.DimUser:
		return f.Users
	case store.DimClass:
		return f.Classes
	case store.DimCommand:
		return f.Commands
	}
	return nil
}

func setDimValues(f *store.Filter, d store.Dim, v []string) {
	switch d {
	case store.DimCluster:
		f.Clusters = v
	case store.DimSource:
		f.Sources = v
	case store.DimDatabase:
		f.Databases = v
	case store.DimUser:
		f.Users = v
	case store.DimClass:
		f.Classes = v
	case store.DimCommand:
		f.Commands = v
	}
}

// Toggle returns f with value added to or removed from d's selection.
func Toggle(f store.Filter, d store.Dim, value string) store.Filter {
	cur := slices.Clone(dimValues(f, d))
	if i := slices.Index(cur, value); i >= 0 {
		cur = slices.Delete(cur, i, i+1)
	} else {
		cur = append(cur, value)
	}
	if len(cur) == 0 {
		cur = nil
	}
	setDimValues(&f, d, cur)
	return f
}
