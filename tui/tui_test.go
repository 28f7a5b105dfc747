package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/internal/casefixture"
	"github.com/auditlens/auditlens/tui/sources"
)

// TestGoldenViews pins the main screens at 120×40 (run with -update to
// rewrite testdata/*.golden after an intended change).
func TestGoldenViews(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	base := newModel(t, s, nil)
	steps := []struct {
		name string
		keys []string
	}{
		{"open", nil},
		{"detail", []string{"enter"}},
		{"facets", []string{"f"}},
		{"help", []string{"?"}},
		{"sessions", []string{"2"}},
		{"sources", []string{"3", "down"}},
		{"filtered", []string{":", "f", "i", "l", "t", "e", "r", " ", "c", "l", "a", "s", "s", ":", "D", "D", "L", "enter"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			m := press(t, base, st.keys...)
			golden.RequireEqual(t, ansi.Strip(m.render()))
		})
	}
	t.Run("empty", func(t *testing.T) {
		m := newModel(t, casefixture.Empty(t), func(o *Options) { o.Path = "/cases/new.duckdb" })
		golden.RequireEqual(t, ansi.Strip(m.render()))
	})
}

// TestHostileTextNeverReachesTheTerminal shows every hostile statement and
// user name in the table and the detail pane, in color and without, and checks
// the drawn screen carries no control character besides SGR styling.
func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	for _, noColor := range []bool{true, false} {
		m := newModel(t, s, func(o *Options) { o.NoColor = noColor })
		m = settle(t, m, func() tea.Msg { return tea.BackgroundColorMsg{} })
		for _, needle := range []string{"stolen", "audit_trail", "pg_sleep", "title"} {
			mm := press(t, m, "/")
			mm = typeText(t, mm, needle)
			mm = press(t, mm, "enter")
			if n, _, _, _ := mm.table.Position(); n == 0 {
				t.Fatalf("%s: no row matched", needle)
			}
			assertTerminalSafe(t, mm.View().Content)
			for range 3 {
				mm = press(t, mm, "down")
				assertTerminalSafe(t, mm.View().Content)
			}
			mm = press(t, mm, "enter")
			screen := mm.View().Content
			assertTerminalSafe(t, screen)
			for _, bad := range []string{"52;c", "\x1b[2J", "\x1b]", "\a"} {
				if strings.Contains(screen, bad) {
					t.Fatalf("%s: %q reached the screen", needle, bad)
				}
			}
		}
	}
	// The hostile user name shows in the table (row 7) and the detail pane.
	m := newModel(t, s, nil)
	assertTerminalSafe(t, m.View().Content)
	m = press(t, m, "down", "down", "down", "down", "down", "down", "enter")
	if r, _ := m.detail.Row(); r.UserName != casefixture.HostileUser {
		t.Fatalf("row 7 is not the hostile user's: %q", r.UserName)
	}
	assertTerminalSafe(t, m.View().Content)
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "mallory") || strings.Contains(screen, "52;c") {
		t.Errorf("hostile user name not shown sanitized:\n%s", screen)
	}
	// The sanitized text is still readable.
	m = newModel(t, s, nil)
	m = press(t, m, "/")
	m = typeText(t, m, "audit_trail")
	m = press(t, m, "enter", "enter")
	if !strings.Contains(ansi.Strip(m.render()), "DROP TABLE audit_trail; all clear") {
		t.Errorf("sanitized statement not shown:\n%s", ansi.Strip(m.render()))
	}
}

func TestFreeTextAndFilterLanguage(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	ctx := context.Background()
	m := newModel(t, s, nil)
	m = press(t, m, "/")
	m = typeText(t, m, `cmd:"drop table" db:orders`)
	m = press(t, m, "enter")
	want, err := s.Count(ctx, store.Filter{Commands: []string{"DROP TABLE"}, Databases: []string{"orders"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, total, _, ok := m.table.Position(); !ok || total != want || want == 0 {
		t.Fatalf("filtered count %d (known %v), want %d", total, ok, want)
	}
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "row 1 of "+itoa(want)) {
		t.Errorf("status line does not show the count:\n%s", screen)
	}
	// Tab completes a key, then values from the case file.
	m = press(t, m, "/", "end")
	for range len(`cmd:"drop table" db:orders`) {
		m = press(t, m, "backspace")
	}
	m = typeText(t, m, "us")
	m = press(t, m, "tab")
	if m.bar.Text() != "user:" {
		t.Fatalf("key completion: %q", m.bar.Text())
	}
	m = typeText(t, m, "et")
	m = press(t, m, "tab", "enter")
	if m.bar.Text() != "user:etl" || !slices.Equal(m.filter.Users, []string{"etl"}) {
		t.Fatalf("value completion: %q %+v", m.bar.Text(), m.filter)
	}
	// esc clears the filter.
	m = press(t, m, "esc")
	if !m.filter.IsZero() || m.bar.Text() != "" {
		t.Fatalf("esc left a filter: %+v", m.filter)
	}
}

func TestDebounceDropsStaleQueries(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	m := newModel(t, s, nil)
	m = press(t, m, "/")
	// Type without settling: only the last keystroke's debounce may apply.
	var cmds []tea.Cmd
	for _, r := range "etl" {
		next, cmd := m.Update(keyMsg(string(r)))
		m = next.(Model)
		cmds = append(cmds, cmd)
	}
	m.bar.Delay = 20 * time.Millisecond
	gen := m.table.String()
	for _, c := range cmds[:2] {
		m = settle(t, m, c)
	}
	if m.table.String() != gen {
		t.Fatalf("a superseded keystroke applied a filter: %s -> %s", gen, m.table.String())
	}
	m = settle(t, m, cmds[2])
	if m.filter.Text != "etl" {
		t.Fatalf("filter = %+v", m.filter)
	}
}

func TestFacetToggleFilters(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	m := newModel(t, s, nil)
	m = press(t, m, "f", "space") // first value: the largest cluster
	if len(m.filter.Clusters) != 1 {
		t.Fatalf("toggle did not filter: %+v", m.filter)
	}
	want, _ := s.Count(context.Background(), store.Filter{Clusters: m.filter.Clusters})
	if _, total, _, _ := m.table.Position(); total != want {
		t.Fatalf("count %d, want %d", total, want)
	}
	if !strings.HasPrefix(m.bar.Text(), "cluster:") {
		t.Errorf("filter line not updated: %q", m.bar.Text())
	}
	m = press(t, m, "space")
	if len(m.filter.Clusters) != 0 {
		t.Fatalf("second toggle did not clear: %+v", m.filter)
	}
}

func TestPagingWalksEveryRowInOrder(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	m := newModel(t, s, nil)
	m = settle(t, m, func() tea.Msg { return tea.WindowSizeMsg{Width: 120, Height: 16} })
	total, _ := s.Count(context.Background(), store.Filter{})
	var last store.Cursor
	seen := 0
	for i := 0; i < int(total)+5; i++ {
		r, ok := m.table.Selected()
		if !ok {
			t.Fatal("no selection")
		}
		c := store.CursorOf(r)
		if i > 0 && c != last {
			if c.LogTime.Before(last.LogTime) || (c.LogTime.Equal(last.LogTime) && c.EventID < last.EventID) {
				t.Fatalf("order broken at row %d", i)
			}
			seen++
		}
		last = c
		m = press(t, m, "down")
	}
	if int64(seen+1) != total {
		t.Fatalf("walked %d rows, want %d (%s)", seen+1, total, m.table)
	}
	if n, tot, ok, _ := m.table.Position(); !ok || n != tot {
		t.Fatalf("at the end position %d of %d", n, tot)
	}
	m = press(t, m, "home")
	if n, _, _, _ := m.table.Position(); n != 1 {
		t.Fatalf("home: row %d", n)
	}
	m = press(t, m, "end")
	if n, tot, ok, _ := m.table.Position(); !ok || n != tot {
		t.Fatalf("end: row %d of %d", n, tot)
	}
	m = press(t, m, "pgup", "pgup")
	if n, tot, _, _ := m.table.Position(); n != tot-2*int64(16-4-6) && n >= tot {
		t.Fatalf("pgup from the end: row %d of %d", n, tot)
	}
	// Mouse wheel and click move the cursor too.
	before, _, _, _ := m.table.Position()
	m = settle(t, m, func() tea.Msg { return tea.MouseWheelMsg{Button: tea.MouseWheelUp, Y: 5} })
	if n, _, _, _ := m.table.Position(); n != before-3 {
		t.Fatalf("wheel: %d -> %d", before, n)
	}
	m = press(t, m, "home")
	m = settle(t, m, func() tea.Msg { return tea.MouseClickMsg{Button: tea.MouseLeft, Y: 3 + 4} })
	if n, _, _, _ := m.table.Position(); n != 4 {
		t.Fatalf("click on the 4th row selected row %d", n)
	}
}

func TestSessionDrillDown(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	m := newModel(t, s, nil)
	m = press(t, m, "2")
	if m.page != pageSessions || m.sessions.Len() == 0 {
		t.Fatalf("sessions page: %v %d", m.page, m.sessions.Len())
	}
	m = press(t, m, "enter")
	if m.page != pageEvents || len(m.filter.Sessions) != 1 {
		t.Fatalf("drill-down: page %v filter %+v", m.page, m.filter)
	}
	want, _ := s.SessionEvents(context.Background(), m.filter.Clusters[0], m.filter.Sessions[0], 10000)
	if _, total, _, _ := m.table.Position(); total != int64(len(want)) {
		t.Fatalf("session shows %d events, want %d", total, len(want))
	}
	if !strings.Contains(ansi.Strip(m.render()), "session:"+m.filter.Sessions[0]) {
		t.Error("filter line does not name the session")
	}
	m = press(t, m, "esc")
	if m.page != pageSessions || len(m.filter.Sessions) != 0 {
		t.Fatalf("esc did not return to the sessions: %v %+v", m.page, m.filter)
	}
}

func TestNotesAndReadOnly(t *testing.T) {
	s := casefixture.Build(t, 50)
	m := newModel(t, s, nil)
	m = press(t, m, "n")
	m = typeText(t, m, "suspicious")
	_ = press(t, m, "enter")
	notes, err := s.Notes(context.Background())
	if err != nil || len(notes) != 1 || notes[0].Text != "suspicious" || notes[0].Author != "tester" {
		t.Fatalf("notes: %+v %v", notes, err)
	}
	ro := newModel(t, s, func(o *Options) { o.ReadOnly = true })
	ro = press(t, ro, "n")
	if ro.noteOpen || !strings.Contains(ro.status, "read-only") {
		t.Fatalf("read-only note: open %v status %q", ro.noteOpen, ro.status)
	}
	ro = press(t, ro, "3", "s")
	if !strings.Contains(ro.status, "read-only") {
		t.Fatalf("read-only sync: %q", ro.status)
	}
}

type fakeSyncer struct{ calls []string }

func (f *fakeSyncer) Sync(ctx context.Context, source string, progress func(sources.Progress)) error {
	f.calls = append(f.calls, source)
	progress(sources.Progress{Source: source, Objects: 3, Events: 42, Bytes: 2048})
	return errors.New("access denied")
}

type fakeExporter struct{ req ExportRequest }

func (f *fakeExporter) Export(ctx context.Context, req ExportRequest, progress func(done, total int64)) (string, error) {
	f.req = req
	progress(1, 2)
	return "wrote export.csv", nil
}

func TestSyncAndExportHooks(t *testing.T) {
	s := casefixture.Build(t, 50)
	m := newModel(t, s, nil)
	m = press(t, m, "e")
	if !strings.Contains(m.status, "not available") {
		t.Fatalf("export without exporter: %q", m.status)
	}
	m = press(t, m, "3", "s")
	if !strings.Contains(m.status, "auditlens sync") {
		t.Fatalf("sync without syncer: %q", m.status)
	}

	syncer, exporter := &fakeSyncer{}, &fakeExporter{}
	m = newModel(t, s, func(o *Options) { o.Syncer, o.Exporter = syncer, exporter })
	m = press(t, m, "3", "down")
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "kms-context") || !strings.Contains(screen, "billing-logs") {
		t.Errorf("sources page lacks sources or quarantine reasons:\n%s", screen)
	}
	m = press(t, m, "s")
	if len(syncer.calls) != 1 || syncer.calls[0] != "orders-das" {
		t.Fatalf("sync calls: %v", syncer.calls)
	}
	if m.syncing || !strings.Contains(m.status, "access denied") {
		t.Fatalf("sync end: syncing %v status %q", m.syncing, m.status)
	}
	m = press(t, m, "1", "/")
	m = typeText(t, m, "user:etl")
	m = press(t, m, "enter", "e", "enter")
	if !slices.Equal(exporter.req.Filter.Users, []string{"etl"}) || exporter.req.EventID == 0 || m.status != "wrote export.csv" ||
		exporter.req.FilterText != "user:etl" || exporter.req.Format != "csv" || exporter.req.Redact != "params" {
		t.Fatalf("export: %+v status %q", exporter.req, m.status)
	}
}

func TestInternalUsersAndTimeZone(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	m := newModel(t, s, nil)
	_, hidden, _, _ := m.table.Position()
	m = press(t, m, "i")
	_, shown, _, _ := m.table.Position()
	all, _ := s.Count(context.Background(), store.Filter{IncludeInternal: true})
	if shown != all || hidden >= shown {
		t.Fatalf("internal toggle: hidden %d shown %d all %d", hidden, shown, all)
	}
	m = press(t, m, "t")
	if m.c.UTC {
		t.Fatal("t did not switch to local time")
	}
	m = press(t, m, ":", "u", "t", "c", "enter")
	if !m.c.UTC {
		t.Fatal(":utc did not switch back")
	}
	// Zoom in narrows the time range around the cursor; zoom out widens it.
	m = press(t, m, "+")
	if m.filter.Since.IsZero() || m.filter.Until.IsZero() {
		t.Fatalf("zoom in set no range: %+v", m.filter)
	}
	span := m.filter.Until.Sub(m.filter.Since)
	m = press(t, m, "+")
	if got := m.filter.Until.Sub(m.filter.Since); got >= span {
		t.Fatalf("second zoom in: %v then %v", span, got)
	}
	for range 4 {
		m = press(t, m, "-")
	}
	if !m.filter.Since.IsZero() {
		t.Fatalf("zooming out did not return to the whole range: %+v", m.filter)
	}
}

func TestCopyUsesOSC52WithSanitizedText(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	m := newModel(t, s, nil)
	m = press(t, m, "/")
	m = typeText(t, m, "stolen")
	m = press(t, m, "enter")
	next, cmd := m.Update(keyMsg("y"))
	if cmd == nil || !strings.Contains(next.(Model).status, "copied") {
		t.Fatal("y did not copy")
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			if c != nil {
				msg = c()
			}
		}
	}
	got := fmt.Sprint(msg)
	if !strings.Contains(got, "stolen") {
		t.Fatalf("clipboard payload %q is not the statement", got)
	}
	if strings.Contains(got, "\x1b") || strings.Contains(got, "\a") {
		t.Fatalf("clipboard payload holds control characters: %q", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
