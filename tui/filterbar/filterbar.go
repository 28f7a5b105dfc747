// Package filterbar owns the filter line: the small filter language (parse.go),
// the debounced editing that turns keystrokes into filter changes, and
// completion of keys and values from the case file's facet values.
//
// filterbar imports store (for Filter and facet types), common and prompt; it
// must not import other tui components, ingest or AWS.
package filterbar

import (
	"context"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/prompt"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Debounce is how long typing must pause before the filter applies: short
// enough to feel live, long enough not to start a query per keystroke.
const Debounce = 150 * time.Millisecond

// Completer gives the values offered by tab completion. *store.Store satisfies it.
type Completer interface {
	Facets(ctx context.Context, f store.Filter, dims []store.Dim, limit int) (map[store.Dim][]store.FacetValue, error)
}

// ChangedMsg says the filter line now means Filter (Text is the line).
type ChangedMsg struct {
	Filter store.Filter
	Text   string
}

type debounceMsg struct{ seq int }

type valuesLoadedMsg struct {
	values map[store.Dim][]string
	err    error
}

// Model is the filter bar.
type Model struct {
	in      prompt.Input
	focused bool
	before  string // the line when the bar was opened, restored by esc
	applied string // the line whose filter is in effect
	seq     int
	err     error
	values  map[store.Dim][]string
	loading bool
	comp    completion
	// Now is the clock for relative times; tests pin it.
	Now func() time.Time
	// Delay is the debounce pause (Debounce by default; tests shorten it).
	Delay time.Duration
}

type completion struct {
	line    string // the line as completion left it; typing elsewhere resets
	base    string // the line before the first tab
	start   int    // where the completed part begins in base (runes)
	matches []string
	idx     int
}

// New returns an empty, unfocused bar.
func New() Model { return Model{Now: time.Now, Delay: Debounce} }

// Focused reports whether keys go to the bar.
func (m Model) Focused() bool { return m.focused }

// Err is the parse error of the line, if any.
func (m Model) Err() error { return m.err }

// Text is the line.
func (m Model) Text() string { return m.in.Value() }

// SetText replaces the line without applying it (the root calls this when the
// filter changed from elsewhere: facets, zoom, time zone).
func (m *Model) SetText(s string) {
	m.in.SetValue(s)
	m.applied = s
	m.err = nil
	m.comp = completion{}
}

// Focus opens the bar for editing and loads completion values once.
func (m *Model) Focus(ctx context.Context, data Completer) tea.Cmd {
	m.focused = true
	m.before = m.in.Value()
	m.in.SetValue(m.in.Value())
	if m.values != nil || m.loading || data == nil {
		return nil
	}
	m.loading = true
	return func() tea.Msg {
		fv, err := data.Facets(ctx, store.Filter{IncludeInternal: true}, store.AllDims(), 500)
		vals := map[store.Dim][]string{}
		for d, list := range fv {
			for _, v := range list {
				vals[d] = append(vals[d], v.Value)
			}
		}
		return valuesLoadedMsg{values: vals, err: err}
	}
}

// Update handles keys while focused and the bar's own messages.
func (m Model) Update(c common.Context, msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case valuesLoadedMsg:
		m.loading = false
		if msg.err == nil {
			m.values = msg.values
		}
		return m, nil
	case debounceMsg:
		if msg.seq != m.seq {
			return m, nil // a later keystroke superseded this one
		}
		return m, m.apply(c)
	case tea.KeyPressMsg:
		if !m.focused {
			return m, nil
		}
		switch msg.String() {
		case "enter":
			m.focused = false
			m.seq++
			return m, m.apply(c)
		case "esc":
			m.focused = false
			m.seq++
			m.in.SetValue(m.before)
			return m, m.apply(c)
		case "tab":
			m.complete(1)
			m.seq++
			return m, m.debounce()
		case "shift+tab":
			m.complete(-1)
			m.seq++
			return m, m.debounce()
		}
		if changed, _ := m.in.Update(msg); changed {
			m.comp = completion{}
			m.seq++
			return m, m.debounce()
		}
	}
	return m, nil
}

func (m *Model) debounce() tea.Cmd {
	seq := m.seq
	return tea.Tick(m.Delay, func(time.Time) tea.Msg { return debounceMsg{seq} })
}

// apply parses the line and announces the filter when it changed.
func (m *Model) apply(c common.Context) tea.Cmd {
	line := m.in.Value()
	f, err := Parse(line, m.Now(), c.Location())
	m.err = err
	if err != nil || line == m.applied {
		return nil
	}
	m.applied = line
	return func() tea.Msg { return ChangedMsg{Filter: f, Text: line} }
}

// complete replaces the word at the end of the line with the next (dir 1) or
// previous (-1) candidate: a key name, or a value of that key's dimension.
func (m *Model) complete(dir int) {
	line := m.in.Value()
	if m.comp.line != line || len(m.comp.matches) == 0 {
		m.comp = m.candidates(line)
		if len(m.comp.matches) == 0 {
			return
		}
		m.comp.idx = 0
		if dir < 0 {
			m.comp.idx = len(m.comp.matches) - 1
		}
	} else {
		m.comp.idx = (m.comp.idx + dir + len(m.comp.matches)) % len(m.comp.matches)
	}
	base := []rune(m.comp.base)
	m.in.SetValue(string(base[:m.comp.start]) + m.comp.matches[m.comp.idx])
	m.comp.line = m.in.Value()
}

func (m *Model) candidates(line string) completion {
	r := []rune(line)
	ws := len(r)
	for ws > 0 && r[ws-1] != ' ' {
		ws--
	}
	word := string(r[ws:])
	comp := completion{base: line}
	key, rest, hasKey := strings.Cut(word, ":")
	if !hasKey {
		comp.start = ws
		for _, k := range FieldKeys() {
			if strings.HasPrefix(k, strings.ToLower(word)) {
				comp.matches = append(comp.matches, k+":")
			}
		}
		return comp
	}
	dim := DimOf(key)
	if dim == "" {
		return comp
	}
	// Complete the value after the last comma.
	vs := strings.LastIndex(rest, ",") + 1
	prefix := strings.TrimPrefix(rest[vs:], `"`)
	comp.start = ws + len([]rune(key)) + 1 + len([]rune(rest[:vs]))
	for _, v := range m.values[dim] {
		if strings.HasPrefix(strings.ToLower(v), strings.ToLower(prefix)) {
			comp.matches = append(comp.matches, quoteValue(v))
		}
	}
	slices.Sort(comp.matches)
	return comp
}

// View draws the bar in one line of width cells.
func (m Model) View(c common.Context, width int) string {
	t := c.Theme
	if !m.focused && m.in.Value() == "" {
		return common.Fit(t.Dim.Render("filter: none — / to filter, f for facets"), width)
	}
	line := m.in.View("/ ", t.Prompt, t.Cursor, m.focused, width)
	var extra string
	switch {
	case m.err != nil:
		extra = t.Error.Render("  " + m.err.Error())
	case m.focused && len(m.comp.matches) > 1:
		shown := m.comp.matches
		if len(shown) > 8 {
			shown = shown[:8]
		}
		extra = t.Dim.Render("  tab: " + sanitize.LineOf(strings.Join(shown, " ")))
	case m.focused:
		extra = t.Dim.Render("  enter apply · esc cancel · tab complete")
	}
	if ansi.StringWidth(line)+ansi.StringWidth(extra) <= width {
		line += extra
	}
	return common.Fit(line, width)
}
