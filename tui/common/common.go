// Package common owns what every view of the explorer shares: the screen size a
// component was given, the theme, the key map, the display time zone and
// whether the case file is read-only. Components receive a Context value; only
// the root model changes it.
//
// common may import theme, keys and sanitize; it must not import store or any
// component or page package.
package common

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/auditlens/auditlens/tui/keys"
	"github.com/auditlens/auditlens/tui/theme"
)

// Context is the shared, read-mostly state handed to components.
type Context struct {
	Theme    theme.Theme
	Keys     keys.KeyMap
	UTC      bool
	Local    *time.Location // the user's zone, used when UTC is false
	ReadOnly bool
}

// Location is the zone times are shown in.
func (c Context) Location() *time.Location {
	if c.UTC || c.Local == nil {
		return time.UTC
	}
	return c.Local
}

// ZoneName names the display zone for the header and status line.
func (c Context) ZoneName() string {
	if c.UTC || c.Local == nil {
		return "UTC"
	}
	name, _ := time.Now().In(c.Local).Zone()
	return "local " + name
}

// TimeLayout is the one layout for times in tables and headers: full date,
// second precision, sortable.
const TimeLayout = "2006-01-02 15:04:05"

// FormatTime formats t in the display zone; a zero time is empty.
func (c Context) FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(c.Location()).Format(TimeLayout)
}

// Fit pads or truncates s (already sanitized, may hold styles) to exactly w cells.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// Block pads or cuts a multi-line string to exactly w×h cells so layouts join
// without drift.
func Block(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = Fit(l, w)
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

// Rule is a horizontal line of w cells with an optional title.
func Rule(st lipgloss.Style, title string, w int) string {
	if title == "" {
		return st.Render(strings.Repeat("─", max(w, 0)))
	}
	head := "─ " + title + " "
	rest := w - ansi.StringWidth(head)
	if rest < 0 {
		return st.Render(ansi.Truncate(head, w, ""))
	}
	return st.Render(head + strings.Repeat("─", rest))
}
