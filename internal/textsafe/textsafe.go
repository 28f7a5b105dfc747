// Package textsafe gives the command line the explorer's sanitiser: text from
// audit logs (statements, user names, parameters) is attacker-controlled, and
// the CLI prints it to the same terminals. One implementation, tui/sanitize,
// serves both; this package only adapts it to printing with a length limit.
package textsafe

import (
	"unicode/utf8"

	"github.com/auditlens/auditlens/tui/sanitize"
)

// Clean returns s with escape sequences and control characters removed.
// Line breaks are kept when keepNewlines is set; otherwise they become spaces.
func Clean(s string, keepNewlines bool) string {
	if keepNewlines {
		return sanitize.Clean(s, sanitize.Block)
	}
	return sanitize.Clean(s, sanitize.Line)
}

// Line cleans s for a single line and cuts it to at most max runes (0: no cut),
// ending with "…" when cut.
func Line(s string, max int) string {
	s = sanitize.Clean(s, sanitize.Line)
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
