package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	rules "github.com/auditlens/auditlens/store/findings"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/detail"
	"github.com/auditlens/auditlens/tui/events"
	"github.com/auditlens/auditlens/tui/exportform"
	"github.com/auditlens/auditlens/tui/facets"
	"github.com/auditlens/auditlens/tui/filterbar"
	"github.com/auditlens/auditlens/tui/findings"
	"github.com/auditlens/auditlens/tui/gaps"
	"github.com/auditlens/auditlens/tui/keys"
	"github.com/auditlens/auditlens/tui/prompt"
	"github.com/auditlens/auditlens/tui/sanitize"
	"github.com/auditlens/auditlens/tui/sessions"
	"github.com/auditlens/auditlens/tui/sources"
	"github.com/auditlens/auditlens/tui/theme"
	"github.com/auditlens/auditlens/tui/timeline"
)

type page int

const (
	pageEvents page = iota
	pageSessions
	pageSources
	pageGaps
	pageFindings
	pageStart // the case file has no events yet
)

func (p page) String() string {
	return [...]string{"events", "sessions", "sources", "gaps", "findings", "start"}[p]
}

type focus int

const (
	focusTable focus = iota
	focusDetail
	focusFacets
)

// caseInfoMsg describes the whole case file for the header.
type caseInfoMsg struct {
	total       int64
	clusters    []string
	first, last time.Time
	err         error
}

type noteSavedMsg struct {
	eventID int64
	err     error
}

// drill remembers what a drill-down into the events view (a session, a
// finding, a gap window) replaced, so esc restores it and returns to the page
// it came from.
type drill struct {
	filter store.Filter
	text   string
	from   page
	label  string // what the status line says is shown, e.g. "session"
}

// Model is the root model: it routes messages and owns layout; each component
// owns its own state.
type Model struct {
	ctx  context.Context // the program's context: every query derives from it
	opts Options
	data Data
	c    common.Context

	width, height int
	page          page
	back          []page
	focus         focus
	showFacets    bool
	showHelp      bool

	filter  store.Filter
	drill   *drill
	info    caseInfoMsg
	infoSet bool

	bar      filterbar.Model
	table    events.Model
	detail   detail.Model
	facets   facets.Model
	timeline timeline.Model
	sessions sessions.Model
	sources  sources.Model
	gaps     gaps.Model
	findings findings.Model

	formOpen bool
	form     exportform.Model

	paletteOpen bool
	palette     prompt.Input
	noteOpen    bool
	note        prompt.Input

	status    string // transient message
	statusErr bool
	syncing   bool
	syncText  string
	exporting bool
	exportTxt string

	// moved is set by the user's first key or click: findings that arrive
	// after it never take the screen away.
	moved bool

	// initCmd holds the first queries, started in New: Init has a value
	// receiver, so state it changed would be lost.
	initCmd tea.Cmd
	// deferred are queries that wait for the table's first page (facets,
	// histogram, the header's totals, the findings rules): on a large case
	// file they would share the cores with it, and rows are what the user
	// waits for.
	deferred []tea.Cmd
	// startup are the deferred queries of the start (header totals,
	// findings); unlike deferred, a filter change does not supersede them.
	startup []tea.Cmd
}

// New builds the root model; Run uses it, tests drive it directly.
func New(ctx context.Context, opts Options) (Model, error) {
	data := opts.Data
	if data == nil {
		if opts.Store == nil {
			return Model{}, errors.New("explorer: no case file given")
		}
		data = opts.Store
	}
	lister := opts.Sources
	if lister == nil && opts.Store != nil {
		lister = sources.FromDB(opts.Store.DB())
	}
	if opts.Store != nil && opts.Store.ReadOnly() {
		opts.ReadOnly = true
	}
	if opts.Path == "" && opts.Store != nil {
		opts.Path = opts.Store.Path()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	runner := opts.Findings
	if runner == nil && opts.Store != nil {
		runner = findings.FromStore(opts.Store, opts.RulesFile)
	}
	bar := filterbar.New()
	bar.Now = opts.Now
	m := Model{
		ctx:  ctx,
		opts: opts,
		data: data,
		c: common.Context{
			Theme: theme.New(true, opts.NoColor), Keys: keys.Default(),
			UTC: opts.UTC, Local: time.Local, ReadOnly: opts.ReadOnly,
		},
		width: 120, height: 40,
		bar:      bar,
		table:    events.New(ctx, data),
		detail:   detail.New(ctx, data),
		facets:   facets.New(ctx, data),
		timeline: timeline.New(ctx, data),
		sessions: sessions.New(ctx, data),
		sources:  sources.New(ctx, lister),
		gaps:     gaps.New(ctx, data),
		findings: findings.New(ctx, runner),
	}
	m.resize()
	m.initCmd = tea.Batch(tea.RequestBackgroundColor, m.applyFilter())
	m.startup = []tea.Cmd{m.loadInfo(), m.findings.Load()}
	return m, nil
}

// Init asks for the background color (for the theme) and starts the first
// queries and the findings rules.
func (m Model) Init() tea.Cmd { return m.initCmd }

func (m Model) loadInfo() tea.Cmd {
	ctx, data := m.ctx, m.data
	return func() tea.Msg {
		all := store.Filter{IncludeInternal: true}
		n, err := data.Count(ctx, all)
		if err != nil {
			return caseInfoMsg{err: err}
		}
		info := caseInfoMsg{total: n}
		if n == 0 {
			return info
		}
		info.first, info.last, err = data.TimeRange(ctx, all)
		if err != nil {
			return caseInfoMsg{err: err}
		}
		fv, err := data.Facets(ctx, all, []store.Dim{store.DimCluster}, 20)
		if err != nil {
			return caseInfoMsg{err: err}
		}
		for _, v := range fv[store.DimCluster] {
			info.clusters = append(info.clusters, v.Value)
		}
		slices.Sort(info.clusters)
		return info
	}
}

// applyFilter pushes m.filter to every component that depends on it; the
// facets and the histogram follow once the table's first page is in.
func (m *Model) applyFilter() tea.Cmd {
	m.detail.Clear()
	cmd := m.table.SetFilter(m.filter)
	// Queries deferred for a previous filter are superseded.
	m.deferred = []tea.Cmd{m.facets.Load(m.filter), m.timeline.Load(m.filter)}
	if m.page == pageSessions {
		cmd = tea.Batch(cmd, m.sessions.Load(m.filter))
	}
	return cmd
}

// afterPage runs cmd once the table's first page is in.
func (m *Model) afterPage(cmd tea.Cmd) tea.Cmd {
	if m.table.Loading() {
		m.deferred = append(m.deferred, cmd)
		return nil
	}
	return cmd
}

// setFilter replaces the filter (keeping the internal-users switch) and
// rewrites the filter line to match.
func (m *Model) setFilter(f store.Filter) tea.Cmd {
	f.IncludeInternal = m.filter.IncludeInternal
	m.filter = f
	m.bar.SetText(filterbar.Format(f, m.c.Location()))
	return m.applyFilter()
}

func (m *Model) resize() {
	l := m.layout()
	tw := m.width
	if m.showFacets {
		tw -= facets.Width
	}
	m.table.SetSize(tw, l.tableH)
	m.detail.SetSize(m.width, l.detailH)
	m.facets.SetHeight(l.tableH)
	m.timeline.SetWidth(m.width)
	m.sessions.SetSize(m.width, l.bodyH)
	m.sources.SetSize(m.width, l.bodyH)
	m.gaps.SetSize(m.width, l.bodyH)
	m.findings.SetSize(m.width, l.bodyH)
}

type layout struct {
	bodyTop, bodyH, tableH, detailH int
}

// layout splits the screen: header, histogram, filter line, table and detail,
// status line.
func (m Model) layout() layout {
	l := layout{bodyTop: 3}
	l.bodyH = max(m.height-4, 4)
	switch m.focus {
	case focusDetail:
		l.tableH = min(6, l.bodyH/3)
	default:
		l.tableH = max(l.bodyH*3/5, 3)
	}
	l.detailH = l.bodyH - l.tableH
	return l
}

// Update routes a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	before, hadRow := m.table.Selected()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		// The histogram's bar count depends on the width, and so do the
		// gap strips' buckets.
		cmds = append(cmds, m.afterPage(m.timeline.Load(m.filter)))
		if m.page == pageGaps && m.gaps.Stale() {
			cmds = append(cmds, m.gaps.Load())
		}
	case tea.BackgroundColorMsg:
		m.c.Theme = theme.New(msg.IsDark(), m.opts.NoColor)
	case caseInfoMsg:
		m.info, m.infoSet = msg, true
		if msg.err == nil && msg.total == 0 {
			m.page = pageStart
		} else if m.page == pageStart {
			m.page = pageEvents
		}
	case tea.KeyPressMsg:
		m.moved = true
		cmds = append(cmds, m.handleKey(msg))
	case tea.MouseWheelMsg:
		m.moved = true
		cmds = append(cmds, m.handleWheel(msg))
	case tea.MouseClickMsg:
		m.moved = true
		cmds = append(cmds, m.handleClick(msg))
	case findings.LoadedMsg:
		var cmd tea.Cmd
		m.findings, cmd = m.findings.Update(m.c, msg)
		cmds = append(cmds, cmd)
		cmds = append(cmds, m.findingsArrived(msg))
	case findings.OpenMsg:
		f := msg.Finding
		label := fmt.Sprintf("findings filter: %s, %d events", f.RuleID, len(f.EventIDs))
		cmds = append(cmds, m.drillInto(f.Filter(), label))
	case gaps.OpenMsg:
		cmds = append(cmds, m.openGap(msg))
	case exportform.SubmitMsg:
		m.formOpen = false
		cmds = append(cmds, m.startExport(msg))
	case exportform.CancelMsg:
		m.formOpen = false
	case exportform.ProgressMsg:
		m.exportTxt = exportform.Describe(msg)
		cmds = append(cmds, exportform.Next(msg))
	case exportform.DoneMsg:
		m.exporting, m.exportTxt = false, ""
		if msg.Err != nil {
			m.flash("export failed: "+userError(msg.Err), true)
		} else {
			m.flash(sanitize.LineOf(msg.Summary), false)
		}
	case filterbar.ChangedMsg:
		cmds = append(cmds, m.setFilterFromBar(msg))
	case facets.ToggleMsg:
		cmds = append(cmds, m.setFilter(facets.Toggle(m.filter, msg.Dim, msg.Value)))
	case sessions.OpenMsg:
		cmds = append(cmds, m.openSession(msg))
	case sources.SyncRequestMsg:
		cmds = append(cmds, m.startSync(msg.Source))
	case sources.ProgressMsg:
		m.syncText = sources.Describe(msg.Progress)
		cmds = append(cmds, sources.Next(msg.Progress.Source, msg))
	case sources.DoneMsg:
		m.syncing, m.syncText = false, ""
		if msg.Err != nil {
			m.flash("sync failed: "+userError(msg.Err), true)
		} else {
			m.flash("sync finished", false)
		}
		cmds = append(cmds, m.loadInfo(), m.applyFilter(), m.sources.Load())
	case noteSavedMsg:
		if msg.err != nil {
			m.flash("note not saved: "+userError(msg.err), true)
		} else {
			m.flash(fmt.Sprintf("note saved on event %d", msg.eventID), false)
		}
	default:
		// Background results: each component takes the message types it owns
		// and ignores the rest.
		var cmd tea.Cmd
		m.table, cmd = m.table.Update(m.c, msg, false)
		cmds = append(cmds, cmd)
		m.detail, cmd = m.detail.Update(m.c, msg, false)
		cmds = append(cmds, cmd)
		m.facets, cmd = m.facets.Update(m.c, msg, false)
		cmds = append(cmds, cmd)
		m.timeline = m.timeline.Update(msg)
		m.bar, cmd = m.bar.Update(m.c, msg)
		cmds = append(cmds, cmd)
		m.sessions, cmd = m.sessions.Update(m.c, msg)
		cmds = append(cmds, cmd)
		m.sources, cmd = m.sources.Update(m.c, msg)
		cmds = append(cmds, cmd)
		m.gaps, cmd = m.gaps.Update(m.c, msg)
		cmds = append(cmds, cmd)
	}
	if len(m.deferred)+len(m.startup) > 0 && !m.table.Loading() {
		cmds = append(cmds, m.deferred...)
		cmds = append(cmds, m.startup...)
		m.deferred, m.startup = nil, nil
	}
	// The detail pane follows the table's cursor.
	if after, ok := m.table.Selected(); ok && (!hadRow || after.EventID != before.EventID || !m.hasDetail()) {
		cmds = append(cmds, m.detail.SetRow(after))
	}
	return m, tea.Batch(cmds...)
}

func (m Model) hasDetail() bool {
	_, ok := m.detail.Row()
	return ok
}

func (m *Model) flash(s string, isErr bool) { m.status, m.statusErr = s, isErr }

func (m *Model) setFilterFromBar(msg filterbar.ChangedMsg) tea.Cmd {
	f := msg.Filter
	f.IncludeInternal = m.filter.IncludeInternal
	// The filter line cannot spell event ids: typing narrows within a finding
	// or gap window until esc leaves it.
	if m.drill != nil {
		f.EventIDs = m.filter.EventIDs
	}
	m.filter = f
	return m.applyFilter()
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	m.status = ""
	switch {
	case m.formOpen:
		var cmd tea.Cmd
		m.form, cmd = m.form.Update(m.c, msg)
		return cmd
	case m.noteOpen:
		return m.noteKey(msg)
	case m.paletteOpen:
		return m.paletteKey(msg)
	case m.bar.Focused():
		var cmd tea.Cmd
		m.bar, cmd = m.bar.Update(m.c, msg)
		return cmd
	case m.showHelp:
		if key.Matches(msg, k.Back, k.Help) {
			m.showHelp = false
		} else if key.Matches(msg, k.Quit) {
			return tea.Quit
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.Palette):
		m.paletteOpen = true
		m.palette.SetValue("")
		return nil
	case key.Matches(msg, k.Back):
		return m.goBack()
	case key.Matches(msg, k.Filter) && m.page != pageEvents && m.page != pageStart && m.page != pageSessions:
		// / filters events from any page, as in the tools DBAs know.
		cmd := m.showPage(pageEvents)
		return tea.Batch(cmd, m.bar.Focus(m.ctx, m.data))
	case key.Matches(msg, k.TimeZone):
		return m.toggleZone()
	case key.Matches(msg, k.Events):
		return m.showPage(pageEvents)
	case key.Matches(msg, k.Sessions):
		return m.showPage(pageSessions)
	case key.Matches(msg, k.Sources):
		return m.showPage(pageSources)
	case key.Matches(msg, k.Gaps):
		return m.showPage(pageGaps)
	case key.Matches(msg, k.Findings):
		return m.showPage(pageFindings)
	}
	switch m.page {
	case pageSessions:
		var cmd tea.Cmd
		if key.Matches(msg, k.Refresh) {
			return m.sessions.Load(m.filter)
		}
		m.sessions, cmd = m.sessions.Update(m.c, msg)
		return cmd
	case pageSources:
		var cmd tea.Cmd
		if key.Matches(msg, k.Refresh) {
			return m.sources.Load()
		}
		m.sources, cmd = m.sources.Update(m.c, msg)
		return cmd
	case pageGaps:
		var cmd tea.Cmd
		if key.Matches(msg, k.Refresh) {
			return m.gaps.Load()
		}
		m.gaps, cmd = m.gaps.Update(m.c, msg)
		return cmd
	case pageFindings:
		var cmd tea.Cmd
		if key.Matches(msg, k.Refresh) {
			return m.findings.Load()
		}
		m.findings, cmd = m.findings.Update(m.c, msg)
		return cmd
	case pageStart:
		if key.Matches(msg, k.Refresh) {
			return tea.Batch(m.loadInfo(), m.applyFilter())
		}
		return nil
	}
	return m.eventsKey(msg)
}

func (m *Model) eventsKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	switch {
	case key.Matches(msg, k.Filter):
		m.focus = focusTable
		return m.bar.Focus(m.ctx, m.data)
	case key.Matches(msg, k.Facets):
		if m.focus == focusFacets {
			m.focus, m.showFacets = focusTable, false
		} else {
			m.focus, m.showFacets = focusFacets, true
		}
		m.resize()
		return nil
	case key.Matches(msg, k.Internal):
		m.filter.IncludeInternal = !m.filter.IncludeInternal
		if m.filter.IncludeInternal {
			m.flash("internal users shown", false)
		} else {
			m.flash("internal users hidden", false)
		}
		return m.applyFilter()
	case key.Matches(msg, k.ZoomIn):
		from, to := m.timeline.Range()
		if from.IsZero() {
			return nil
		}
		r, _ := m.table.Selected()
		f := m.filter
		f.Since, f.Until = timeline.ZoomIn(from, to, r.LogTime)
		return m.setFilter(f)
	case key.Matches(msg, k.ZoomOut):
		from, to := m.timeline.Range()
		if from.IsZero() {
			return nil
		}
		f := m.filter
		f.Since, f.Until = timeline.ZoomOut(from, to)
		if !f.Since.After(m.info.first) && f.Until.After(m.info.last) {
			f.Since, f.Until = time.Time{}, time.Time{}
		}
		return m.setFilter(f)
	case key.Matches(msg, k.Refresh):
		return tea.Batch(m.loadInfo(), m.applyFilter())
	case key.Matches(msg, k.Copy):
		r, ok := m.detail.Row()
		if !ok {
			return nil
		}
		m.flash("statement copied to the clipboard (OSC 52)", false)
		// The copy is sanitized too: pasting it into a terminal must be as
		// harmless as showing it.
		return tea.SetClipboard(sanitize.Clean(r.Statement, sanitize.Block))
	case key.Matches(msg, k.Note):
		if m.c.ReadOnly {
			m.flash("read-only: notes are disabled", true)
			return nil
		}
		if _, ok := m.detail.Row(); !ok {
			return nil
		}
		m.noteOpen = true
		m.note.SetValue("")
		return nil
	case key.Matches(msg, k.Export):
		return m.export()
	case key.Matches(msg, k.Open) && m.focus == focusTable:
		if _, ok := m.table.Selected(); ok {
			m.focus = focusDetail
			m.resize()
		}
		return nil
	}
	var cmd tea.Cmd
	switch m.focus {
	case focusFacets:
		m.facets, cmd = m.facets.Update(m.c, msg, true)
	case focusDetail:
		m.detail, cmd = m.detail.Update(m.c, msg, true)
	default:
		m.table, cmd = m.table.Update(m.c, msg, true)
	}
	return cmd
}

// goBack undoes the last step: leave the detail or facets, leave a session
// drill-down, go to the previous page, or clear the filter.
func (m *Model) goBack() tea.Cmd {
	switch {
	case m.focus != focusTable:
		m.focus = focusTable
		m.resize()
		return nil
	case m.page == pageEvents && m.drill != nil:
		d := m.drill
		m.drill = nil
		m.filter = d.filter
		m.bar.SetText(d.text)
		m.page = d.from
		m.back = nil
		return m.applyFilter()
	case len(m.back) > 0:
		m.page = m.back[len(m.back)-1]
		m.back = m.back[:len(m.back)-1]
		return nil
	case m.page == pageEvents && !m.filter.IsZero():
		return m.setFilter(store.Filter{})
	}
	return nil
}

func (m *Model) showPage(p page) tea.Cmd {
	if m.page == pageStart || m.page == p {
		return nil
	}
	m.back = append(m.back, m.page)
	m.page = p
	m.focus = focusTable
	switch p {
	case pageSessions:
		return m.sessions.Load(m.filter)
	case pageSources:
		return m.sources.Load()
	case pageGaps:
		if !m.gaps.Loaded() || m.gaps.Stale() {
			return m.gaps.Load()
		}
	case pageFindings:
		if !m.findings.Loaded() && !m.findings.Loading() {
			return m.findings.Load()
		}
	}
	return nil
}

// findingsArrived opens the findings page when the start-up run found
// something of severity high or above and the user has not moved yet.
func (m *Model) findingsArrived(msg findings.LoadedMsg) tea.Cmd {
	if m.moved || msg.Err != nil || !rules.Highest(msg.Findings).AtLeast(rules.High) {
		return nil
	}
	if m.page != pageEvents || m.drill != nil || m.showHelp || m.paletteOpen || m.bar.Focused() {
		return nil
	}
	m.moved = true // only once
	return m.showPage(pageFindings)
}

func (m *Model) openSession(o sessions.OpenMsg) tea.Cmd {
	f := store.Filter{Sessions: []string{o.SessionID}, IncludeInternal: true}
	if o.Cluster != "" {
		f.Clusters = []string{o.Cluster}
	}
	return m.drillInto(f, "session")
}

// openGap lists the records the other source has in a loss window.
func (m *Model) openGap(o gaps.OpenMsg) tea.Cmd {
	if o.Err != nil {
		m.flash("gap records: "+userError(o.Err), true)
		return nil
	}
	if len(o.EventIDs) == 0 {
		m.flash("no records in this window any more (reload with r)", true)
		return nil
	}
	label := fmt.Sprintf("gap window %s %s: %d records", o.Cluster, m.c.FormatTime(o.Window.Start)[11:], len(o.EventIDs))
	return m.drillInto(store.Filter{EventIDs: o.EventIDs, IncludeInternal: true}, label)
}

// drillInto shows the events under f in the events view, remembering the page
// and filter it came from for esc. f shows internal users: the drill-down
// chose these events.
func (m *Model) drillInto(f store.Filter, label string) tea.Cmd {
	from, prev := m.page, m.drill
	m.drill = &drill{filter: m.filter, text: m.bar.Text(), from: from, label: label}
	if prev != nil && from == pageEvents {
		// A drill from a drill returns to where the first one came from.
		m.drill.filter, m.drill.text, m.drill.from = prev.filter, prev.text, prev.from
	}
	m.page = pageEvents
	m.back = nil
	m.focus = focusTable
	m.filter = f
	m.bar.SetText(filterbar.Format(f, m.c.Location()))
	m.resize()
	return m.applyFilter()
}

func (m *Model) toggleZone() tea.Cmd {
	m.c.UTC = !m.c.UTC
	if !m.bar.Focused() {
		m.bar.SetText(filterbar.Format(m.filter, m.c.Location()))
	}
	m.flash("times in "+m.c.ZoneName(), false)
	return m.timeline.Load(m.filter)
}

func (m *Model) startSync(source string) tea.Cmd {
	switch {
	case m.c.ReadOnly:
		m.flash("read-only: sync is disabled", true)
	case m.opts.Syncer == nil:
		m.flash("sync is not available here: run `auditlens sync` in a shell", true)
	case m.syncing:
		m.flash("a sync is already running", true)
	default:
		m.syncing = true
		m.syncText = "sync " + sanitize.LineOf(source) + ": starting…"
		return sources.StartSync(m.ctx, m.opts.Syncer, source)
	}
	return nil
}

// export opens the export form on the events view.
func (m *Model) export() tea.Cmd {
	switch {
	case m.opts.Exporter == nil:
		m.flash("export is not available in this build yet", true)
		return nil
	case m.exporting:
		m.flash("an export is already running", true)
		return nil
	}
	var cmd tea.Cmd
	if m.page != pageEvents {
		cmd = m.showPage(pageEvents)
	}
	m.focus = focusTable
	m.resize()
	m.form = exportform.New(m.opts.Now())
	m.formOpen = true
	return cmd
}

// startExport runs the export the form asked for, with the view's filter.
func (m *Model) startExport(v exportform.SubmitMsg) tea.Cmd {
	req := ExportRequest{Filter: m.filter, FilterText: m.bar.Text(), Format: v.Format, Path: v.Path, Redact: v.Redact}
	if m.drill != nil {
		req.FilterText = m.drill.label
	}
	if r, ok := m.table.Selected(); ok {
		req.EventID = r.EventID
	}
	m.exporting = true
	m.exportTxt = "exporting to " + sanitize.LineOf(v.Path) + "…"
	return exportform.Start(m.ctx, m.opts.Exporter, req)
}

func (m *Model) noteKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.noteOpen = false
		return nil
	case "enter":
		m.noteOpen = false
		r, ok := m.detail.Row()
		if !ok {
			return nil
		}
		text := strings.TrimSpace(m.note.Value())
		kind := "note"
		if text == "" {
			kind = "bookmark"
		}
		ctx, data, author, id := m.ctx, m.data, m.opts.Author, r.EventID
		return func() tea.Msg {
			_, err := data.AddNote(ctx, id, kind, text, author)
			return noteSavedMsg{eventID: id, err: err}
		}
	}
	m.note.Update(msg)
	return nil
}

func (m *Model) handleWheel(msg tea.MouseWheelMsg) tea.Cmd {
	var cmd tea.Cmd
	switch m.page {
	case pageSessions:
		m.sessions, cmd = m.sessions.Update(m.c, msg)
		return cmd
	case pageGaps:
		m.gaps, cmd = m.gaps.Update(m.c, msg)
		return cmd
	case pageFindings:
		m.findings, cmd = m.findings.Update(m.c, msg)
		return cmd
	case pageEvents:
		l := m.layout()
		if msg.Y >= l.bodyTop+l.tableH {
			m.detail, cmd = m.detail.Update(m.c, msg, true)
		} else {
			m.table, cmd = m.table.Update(m.c, msg, true)
		}
	}
	return cmd
}

func (m *Model) handleClick(msg tea.MouseClickMsg) tea.Cmd {
	if msg.Button != tea.MouseLeft {
		return nil
	}
	l := m.layout()
	switch m.page {
	case pageSessions:
		m.sessions.Click(msg.Y - l.bodyTop)
	case pageGaps:
		m.gaps.Click(msg.Y - l.bodyTop)
	case pageEvents:
		if m.showFacets && msg.X < facets.Width {
			return nil
		}
		if y := msg.Y - l.bodyTop; y >= 0 && y < l.tableH {
			m.focus = focusTable
			return m.table.Click(y)
		}
	}
	return nil
}

// userError turns an error into the one line the status bar shows; sentinel
// errors of the store become advice.
func userError(err error) string {
	var lock *store.LockError
	switch {
	case errors.As(err, &lock):
		return sanitize.LineOf(lock.Error())
	case errors.Is(err, store.ErrReadOnly):
		return "the case file is open read-only"
	case errors.Is(err, store.ErrNotFound):
		return "not found in the case file"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return sanitize.LineOf(err.Error())
}
