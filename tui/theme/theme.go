// Package theme owns the explorer's one Styles struct: every color and text
// attribute the views use, adapted to a light or dark terminal background and
// reduced to attributes only when NO_COLOR is set.
//
// theme imports lipgloss only; it must not import store or any tui component.
package theme

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Theme is the set of styles the views draw with. It is a value: rebuilding it
// on a background color report replaces it whole.
type Theme struct {
	Dark    bool
	NoColor bool

	App         lipgloss.Style
	Header      lipgloss.Style
	HeaderKey   lipgloss.Style
	Title       lipgloss.Style
	TableHead   lipgloss.Style
	Row         lipgloss.Style
	RowSelected lipgloss.Style
	RowError    lipgloss.Style
	Dim         lipgloss.Style
	Border      lipgloss.Style
	Focused     lipgloss.Style
	Label       lipgloss.Style
	Value       lipgloss.Style
	Keyword     lipgloss.Style
	Literal     lipgloss.Style
	Comment     lipgloss.Style
	Status      lipgloss.Style
	StatusKey   lipgloss.Style
	Error       lipgloss.Style
	Warn        lipgloss.Style
	OK          lipgloss.Style
	Spark       lipgloss.Style
	Prompt      lipgloss.Style
	Cursor      lipgloss.Style
	Active      lipgloss.Style
}

// New builds the theme for a dark or light background. noColor keeps only
// attributes (bold, reverse, faint), as NO_COLOR asks.
func New(dark, noColor bool) Theme {
	t := Theme{Dark: dark, NoColor: noColor}
	if noColor {
		plain := lipgloss.NewStyle()
		t.App, t.Row, t.Value, t.Literal, t.Comment, t.Spark, t.OK = plain, plain, plain, plain, plain, plain, plain
		t.Header = plain.Bold(true)
		t.HeaderKey = plain
		t.Title = plain.Bold(true)
		t.TableHead = plain.Bold(true).Underline(true)
		t.RowSelected = plain.Reverse(true)
		t.RowError = plain
		t.Dim = plain.Faint(true)
		t.Border = plain
		t.Focused = plain.Bold(true)
		t.Label = plain.Bold(true)
		t.Keyword = plain.Bold(true)
		t.Status = plain.Reverse(true)
		t.StatusKey = plain.Reverse(true).Bold(true)
		t.Error = plain.Bold(true)
		t.Warn = plain.Bold(true)
		t.Prompt = plain.Bold(true)
		t.Cursor = plain.Reverse(true)
		t.Active = plain.Bold(true).Underline(true)
		return t
	}
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	fg := c("235", "252")
	muted := c("244", "245")
	accent := c("25", "75")
	selBg := c("153", "24")
	barBg := c("254", "236")
	t.App = lipgloss.NewStyle().Foreground(fg)
	t.Header = lipgloss.NewStyle().Foreground(accent).Bold(true)
	t.HeaderKey = lipgloss.NewStyle().Foreground(muted)
	t.Title = lipgloss.NewStyle().Foreground(accent).Bold(true)
	t.TableHead = lipgloss.NewStyle().Foreground(accent).Bold(true)
	t.Row = lipgloss.NewStyle().Foreground(fg)
	t.RowSelected = lipgloss.NewStyle().Foreground(c("16", "231")).Background(selBg).Bold(true)
	t.RowError = lipgloss.NewStyle().Foreground(c("124", "210"))
	t.Dim = lipgloss.NewStyle().Foreground(muted)
	t.Border = lipgloss.NewStyle().Foreground(c("250", "240"))
	t.Focused = lipgloss.NewStyle().Foreground(accent).Bold(true)
	t.Label = lipgloss.NewStyle().Foreground(muted).Bold(true)
	t.Value = lipgloss.NewStyle().Foreground(fg)
	t.Keyword = lipgloss.NewStyle().Foreground(c("90", "176")).Bold(true)
	t.Literal = lipgloss.NewStyle().Foreground(c("28", "114"))
	t.Comment = lipgloss.NewStyle().Foreground(muted).Italic(true)
	t.Status = lipgloss.NewStyle().Foreground(fg).Background(barBg)
	t.StatusKey = lipgloss.NewStyle().Foreground(accent).Background(barBg).Bold(true)
	t.Error = lipgloss.NewStyle().Foreground(c("160", "203")).Bold(true)
	t.Warn = lipgloss.NewStyle().Foreground(c("130", "214"))
	t.OK = lipgloss.NewStyle().Foreground(c("28", "114"))
	t.Spark = lipgloss.NewStyle().Foreground(accent)
	t.Prompt = lipgloss.NewStyle().Foreground(accent).Bold(true)
	t.Cursor = lipgloss.NewStyle().Reverse(true)
	t.Active = lipgloss.NewStyle().Foreground(c("130", "214")).Bold(true)
	return t
}
