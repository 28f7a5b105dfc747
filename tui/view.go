package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/help"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// View draws the whole screen. It only reads state: no query runs here.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "auditlens"
	return v
}

func (m Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	l := m.layout()
	var body string
	switch {
	case m.showHelp:
		body = help.View(m.c, m.width, m.height-2)
		return strings.Join([]string{m.header(), body, m.statusLine()}, "\n")
	case m.page == pageStart:
		body = m.startPage(m.height - 2)
		return strings.Join([]string{m.header(), body, m.statusLine()}, "\n")
	case m.page == pageSessions:
		body = m.sessions.View(m.c)
	case m.page == pageSources:
		body = m.sources.View(m.c, m.syncing)
	case m.page == pageGaps:
		body = m.gaps.View(m.c)
	case m.page == pageFindings:
		body = m.findings.View(m.c)
	default:
		table := m.table.View(m.c)
		if m.showFacets {
			table = lipgloss.JoinHorizontal(lipgloss.Top,
				m.facets.View(m.c, m.filter, m.focus == focusFacets), " ", table)
			table = common.Block(table, m.width, l.tableH)
		}
		lower := m.detail.View(m.c, m.focus == focusDetail)
		if m.formOpen {
			lower = common.Block(m.form.View(m.c, m.width, m.bar.Text()), m.width, l.detailH)
		}
		body = table + "\n" + lower
	}
	return strings.Join([]string{
		m.header(),
		m.timeline.View(m.c),
		m.bar.View(m.c, m.width),
		common.Block(body, m.width, l.bodyH),
		m.statusLine(),
	}, "\n")
}

func (m Model) header() string {
	t := m.c.Theme
	parts := []string{t.Header.Render("auditlens")}
	if m.opts.Path != "" {
		parts = append(parts, sanitize.LineOf(filepath.Base(m.opts.Path)))
	}
	parts = append(parts, m.c.ZoneName())
	if m.c.ReadOnly {
		parts = append(parts, t.Warn.Render("read-only"))
	}
	if m.infoSet && m.info.err == nil && m.info.total > 0 {
		parts = append(parts, t.HeaderKey.Render("clusters ")+sanitize.LineOf(strings.Join(m.info.clusters, ", ")))
		first, last := m.c.FormatTime(m.info.first), m.c.FormatTime(m.info.last)
		if first[:10] == last[:10] {
			last = last[11:] // same day: the date once is enough
		}
		parts = append(parts, first+" → "+last)
		parts = append(parts, fmt.Sprintf("%d events", m.info.total))
	}
	return common.Fit(strings.Join(parts, t.Dim.Render(" · ")), m.width)
}

func (m Model) statusLine() string {
	t := m.c.Theme
	if m.paletteOpen {
		return common.Fit(m.palette.View(":", t.Prompt, t.Cursor, true, m.width)+t.Dim.Render("  tab complete · enter run · esc cancel"), m.width)
	}
	if m.noteOpen {
		return common.Fit(m.note.View("note (empty = bookmark): ", t.Prompt, t.Cursor, true, m.width), m.width)
	}
	var left []string
	switch m.page {
	case pageEvents:
		n, total, nKnown, totalKnown := m.table.Position()
		pos := "row "
		if nKnown {
			pos += fmt.Sprint(n)
		} else {
			pos += "…"
		}
		pos += " of "
		if totalKnown {
			pos += fmt.Sprint(total)
		} else {
			pos += "…"
		}
		left = append(left, "events", pos)
		if m.drill != nil {
			hint := " (esc back)"
			if m.drill.from == pageFindings {
				hint = " (esc clears)"
			}
			left = append(left, sanitize.LineOf(m.drill.label)+hint)
		}
	case pageSessions:
		left = append(left, "sessions", fmt.Sprintf("%d of %d", min(m.sessions.Cursor(), m.sessions.Len()), m.sessions.Len()))
	case pageFindings:
		left = append(left, "findings", fmt.Sprintf("%d findings", m.findings.Len()))
	case pageGaps:
		left = append(left, "gaps", fmt.Sprintf("%d loss windows", m.gaps.Windows()))
	default:
		left = append(left, m.page.String())
	}
	if !m.filter.IsZero() && m.drill == nil {
		left = append(left, "filtered")
	}
	if !m.filter.IncludeInternal {
		left = append(left, "internal hidden")
	}
	left = append(left, m.c.ZoneName())
	if m.syncing {
		left = append(left, m.syncText)
	} else {
		left = append(left, "sync idle")
	}
	if m.exporting {
		left = append(left, m.exportTxt)
	}
	line := strings.Join(left, " │ ")
	if m.status != "" {
		st := t.Status
		if m.statusErr {
			st = t.Error
		}
		line += " │ " + st.Render(m.status)
	}
	hints := "? help  / filter  f facets  : cmd  q quit"
	if gap := m.width - ansi.StringWidth(line) - ansi.StringWidth(hints) - 2; gap > 0 {
		line += strings.Repeat(" ", gap+1) + hints
	}
	return t.Status.Render(common.Fit(" "+line, m.width))
}

func (m Model) startPage(h int) string {
	t := m.c.Theme
	lines := []string{"", t.Title.Render("This case file has no audit events yet."), ""}
	if m.infoSet && m.info.err != nil {
		lines = []string{"", t.Error.Render("Could not read the case file: " + userError(m.info.err))}
	}
	lines = append(lines,
		"Fill it from your sources (listed in ~/.config/auditlens/config.yaml):",
		"",
		"    auditlens sync --db "+sanitize.LineOf(m.opts.Path),
		"",
		"or try the explorer on generated data:",
		"",
		"    make demo",
		"",
		t.Dim.Render("Then press r here to reload, or q to quit."),
	)
	for i, l := range lines {
		lines[i] = lipgloss.PlaceHorizontal(m.width, lipgloss.Center, l)
	}
	return common.Block(strings.Join(lines, "\n"), m.width, h)
}
