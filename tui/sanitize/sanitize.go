// Package sanitize makes untrusted text from the case file safe to draw on a
// terminal. Every string that came from a log (statements, user names, object
// names, file paths, error messages) passes through here before any style is
// applied, so a hostile statement cannot move the cursor, retitle the window,
// ring the bell or write the clipboard (OSC 52).
//
// sanitize imports only the standard library.
package sanitize

import (
	"strings"
	"unicode/utf8"
)

// Mode says what to do with line breaks and tabs.
type Mode int

const (
	// Line folds the text onto one line: every line break and tab becomes a space.
	Line Mode = iota
	// Block keeps line breaks (\n; \r\n and lone \r become \n) and expands tabs
	// to four spaces, for the detail pane.
	Block
)

// Clean returns s with every terminal control removed:
//   - escape sequences (CSI, OSC including OSC 52, DCS, SOS, PM, APC and
//     two-byte ESC sequences) are dropped whole, terminated or not;
//   - the 8-bit C1 forms of CSI, OSC, DCS, SOS, PM and APC (U+009B, …) start a
//     sequence that is dropped the same way, other C1 controls are dropped;
//   - other C0 controls (BEL, BS, …) and DEL are dropped;
//   - bidirectional overrides and isolates are dropped, so text cannot display
//     in an order other than the one it is stored in;
//   - invalid UTF-8 becomes U+FFFD.
//
// Line breaks and tabs are handled as mode says.
func Clean(s string, mode Mode) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		switch {
		case r == 0x1b: // ESC
			i = skipEscape(s, i+size)
			continue
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x9d, r == 0x90, r == 0x98, r == 0x9e, r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\n':
			if mode == Block {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\r':
			if mode == Block {
				if i+1 >= len(s) || s[i+1] != '\n' {
					b.WriteByte('\n')
				}
			} else if i+1 >= len(s) || s[i+1] != '\n' {
				b.WriteByte(' ')
			}
		case r == '\t':
			if mode == Block {
				b.WriteString("    ")
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			// other C0/C1 controls: dropped
		case isBidiControl(r):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII only, the common case, so Clean
// can return it without copying.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// skipEscape skips what follows an ESC at s[i:] and returns the index after it.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// nF sequences: intermediates 0x20–0x2f, then one final byte 0x30–0x7e.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips parameter and intermediate bytes up to and including the final
// byte (0x40–0x7e). Anything else ends the sequence without being consumed, so a
// broken sequence cannot swallow the rest of the text.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipString skips a control string (OSC, DCS, …) up to and including its
// terminator: BEL, ESC \ or the C1 ST (U+009C). An unterminated string runs to
// the end of the text, as a terminal would swallow it.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			// ESC starting something else also ends the string; let the
			// caller's loop deal with the new sequence.
			return i
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		}
		i++
	}
	return i
}

// LineOf is Clean(s, Line): one line for table cells, headers and the status line.
func LineOf(s string) string { return Clean(s, Line) }

// Preview returns the first part of s, cleaned to one line: enough for a table
// cell without scanning a megabyte statement on every frame.
func Preview(s string, maxBytes int) string {
	if len(s) > maxBytes {
		cut := maxBytes
		// Cut on a rune boundary so the cut does not turn into U+FFFD.
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return Clean(s, Line)
}
