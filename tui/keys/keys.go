// Package keys owns the explorer's key map: one key.Binding per action, whose
// help text is also what the help page and the status line hints show, so the
// two can never disagree.
//
// keys imports bubbles/key only; it must not import store or tui components.
package keys

import "charm.land/bubbles/v2/key"

// KeyMap is every binding of the explorer.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Open, Back, Quit, Help, Palette       key.Binding
	Filter, Facets, Toggle, Internal      key.Binding
	ZoomIn, ZoomOut, Refresh              key.Binding
	TimeZone, Copy, Note, Export          key.Binding
	Events, Sessions, Sources, Sync       key.Binding
	Gaps, Findings                        key.Binding
	Complete, Accept                      key.Binding
	NextField, PrevField, Choice          key.Binding
}

// Default is the k9s/lnav-like key map users already know.
func Default() KeyMap {
	b := func(help, desc string, k ...string) key.Binding {
		return key.NewBinding(key.WithKeys(k...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:       b("↑/k", "up", "up", "k"),
		Down:     b("↓/j", "down", "down", "j"),
		PageUp:   b("pgup/ctrl+b", "page up", "pgup", "ctrl+b"),
		PageDown: b("pgdn/ctrl+f", "page down", "pgdown", "ctrl+f"),
		Home:     b("home/g", "first row", "home", "g"),
		End:      b("end/G", "last row", "end", "G"),
		Open:     b("enter", "open detail / session / finding / gap", "enter"),
		Back:     b("esc", "back", "esc"),
		Quit:     b("q", "quit", "q", "ctrl+c"),
		Help:     b("?", "help", "?"),
		Palette:  b(":", "command", ":"),
		Filter:   b("/", "filter", "/"),
		Facets:   b("f", "facets panel", "f"),
		Toggle:   b("space", "toggle facet value", "space", "enter"),
		Internal: b("i", "show/hide internal users", "i"),
		ZoomIn:   b("+", "zoom in on time", "+", "="),
		ZoomOut:  b("-", "zoom out", "-"),
		Refresh:  b("r", "reload", "r", "ctrl+r"),
		TimeZone: b("t", "UTC ↔ local time", "t"),
		Copy:     b("y", "copy statement", "y"),
		Note:     b("n", "note / bookmark", "n"),
		Export:   b("e", "export view (form)", "e"),
		Events:   b("1", "events", "1"),
		Sessions: b("2", "sessions", "2"),
		Sources:  b("3", "sources", "3"),
		Gaps:     b("4", "capture gaps", "4"),
		Findings: b("5", "findings", "5"),
		Sync:     b("s", "sync source", "s"),
		Complete: b("tab", "complete", "tab"),
		Accept:   b("enter", "apply", "enter"),
		// Form keys (the export form).
		NextField: b("tab/↓", "next field", "tab", "down"),
		PrevField: b("shift+tab/↑", "previous field", "shift+tab", "up"),
		Choice:    b("←/→/space", "change choice", "left", "right", "space"),
	}
}

// Group is a titled list of bindings for the help page.
type Group struct {
	Title    string
	Bindings []key.Binding
}

// Groups lists the bindings by theme, in the order the help page shows them.
func (k KeyMap) Groups() []Group {
	return []Group{
		{"Move", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}},
		{"Explore", []key.Binding{k.Open, k.Back, k.Filter, k.Facets, k.Toggle, k.Internal, k.ZoomIn, k.ZoomOut, k.Refresh}},
		{"Act", []key.Binding{k.Copy, k.Note, k.Export, k.TimeZone, k.Sync}},
		{"Go", []key.Binding{k.Events, k.Sessions, k.Sources, k.Gaps, k.Findings, k.Palette, k.Help, k.Quit}},
		{"Export form", []key.Binding{k.NextField, k.PrevField, k.Choice, k.Accept, k.Back}},
	}
}
