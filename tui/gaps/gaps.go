// Package gaps owns the capture-gaps page: per-cluster coverage strips over
// one shared time axis, sync and async clusters grouped and labelled with
// their DAS mode, each bucket coloured by state (both sources, DAS missing,
// pgAudit missing, no activity), the loss rates of both sides and the loss
// windows. Enter on a window asks the root to list the records the other
// source has there. The reconciliation runs in DuckDB (store.Gaps,
// store.GapSeries) in a background command.
//
// gaps imports store (types and the Source contract it defines), common and
// sanitize; it must not import other tui components, ingest or AWS.
package gaps

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
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Source reconciles DAS against pgAudit. *store.Store satisfies it.
type Source interface {
	Gaps(ctx context.Context, opt store.GapsOptions) ([]store.ClusterGaps, error)
	GapSeries(ctx context.Context, cluster string, bucket time.Duration) ([]store.GapBucket, error)
	GapRecords(ctx context.Context, cluster string, start, end time.Time, side string, limit int) ([]store.Row, error)
}

// RecordLimit caps the records listed for one window per side.
const RecordLimit = 1000

// labelWidth is the cells left of a strip: cluster name and mode.
const labelWidth = 24

// OpenMsg asks the root to show the records behind a window in the events
// view: EventIDs are the records the other source has there, at most
// RecordLimit per side.
type OpenMsg struct {
	Cluster  string
	Window   store.GapWindow
	EventIDs []int64
	Err      error
}

type loadedMsg struct {
	gen      int
	clusters []store.ClusterGaps
	series   []store.GapBucket
	axis     axis
	err      error
}

// axis maps time to strip cells: cell i covers [from+i·bucket, from+(i+1)·bucket).
type axis struct {
	from   time.Time
	bucket time.Duration
	cells  int
}

// cell is the index of the cell holding t.
func (a axis) cell(t time.Time) int { return int(t.Sub(a.from) / a.bucket) }

// State is what a bucket of a strip shows.
type State int

// Bucket states, in legend order.
const (
	NoActivity State = iota
	Both
	DASMissing
	PgAuditMissing
)

// Model is the gaps page.
type Model struct {
	data          Source
	ctx           context.Context
	gen           int
	loading       bool
	err           error
	clusters      []store.ClusterGaps // in display order: sync, async, others
	series        map[string][]State  // per cluster, one state per cell
	axis          axis
	windows       []window // every cluster's windows, in display order
	cur, top      int
	width, height int
	loadedWidth   int
}

type window struct {
	cluster, mode string
	store.GapWindow
}

// New returns an empty page.
func New(ctx context.Context, data Source) Model { return Model{data: data, ctx: ctx} }

// SetSize sets the page's cells.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, max(h, 6) }

// Loaded reports whether a reconciliation is shown (or failed).
func (m Model) Loaded() bool { return !m.loading && (m.clusters != nil || m.err != nil) }

// Stale reports whether the strips were computed for another width.
func (m Model) Stale() bool { return m.loadedWidth != m.stripWidth() }

// Windows is the number of loss windows listed.
func (m Model) Windows() int { return len(m.windows) }

func (m Model) stripWidth() int { return max(m.width-labelWidth-1, 10) }

// Load reconciles the case file in the background: the counts and windows
// first (their coverage gives the time axis), then the strips, one bucket per
// cell.
func (m *Model) Load() tea.Cmd {
	if m.data == nil {
		return nil
	}
	m.gen++
	m.loading = true
	gen, ctx, data, cells := m.gen, m.ctx, m.data, m.stripWidth()
	m.loadedWidth = cells
	return func() tea.Msg {
		cg, err := data.Gaps(ctx, store.GapsOptions{})
		if err != nil {
			return loadedMsg{gen: gen, err: err}
		}
		ax, ok := axisOf(cg, cells)
		if !ok {
			return loadedMsg{gen: gen, clusters: cg}
		}
		series, err := data.GapSeries(ctx, "", ax.bucket)
		if err != nil {
			return loadedMsg{gen: gen, err: err}
		}
		return loadedMsg{gen: gen, clusters: cg, series: series, axis: ax}
	}
}

// axisOf spans every cluster's first to last event with at most cells
// buckets of a round length, aligned the way GapSeries aligns them
// (multiples of the bucket since the epoch).
func axisOf(cg []store.ClusterGaps, cells int) (axis, bool) {
	var first, last time.Time
	for _, c := range cg {
		for _, cov := range c.Coverage {
			if cov.Source == "heartbeat" || cov.Events == 0 {
				continue
			}
			if first.IsZero() || cov.First.Before(first) {
				first = cov.First
			}
			if cov.Last.After(last) {
				last = cov.Last
			}
		}
	}
	if first.IsZero() || cells < 2 {
		return axis{}, false
	}
	for _, bucket := range roundBuckets(last.Sub(first) / time.Duration(cells-1)) {
		from := time.UnixMicro(first.UnixMicro() / bucket.Microseconds() * bucket.Microseconds()).UTC()
		a := axis{from: from, bucket: bucket}
		// Alignment may push the last event one cell further.
		if a.cell(last) < cells {
			a.cells = a.cell(last) + 1
			return a, true
		}
	}
	return axis{}, false
}

// roundBuckets lists the bucket lengths a reader counts in, from the first
// at least min, ending with whole days as long as needed.
func roundBuckets(min time.Duration) []time.Duration {
	var out []time.Duration
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if d >= min {
			out = append(out, d)
		}
	}
	day := 24 * time.Hour
	for d := day; len(out) < 3 || d < 2*min; d += day {
		if d >= min {
			out = append(out, d)
		}
	}
	return out
}

// Update handles the reconciliation and keys.
func (m Model) Update(c common.Context, msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.loading, m.err = false, msg.err
		if msg.err == nil {
			m.apply(msg)
		}
	case tea.KeyPressMsg:
		k := c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.move(-1)
		case key.Matches(msg, k.Down):
			m.move(1)
		case key.Matches(msg, k.PageUp):
			m.move(-m.listHeight())
		case key.Matches(msg, k.PageDown):
			m.move(m.listHeight())
		case key.Matches(msg, k.Home):
			m.move(-len(m.windows))
		case key.Matches(msg, k.End):
			m.move(len(m.windows))
		case key.Matches(msg, k.Open):
			return m, m.open()
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

func (m *Model) apply(msg loadedMsg) {
	cg := slices.Clone(msg.clusters)
	if cg == nil {
		cg = []store.ClusterGaps{}
	}
	slices.SortStableFunc(cg, func(a, b store.ClusterGaps) int { return rank(a) - rank(b) })
	m.clusters, m.axis = cg, msg.axis
	m.series = map[string][]State{}
	for _, c := range cg {
		m.series[c.Cluster] = make([]State, msg.axis.cells)
	}
	for _, b := range msg.series {
		s := m.series[b.Cluster]
		i := msg.axis.cell(b.Start)
		if s == nil || i < 0 || i >= len(s) {
			continue
		}
		s[i] = worse(s[i], stateOf(b))
	}
	m.windows = nil
	for _, c := range cg {
		if c.PgAuditOnly() {
			continue // nothing to reconcile against: no window is a loss
		}
		for _, w := range c.Windows {
			m.windows = append(m.windows, window{cluster: c.Cluster, mode: c.Mode, GapWindow: w})
		}
	}
	m.cur = min(m.cur, max(len(m.windows)-1, 0))
	m.scroll()
}

// modeRank groups sync clusters first, then async, then the rest.
// rank orders the groups: sync, async, mode unknown, pgAudit only.
func rank(c store.ClusterGaps) int {
	if c.PgAuditOnly() {
		return 3
	}
	return modeRank(c.Mode)
}

func modeRank(mode string) int {
	switch mode {
	case "sync":
		return 0
	case "async":
		return 1
	}
	return 2
}

// stateOf is a bucket's state: any loss wins over agreement, and the side
// with more missing records wins when both lost some.
func stateOf(b store.GapBucket) State {
	switch {
	case b.MissingInDAS > 0 && b.MissingInDAS >= b.MissingInPgAudit:
		return DASMissing
	case b.MissingInPgAudit > 0:
		return PgAuditMissing
	case b.Matched > 0:
		return Both
	}
	return NoActivity
}

// worse keeps the more alarming of two states of one cell.
func worse(a, b State) State {
	rank := func(s State) int { return [...]int{0, 1, 3, 2}[s] }
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func (m *Model) move(d int) {
	m.cur = min(max(m.cur+d, 0), max(len(m.windows)-1, 0))
	m.scroll()
}

func (m *Model) scroll() {
	v := max(m.listHeight(), 1)
	if m.cur < m.top {
		m.top = m.cur
	}
	if m.cur >= m.top+v {
		m.top = m.cur - v + 1
	}
}

// open fetches the records behind the selected window: the pgAudit records
// DAS lacks and the DAS records pgAudit lacks there.
func (m Model) open() tea.Cmd {
	if m.cur >= len(m.windows) {
		return nil
	}
	w := m.windows[m.cur]
	ctx, data := m.ctx, m.data
	return func() tea.Msg {
		out := OpenMsg{Cluster: w.cluster, Window: w.GapWindow}
		for _, side := range []struct {
			name string
			n    int64
		}{{store.SideMissingInDAS, w.MissingInDAS}, {store.SideMissingInPgAudit, w.MissingInPgAudit}} {
			if side.n == 0 {
				continue
			}
			rows, err := data.GapRecords(ctx, w.cluster, w.Start, w.End, side.name, RecordLimit)
			if err != nil {
				out.Err = err
				return out
			}
			for _, r := range rows {
				out.EventIDs = append(out.EventIDs, r.EventID)
			}
		}
		return out
	}
}

// lines above the window list: title, one group label per mode, two lines per
// cluster, axis, legend, blank, list title and header.
func (m Model) listHeight() int {
	groups := 0
	prev := -1
	for _, c := range m.clusters {
		if r := rank(c); r != prev {
			groups, prev = groups+1, r
		}
	}
	return m.height - (1 + groups + 2*len(m.clusters) + 2 + 1 + 2)
}

// Glyph is how a state is drawn: a colored block, or with NO_COLOR a
// distinct character.
func Glyph(c common.Context, s State) string {
	t := c.Theme
	if t.NoColor {
		return [...]string{"·", "█", "D", "P"}[s]
	}
	switch s {
	case Both:
		return t.OK.Render("█")
	case DASMissing:
		return t.Error.UnsetBold().Render("█")
	case PgAuditMissing:
		return t.Warn.Render("█")
	}
	return t.Dim.Render("·")
}

// View draws the page in exactly width×height cells.
func (m Model) View(c common.Context) string {
	t := c.Theme
	lines := []string{}
	title := "Capture gaps — DAS reconciled against pgAudit"
	if m.axis.bucket > 0 {
		title += fmt.Sprintf(" · %s → %s · one cell = %s", c.FormatTime(m.axis.from),
			c.FormatTime(m.axis.from.Add(time.Duration(m.axis.cells)*m.axis.bucket)), m.axis.bucket)
	}
	lines = append(lines, t.Title.Render(common.Fit(title, m.width)))
	switch {
	case m.err != nil:
		lines = append(lines, t.Error.Render("gaps: "+sanitize.LineOf(m.err.Error())))
		return common.Block(strings.Join(lines, "\n"), m.width, m.height)
	case m.clusters == nil && m.loading:
		lines = append(lines, t.Dim.Render("reconciling DAS against pgAudit…"))
		return common.Block(strings.Join(lines, "\n"), m.width, m.height)
	case len(m.clusters) == 0:
		lines = append(lines, t.Dim.Render("no cluster has events yet"))
		return common.Block(strings.Join(lines, "\n"), m.width, m.height)
	}
	prev := -1
	for _, cl := range m.clusters {
		if r := rank(cl); r != prev {
			prev = r
			label := [...]string{"DAS sync mode (nothing may be lost)", "DAS async mode (may drop records under load)",
				"DAS mode not configured", "pgAudit only (no activity stream to reconcile)"}[r]
			lines = append(lines, t.Label.Render(label))
		}
		var strip strings.Builder
		for _, s := range m.series[cl.Cluster] {
			strip.WriteString(Glyph(c, s))
		}
		name := common.Fit(" "+sanitize.LineOf(cl.Cluster), labelWidth-7) + " " + common.Fit(sanitize.LineOf(cl.Mode), 6)
		lines = append(lines, common.Fit(name+" "+strip.String(), m.width))
		lines = append(lines, t.Dim.Render(common.Fit(strings.Repeat(" ", labelWidth+1)+lossLine(cl), m.width)))
	}
	lines = append(lines, m.axisLine(c), m.legend(c), "")
	lines = append(lines, t.Title.Render(fmt.Sprintf("Loss windows (%d) — enter lists the records the other source has there", len(m.windows))))
	head := fmt.Sprintf(" %-16s %-6s %-19s %-19s %15s %19s", "cluster", "mode", "start", "end", "missing in DAS", "missing in pgAudit")
	lines = append(lines, t.TableHead.Render(common.Fit(head, m.width)))
	if len(m.windows) == 0 {
		lines = append(lines, t.Dim.Render(" no loss windows: every record of one source has its counterpart in the other"))
	}
	for i := m.top; i < len(m.windows) && len(lines) < m.height; i++ {
		w := m.windows[i]
		line := fmt.Sprintf(" %-16s %-6s %-19s %-19s %15d %19d", common.Fit(sanitize.LineOf(w.cluster), 16), common.Fit(sanitize.LineOf(w.mode), 6),
			c.FormatTime(w.Start), c.FormatTime(w.End), w.MissingInDAS, w.MissingInPgAudit)
		st := t.Row
		if i == m.cur {
			st = t.RowSelected
		}
		lines = append(lines, st.Render(common.Fit(line, m.width)))
	}
	return common.Block(strings.Join(lines, "\n"), m.width, m.height)
}

// lossLine gives both loss rates of a cluster: missing over what the other
// source recorded.
func lossLine(c store.ClusterGaps) string {
	if c.PgAuditOnly() {
		return fmt.Sprintf("pgAudit only: %d statement records, no DAS to compare with", c.PgAuditEvents)
	}
	rate := func(n, of int64) string {
		if of == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
	}
	return fmt.Sprintf("DAS lost %d of %d (%s) · pgAudit lacks %d of %d (%s) · %d windows · %d heartbeat gaps",
		c.MissingInDAS, c.PgAuditEvents, rate(c.MissingInDAS, c.PgAuditEvents),
		c.MissingInPgAudit, c.DASEvents, rate(c.MissingInPgAudit, c.DASEvents), len(c.Windows), len(c.HeartbeatGaps))
}

// axisLine marks the start, middle and end of the strips.
func (m Model) axisLine(c common.Context) string {
	t := c.Theme
	if m.axis.cells == 0 {
		return ""
	}
	n := m.axis.cells
	row := []rune(strings.Repeat(" ", labelWidth+1+n+20))
	put := func(cell int, s string) {
		at := labelWidth + 1 + cell
		if cell > 0 {
			at -= len([]rune(s)) / 2
		}
		if cell == n {
			at = labelWidth + 1 + n - len([]rune(s))
		}
		for i, r := range []rune(s) {
			if at+i >= 0 && at+i < len(row) {
				row[at+i] = r
			}
		}
	}
	// Axes longer than a day carry the date of each mark, not just the time.
	multiDay := time.Duration(n)*m.axis.bucket > 24*time.Hour
	stamp := func(cell int) string {
		s := c.FormatTime(m.axis.from.Add(time.Duration(cell) * m.axis.bucket))
		if multiDay && len(s) >= 16 {
			return s[5:16]
		}
		return s[11:16]
	}
	put(0, "└"+stamp(0))
	put(n/2, stamp(n/2))
	put(n, stamp(n)+"┘")
	if day := c.FormatTime(m.axis.from); len(day) >= 10 {
		copy(row[1:], []rune(day[:10]))
	}
	return t.Dim.Render(common.Fit(strings.TrimRight(string(row), " "), m.width))
}

func (m Model) legend(c common.Context) string {
	t := c.Theme
	items := []string{}
	for _, s := range []State{Both, DASMissing, PgAuditMissing, NoActivity} {
		items = append(items, Glyph(c, s)+" "+[...]string{"no activity", "both sources", "DAS missing", "pgAudit missing"}[s])
	}
	return common.Fit(strings.Repeat(" ", labelWidth+1)+strings.Join(items, "   ")+t.Dim.Render("   (worst state per cell)"), m.width)
}

// Click selects the window drawn on line y of the page.
func (m *Model) Click(y int) {
	first := m.height - m.listHeight()
	if i := m.top + y - first; y >= first && i >= 0 && i < len(m.windows) {
		m.cur = i
	}
}
