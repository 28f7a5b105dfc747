package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/auditlens/auditlens/tui/internal/casefixture"
)

// probe wraps the explorer in a real tea.Program so a test can look at the
// model between steps: probeMsg runs check on the program's goroutine.
type probe struct{ Model }

type probeMsg struct {
	check func(Model) bool
	reply chan bool
}

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if pm, ok := msg.(probeMsg); ok {
		pm.reply <- pm.check(p.Model)
		return p, nil
	}
	next, cmd := p.Model.Update(msg)
	return probe{next.(Model)}, cmd
}

// waitModel polls the running program until check holds.
func waitModel(t *testing.T, tm *teatest.TestModel, what string, check func(Model) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		reply := make(chan bool, 1)
		tm.Send(probeMsg{check: check, reply: reply})
		select {
		case ok := <-reply:
			if ok {
				return
			}
		case <-time.After(time.Second):
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestProgramFlows drives the explorer through a real Bubble Tea program:
// open, free text, facet filter, detail, session drill-down, help, quit.
func TestProgramFlows(t *testing.T) {
	s := casefixture.Build(t, fixtureRows)
	m, err := New(t.Context(), Options{Store: s, UTC: true, NoColor: true, Now: fixedNow, Findings: noFindings{}})
	if err != nil {
		t.Fatal(err)
	}
	m.bar.Delay = 10 * time.Millisecond
	tm := teatest.NewTestModel(t, probe{m}, teatest.WithInitialTermSize(120, 40))

	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("public.orders")) },
		teatest.WithDuration(5*time.Second))
	waitModel(t, tm, "the count", func(m Model) bool { _, _, _, ok := m.table.Position(); return ok })

	// Free text.
	tm.Type("/audit_trail")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitModel(t, tm, "the free-text filter", func(m Model) bool {
		r, ok := m.table.Selected()
		_, total, _, known := m.table.Position()
		return ok && known && total >= 1 && strings.Contains(r.Statement, "audit_trail")
	})

	// Detail with the other source's record.
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape}) // clear the filter
	waitModel(t, tm, "the cleared filter", func(m Model) bool {
		return m.filter.IsZero() && !m.table.Loading() && len(m.deferred) == 0 && !m.facets.Loading()
	})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitModel(t, tm, "the detail pane", func(m Model) bool {
		return m.focus == focusDetail && strings.Contains(ansi.Strip(m.render()), "das  2026-11-25 11:00:00  event")
	})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})

	// Facet filter.
	tm.Type("f ")
	waitModel(t, tm, "the facet filter", func(m Model) bool { return len(m.filter.Clusters) == 1 && !m.table.Loading() })
	tm.Type("f")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})

	// Session drill-down.
	tm.Type("2")
	waitModel(t, tm, "the sessions", func(m Model) bool { return m.page == pageSessions && m.sessions.Len() > 0 })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitModel(t, tm, "the session's events", func(m Model) bool {
		r, ok := m.table.Selected()
		return m.page == pageEvents && len(m.filter.Sessions) == 1 && ok && r.SessionID == m.filter.Sessions[0]
	})

	// Help, then quit.
	tm.Type("?")
	waitModel(t, tm, "help", func(m Model) bool { return strings.Contains(ansi.Strip(m.render()), "auditlens — keys") })
	tm.Type("q")
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(probe)
	if !final.showHelp {
		t.Error("final model lost the help state")
	}
}
