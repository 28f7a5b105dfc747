package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/tui/filterbar"
)

// paletteCommands are the `:` commands; tab completes them.
func paletteCommands() []string {
	return []string{"events", "sessions", "sources", "gaps", "findings", "utc", "local", "internal", "facets", "export", "filter ", "help", "quit", "sync"}
}

func (m *Model) paletteKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.paletteOpen = false
		return nil
	case "tab":
		v := m.palette.Value()
		for _, c := range paletteCommands() {
			if strings.HasPrefix(c, v) {
				m.palette.SetValue(c)
				break
			}
		}
		return nil
	case "enter":
		m.paletteOpen = false
		return m.runCommand(strings.TrimSpace(m.palette.Value()))
	}
	m.palette.Update(msg)
	return nil
}

func (m *Model) runCommand(line string) tea.Cmd {
	name, arg, _ := strings.Cut(line, " ")
	switch name {
	case "", "events", "e":
		return m.showPage(pageEvents)
	case "sessions", "s":
		return m.showPage(pageSessions)
	case "sources":
		return m.showPage(pageSources)
	case "gaps":
		return m.showPage(pageGaps)
	case "findings":
		return m.showPage(pageFindings)
	case "utc":
		if !m.c.UTC {
			return m.toggleZone()
		}
	case "local":
		if m.c.UTC {
			return m.toggleZone()
		}
	case "internal":
		m.filter.IncludeInternal = !m.filter.IncludeInternal
		return m.applyFilter()
	case "facets":
		m.showFacets = !m.showFacets
		m.resize()
	case "export":
		return m.export()
	case "sync":
		return m.startSync(arg)
	case "filter":
		f, err := filterbar.Parse(arg, m.opts.Now(), m.c.Location())
		if err != nil {
			m.flash(err.Error(), true)
			return nil
		}
		return m.setFilter(f)
	case "help":
		m.showHelp = true
	case "quit", "q":
		return tea.Quit
	default:
		m.flash("unknown command :"+name+" (try :sessions, :sources, :gaps, :findings, :events, :utc, :quit)", true)
	}
	return nil
}
