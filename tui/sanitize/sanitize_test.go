package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, line, block string
	}{
		{"plain", "SELECT 1", "SELECT 1", "SELECT 1"},
		{"osc52 bel", "a\x1b]52;c;ZXZpbA==\x07b", "ab", "ab"},
		{"osc52 st", "a\x1b]52;c;ZXZpbA==\x1b\\b", "ab", "ab"},
		{"osc title unterminated", "a\x1b]0;pwned", "a", "a"},
		{"osc8 link", "\x1b]8;;http://x\x1b\\click\x1b]8;;\x1b\\", "click", "click"},
		{"csi clear", "x\x1b[2J\x1b[H\x1b[31mred\x1b[0m", "xred", "xred"},
		{"csi private", "\x1b[?1049hz", "z", "z"},
		{"csi broken", "\x1b[12\nq", " q", "\nq"},
		{"bell", "ding\a", "ding", "ding"},
		{"backspace", "ab\bc", "abc", "abc"},
		{"del", "a\x7fb", "ab", "ab"},
		{"c1 csi", "a\u009b2Jb", "ab", "ab"},
		{"c1 osc", "a\u009d52;c;eA==\u009cb", "ab", "ab"},
		{"c1 nel", "a\u0085b", "ab", "ab"},
		{"raw c1 byte", "a\x9b2Jb", "a\uFFFD2Jb", "a\uFFFD2Jb"},
		{"invalid utf8", "a\xff\xfeb", "a\uFFFD\uFFFDb", "a\uFFFD\uFFFDb"},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab", "ab"},
		{"esc charset", "a\x1b(Bb", "ab", "ab"},
		{"esc alone at end", "a\x1b", "a", "a"},
		{"newlines", "SELECT\r\n  1\rFROM\tt", "SELECT   1 FROM t", "SELECT\n  1\nFROM    t"},
		{"bidi override", "admin\u202egnp.exe", "admingnp.exe", "admingnp.exe"},
		{"unicode kept", "SELECT 'héllo 世界 🙂'", "SELECT 'héllo 世界 🙂'", "SELECT 'héllo 世界 🙂'"},
		{"nul", "a\x00b", "ab", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in, Line); got != tt.line {
				t.Errorf("Line: got %q, want %q", got, tt.line)
			}
			if got := Clean(tt.in, Block); got != tt.block {
				t.Errorf("Block: got %q, want %q", got, tt.block)
			}
		})
	}
}

func TestPreviewCutsOnRuneBoundary(t *testing.T) {
	got := Preview("ab世界", 4)
	if got != "ab" {
		t.Errorf("got %q", got)
	}
}

// isSafe is the property every output must have: valid UTF-8 and no control
// character a terminal would act on.
func isSafe(s string, mode Mode) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\n' && mode == Block {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r) {
			return false
		}
	}
	return true
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "\x1b]52;c;ZXZpbA==\x07", "\x1b[2J", "\a", "\u009b31m", "\xff",
		"\x1bP\x1b\\", "a\r\nb\tc", "\x1b", "\x1b[", "\x1b]", "\u202e",
		"2026-11-25 11:00:00 UTC:10.0.0.1(5432):app@orders:[123]:LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT 1\",<none>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, mode := range []Mode{Line, Block} {
			out := Clean(s, mode)
			if !isSafe(out, mode) {
				t.Fatalf("mode %d: unsafe output %q from %q", mode, out, s)
			}
			if again := Clean(out, mode); again != out {
				t.Fatalf("mode %d: not idempotent: %q -> %q", mode, out, again)
			}
			if mode == Line && strings.ContainsRune(out, '\n') {
				t.Fatalf("line mode kept a newline: %q", out)
			}
		}
	})
}
