// Package help owns the help page, built from the key map's own help text so
// the page cannot drift from the bindings.
//
// help imports common and keys; it must not import store or other components.
package help

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/auditlens/auditlens/tui/common"
)

// commandHelp lists the palette commands for the help page.
func commandHelp() [][2]string {
	return [][2]string{
		{":events", "events table"}, {":sessions", "sessions page"}, {":sources", "sources page"},
		{":gaps", "capture gaps page"}, {":findings", "findings page"},
		{":utc / :local", "time zone"}, {":internal", "show/hide internal users"}, {":export", "export form"},
		{":filter EXPR", "set the filter"}, {":help", "this page"}, {":quit", "quit"},
	}
}

// View draws the help page in width×height cells.
func View(c common.Context, width, height int) string {
	t := c.Theme
	var cols []string
	for _, g := range c.Keys.Groups() {
		lines := []string{t.Title.Render(g.Title)}
		for _, b := range g.Bindings {
			h := b.Help()
			lines = append(lines, t.StatusKey.UnsetBackground().Render(common.Fit(h.Key, 12))+" "+h.Desc)
		}
		cols = append(cols, strings.Join(lines, "\n"))
	}
	cmd := []string{t.Title.Render("Commands")}
	for _, ch := range commandHelp() {
		cmd = append(cmd, t.StatusKey.UnsetBackground().Render(common.Fit(ch[0], 14))+" "+ch[1])
	}
	cols = append(cols, strings.Join(cmd, "\n"))
	out := []string{t.Header.Render("auditlens — keys") + t.Dim.Render("   (esc or ? to close)"), ""}
	// Pack the groups side by side, as many per band as fit the width.
	var band []string
	bandW := 0
	flush := func() {
		if len(band) == 0 {
			return
		}
		out = append(out, strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, band...), "\n")...)
		out = append(out, "")
		band, bandW = nil, 0
	}
	for _, col := range cols {
		w := lipgloss.Width(col) + 3
		if bandW+w > width {
			flush()
		}
		band = append(band, lipgloss.NewStyle().Width(w).Render(col))
		bandW += w
	}
	flush()
	out = append(out, "", t.Dim.Render("Filter language: db:orders user:app,etl class:DDL,ROLE cmd:\"DROP TABLE\" cluster:x source:das"),
		t.Dim.Render("  session:ID obj:name since:2h until:2026-11-24T10:00 free text…   (tab completes keys and values)"),
		t.Dim.Render("Every value from the logs is shown with control characters and escape sequences removed."))
	return common.Block(strings.Join(out, "\n"), width, height)
}
