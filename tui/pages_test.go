package tui

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/export"
	rules "github.com/auditlens/auditlens/store/findings"
	"github.com/auditlens/auditlens/tui/internal/casefixture"
)

// TestGapsPage shows the coverage strips of a sync and an async cluster, then
// lists the records behind a loss window in the events view and comes back.
func TestGapsPage(t *testing.T) {
	s := casefixture.BuildGaps(t)
	m := newModel(t, s, nil)
	m = press(t, m, "4")
	if m.page != pageGaps || m.gaps.Windows() != 3 {
		t.Fatalf("gaps page: page %v, %d windows", m.page, m.gaps.Windows())
	}
	screen := ansi.Strip(m.render())
	golden.RequireEqual(t, screen)
	for _, want := range []string{"DAS sync mode", "DAS async mode", "DAS lost 25 of 239", "pgAudit lacks 1 of 215", "D DAS missing", "P pgAudit missing"} {
		if !strings.Contains(screen, want) {
			t.Errorf("gaps page lacks %q", want)
		}
	}
	// The first window is billing-prod's first DAS loss: the pgAudit
	// records of statements 60..74.
	m = press(t, m, "enter")
	if m.page != pageEvents || m.drill == nil || len(m.filter.EventIDs) != casefixture.GapTo-casefixture.GapFrom {
		t.Fatalf("window drill-down: page %v filter %+v", m.page, m.filter)
	}
	if _, total, _, ok := m.table.Position(); !ok || total != casefixture.GapTo-casefixture.GapFrom {
		t.Fatalf("window drill-down shows %d rows", total)
	}
	r, _ := m.table.Selected()
	if r.Source != "pgaudit" || r.Cluster != "billing-prod" || !strings.HasSuffix(r.Statement, "id = 60") {
		t.Fatalf("first record of the window: %+v", r)
	}
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "gap window billing-prod 11:30:00: 15 records (esc back)") {
		t.Errorf("status line does not say a gap window is shown:\n%s", screen)
	}
	m = press(t, m, "esc")
	if m.page != pageGaps || !m.filter.IsZero() {
		t.Fatalf("esc: page %v filter %+v", m.page, m.filter)
	}
	// The DAS record pgAudit lacks.
	m = press(t, m, "end", "enter")
	r, _ = m.table.Selected()
	if _, total, _, _ := m.table.Position(); total != 1 || r.Source != "das" || !strings.HasSuffix(r.Statement, "id = 200") {
		t.Fatalf("pgAudit-missing window: %d rows, %+v", total, r)
	}
	// Without colors every state has its own glyph.
	m = press(t, m, "esc")
	strip := screenLine(m, " billing-prod")
	for _, g := range []string{"█", "D", "P"} {
		if !strings.Contains(strip, g) {
			t.Errorf("billing-prod strip lacks %q: %q", g, strip)
		}
	}
	if strings.Contains(screenLine(m, " orders-prod"), "D") {
		t.Errorf("the sync cluster shows a loss: %q", screenLine(m, " orders-prod"))
	}
}

func screenLine(m Model, prefix string) string {
	for _, l := range strings.Split(ansi.Strip(m.render()), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l[len(prefix):]
		}
	}
	return ""
}

// TestFindingsPage opens on the findings (a DROP TABLE, a GRANT and a burst
// of failed logins followed by a login are high), lists the events of one in
// the events view with its filter, and esc clears it.
func TestFindingsPage(t *testing.T) {
	s := casefixture.BuildFindings(t)
	m := newModel(t, s, func(o *Options) { o.Findings = nil })
	if m.page != pageFindings {
		t.Fatalf("high findings did not open the findings page: %v", m.page)
	}
	screen := ansi.Strip(m.render())
	golden.RequireEqual(t, screen)
	for _, want := range []string{"destructive-ddl", "privilege-change", "auth-failure-burst", "alice", casefixture.AttackerHost} {
		if !strings.Contains(screen, want) {
			t.Errorf("findings page lacks %q", want)
		}
	}
	// Most severe first.
	if f, _ := m.findings.Selected(); !f.Severity.AtLeast(rules.High) {
		t.Fatalf("first finding is %s", f.Severity)
	}
	// Walk to the destructive-ddl finding and open it.
	for range m.findings.Len() {
		if f, _ := m.findings.Selected(); f.RuleID == "destructive-ddl" {
			break
		}
		m = press(t, m, "down")
	}
	f, _ := m.findings.Selected()
	m = press(t, m, "enter")
	if m.page != pageEvents || !slices.Equal(m.filter.EventIDs, f.EventIDs) {
		t.Fatalf("drill-down: page %v filter %+v", m.page, m.filter)
	}
	r, ok := m.table.Selected()
	if !ok || r.Statement != casefixture.DropStatement {
		t.Fatalf("finding's event: %+v", r)
	}
	if _, total, _, _ := m.table.Position(); total != int64(len(f.EventIDs)) {
		t.Fatalf("drill-down shows %d rows, want %d", total, len(f.EventIDs))
	}
	screen = ansi.Strip(m.render())
	if !strings.Contains(screen, "findings filter: destructive-ddl, 1 events (esc clears)") {
		t.Errorf("status line does not show the findings filter:\n%s", screen)
	}
	m = press(t, m, "esc")
	if m.page != pageFindings || len(m.filter.EventIDs) != 0 {
		t.Fatalf("esc did not clear the findings filter: %v %+v", m.page, m.filter)
	}
	// A user who moved before the rules finished keeps their page.
	m2, err := New(context.Background(), Options{Store: s, UTC: true, NoColor: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := m2.Update(keyMsg("j"))
	m2 = settle(t, next.(Model), m2.Init())
	if m2.page != pageEvents || m2.findings.Len() == 0 {
		t.Fatalf("findings took the screen from a user who moved: %v (%d findings)", m2.page, m2.findings.Len())
	}
}

type failingRules struct{}

func (failingRules) Findings(context.Context) ([]rules.Finding, []rules.RuleError, error) {
	return []rules.Finding{{RuleID: "privilege-change", Title: "Privilege change", Severity: rules.Medium, Key: "orders-prod app GRANT",
			Count: 1, EventIDs: []int64{1}}},
		[]rules.RuleError{{RuleID: "my-rule", Origin: "rules.yaml", Err: errors.New(`Binder Error: column "nope" not found`)}}, nil
}

func TestFindingsRuleErrorsAreShown(t *testing.T) {
	s := casefixture.BuildFindings(t)
	m := newModel(t, s, func(o *Options) { o.Findings = failingRules{} })
	if m.page != pageEvents {
		t.Fatalf("medium findings opened the findings page")
	}
	m = press(t, m, "5")
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "1 rules could not run") || !strings.Contains(screen, `my-rule (rules.yaml): Binder Error: column "nope"`) ||
		!strings.Contains(screen, "privilege-change") {
		t.Fatalf("rule error not shown:\n%s", screen)
	}
}

// storeExporter is what the command layer wires: store/export on the open
// case file.
type storeExporter struct{ st *store.Store }

func (e storeExporter) Export(ctx context.Context, req ExportRequest, progress func(done, total int64)) (string, error) {
	f := req.Filter
	m, err := export.Export(ctx, e.st, export.Request{Filter: &f, FilterText: req.FilterText, Format: export.Format(req.Format),
		Out: req.Path, Redact: export.Redaction(req.Redact)}, progress)
	if err != nil {
		return "", err
	}
	return "exported " + itoa(m.Rows) + " rows to " + req.Path, nil
}

// TestExportFormWritesCSV fills the export form in and checks the CSV file
// holds the filtered rows.
func TestExportFormWritesCSV(t *testing.T) {
	s := casefixture.Build(t, 50)
	m := newModel(t, s, func(o *Options) { o.Exporter = storeExporter{s} })
	m = press(t, m, "/")
	m = typeText(t, m, "class:DDL,ROLE")
	m = press(t, m, "enter", "e")
	if !m.formOpen {
		t.Fatal("e did not open the form")
	}
	screen := ansi.Strip(m.render())
	for _, want := range []string{"Export events matching class:DDL,ROLE", "[csv]", "./auditlens-export-20261125-140000.csv", "[params (default for csv)]"} {
		if !strings.Contains(screen, want) {
			t.Errorf("form lacks %q:\n%s", want, screen)
		}
	}
	// Format: xlsx then back to csv (the path follows); redaction: none.
	m = press(t, m, "right")
	if v := m.form.Values(); v.Format != "xlsx" || !strings.HasSuffix(v.Path, ".xlsx") {
		t.Fatalf("format change: %+v", v)
	}
	out := filepath.Join(t.TempDir(), "ddl.csv")
	m = press(t, m, "left", "tab", "ctrl+u")
	m = typeText(t, m, out)
	m = press(t, m, "tab", "left")
	if v := m.form.Values(); v.Format != "csv" || v.Path != out || v.Redact != "none" {
		t.Fatalf("form values: %+v", v)
	}
	m = press(t, m, "enter")
	if m.formOpen || m.exporting || m.statusErr || !strings.Contains(m.status, "exported") {
		t.Fatalf("export: open %v running %v status %q", m.formOpen, m.exporting, m.status)
	}
	want, _ := s.Count(context.Background(), m.filter)
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(recs)-1) != want || want == 0 {
		t.Fatalf("csv has %d rows, want %d", len(recs)-1, want)
	}
	class := slices.Index(recs[0], "class")
	for _, r := range recs[1:] {
		if r[class] != "DDL" && r[class] != "ROLE" {
			t.Fatalf("row of class %q exported", r[class])
		}
	}
	if _, err := os.Stat(export.ManifestPath(out)); err != nil {
		t.Errorf("no manifest: %v", err)
	}
	// A failing export is shown, not fatal; esc closes the form unused.
	m = press(t, m, "e", "tab", "ctrl+u")
	m = typeText(t, m, filepath.Join(t.TempDir(), "missing-dir", "x.csv"))
	m = press(t, m, "enter")
	if !m.statusErr || !strings.Contains(m.status, "export failed") {
		t.Fatalf("failed export: %q", m.status)
	}
	m = press(t, m, "e", "esc")
	if m.formOpen {
		t.Fatal("esc did not close the form")
	}
}

// TestProgramOpensOnFindings runs the explorer in a real program: the high
// findings take the screen, enter lists a finding's events, esc goes back.
func TestProgramOpensOnFindings(t *testing.T) {
	s := casefixture.BuildFindings(t)
	m, err := New(t.Context(), Options{Store: s, UTC: true, NoColor: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, probe{m}, teatest.WithInitialTermSize(120, 40))
	waitModel(t, tm, "the findings page", func(m Model) bool { return m.page == pageFindings && m.findings.Len() > 0 })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitModel(t, tm, "the finding's events", func(m Model) bool {
		_, ok := m.table.Selected()
		return m.page == pageEvents && len(m.filter.EventIDs) > 0 && ok && strings.Contains(ansi.Strip(m.render()), "(esc clears)")
	})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	waitModel(t, tm, "the findings page again", func(m Model) bool { return m.page == pageFindings && m.filter.IsZero() })
	tm.Type("q")
	tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestSlashFiltersFromFindings: / opens the filter line from the findings page
// and the filter applies to the events page.
func TestSlashFiltersFromFindings(t *testing.T) {
	s := casefixture.BuildFindings(t)
	m := newModel(t, s, func(o *Options) { o.Findings = nil })
	if m.page != pageFindings {
		t.Fatalf("did not open on findings: %v", m.page)
	}
	m = press(t, m, "/")
	if m.page != pageEvents || !m.bar.Focused() {
		t.Fatalf("/ on findings: page %v, filter line focused %v", m.page, m.bar.Focused())
	}
	m = typeText(t, m, "user:alice")
	m = press(t, m, "enter")
	if len(m.filter.Users) != 1 || m.filter.Users[0] != "alice" {
		t.Errorf("filter after / on findings: %+v", m.filter)
	}
}
