// Package prompt owns the one-line text input the filter bar, the command
// palette and the note prompt share. It is deliberately small (no blinking
// cursor, no timers) so views are deterministic and never tick in the
// background.
//
// prompt imports bubbletea, lipgloss, ansi and sanitize; it must not import
// store or other tui packages.
package prompt

import (
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/auditlens/auditlens/tui/sanitize"
)

// Input is an editable line with a cursor.
type Input struct {
	value []rune
	pos   int
}

// Value is the current text.
func (in Input) Value() string { return string(in.value) }

// Pos is the cursor position in runes.
func (in Input) Pos() int { return in.pos }

// SetValue replaces the text and puts the cursor at its end.
func (in *Input) SetValue(s string) {
	in.value = []rune(s)
	in.pos = len(in.value)
}

// Update edits the line for one key press and reports whether the text
// changed. Keys it does not know are left to the caller.
func (in *Input) Update(msg tea.KeyPressMsg) (changed, handled bool) {
	switch msg.String() {
	case "left", "ctrl+b":
		in.pos = max(in.pos-1, 0)
		return false, true
	case "right", "ctrl+f":
		in.pos = min(in.pos+1, len(in.value))
		return false, true
	case "home", "ctrl+a":
		in.pos = 0
		return false, true
	case "end", "ctrl+e":
		in.pos = len(in.value)
		return false, true
	case "backspace", "ctrl+h":
		if in.pos == 0 {
			return false, true
		}
		in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
		in.pos--
		return true, true
	case "delete", "ctrl+d":
		if in.pos >= len(in.value) {
			return false, true
		}
		in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		return true, true
	case "ctrl+u":
		changed = in.pos > 0
		in.value = in.value[in.pos:]
		in.pos = 0
		return changed, true
	case "ctrl+k":
		changed = in.pos < len(in.value)
		in.value = in.value[:in.pos]
		return changed, true
	case "ctrl+w", "alt+backspace":
		start := in.pos
		for start > 0 && unicode.IsSpace(in.value[start-1]) {
			start--
		}
		for start > 0 && !unicode.IsSpace(in.value[start-1]) {
			start--
		}
		changed = start < in.pos
		in.value = append(in.value[:start], in.value[in.pos:]...)
		in.pos = start
		return changed, true
	}
	if msg.Text != "" && msg.Mod&^(tea.ModShift) == 0 {
		var ins []rune
		for _, r := range msg.Text {
			// Typed or pasted control characters never enter the line.
			if unicode.IsPrint(r) || r == ' ' {
				ins = append(ins, r)
			}
		}
		if len(ins) == 0 {
			return false, true
		}
		in.Insert(string(ins))
		return true, true
	}
	return false, false
}

// Insert puts s at the cursor.
func (in *Input) Insert(s string) {
	r := []rune(s)
	v := make([]rune, 0, len(in.value)+len(r))
	v = append(v, in.value[:in.pos]...)
	v = append(v, r...)
	v = append(v, in.value[in.pos:]...)
	in.value = v
	in.pos += len(r)
}

// View draws the prompt and the line in width cells, scrolled so the cursor
// stays visible. The cursor cell is drawn with cursor when focused.
func (in Input) View(prefix string, prefixStyle, cursor lipgloss.Style, focused bool, width int) string {
	avail := width - ansi.StringWidth(prefix) - 1
	if avail < 1 {
		return ansi.Truncate(prefixStyle.Render(prefix), width, "")
	}
	start := 0
	if in.pos > avail {
		start = in.pos - avail
	}
	end := min(len(in.value), start+avail)
	var b strings.Builder
	b.WriteString(prefixStyle.Render(prefix))
	// Completion can put case-file values (hostile user names) in the line.
	b.WriteString(sanitize.LineOf(string(in.value[start:min(in.pos, end)])))
	if focused {
		under := " "
		if in.pos < len(in.value) {
			under = string(in.value[in.pos])
		}
		b.WriteString(cursor.Render(sanitize.LineOf(under)))
		if in.pos < end {
			b.WriteString(sanitize.LineOf(string(in.value[in.pos+1 : end])))
		}
	} else if in.pos < end {
		b.WriteString(sanitize.LineOf(string(in.value[in.pos:end])))
	}
	return b.String()
}
