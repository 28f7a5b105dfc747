package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
		keepNL         bool
	}{
		{"plain", "SELECT 1", "SELECT 1", false},
		{"osc52 clipboard", "SELECT '\x1b]52;c;ZXZpbA==\x07x'", "SELECT 'x'", false},
		{"osc52 with ST", "a\x1b]52;c;ZXZpbA==\x1b\\b", "ab", false},
		{"csi color", "\x1b[31mred\x1b[0m", "red", false},
		{"csi clear screen", "x\x1b[2J\x1b[H", "x", false},
		{"bell", "ding\x07dong", "dingdong", false},
		{"c1 csi", "a\u009b31mb", "ab", false},
		{"c1 osc", "a\u009d52;c;AAAA\u009cb", "ab", false},
		{"nul dropped, lone cr is a line break", "a\x00b\rc", "ab c", false},
		{"newline flattened", "a\nb\tc", "a b c", false},
		{"newline kept, tab expanded", "a\nb\tc", "a\nb    c", true},
		{"invalid utf8", "a\xffb", "a\uFFFDb", false},
		{"bidi override", "abc\u202edcba", "abcdcba", false},
		{"unicode kept", "Grüße 日本", "Grüße 日本", false},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab", false},
		{"unterminated osc", "a\x1b]0;title", "a", false},
		{"lone esc at end", "a\x1b", "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in, tt.keepNL); got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	if got := Line("abcdef", 4); got != "abc…" {
		t.Errorf("Line cut = %q", got)
	}
	if got := Line("ab\ncd", 0); got != "ab cd" {
		t.Errorf("Line = %q", got)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"SELECT 1", "\x1b]52;c;ZXZpbA==\x07", "\x1b[31m", "\u009b1m", "a\xffb", "\x1bP\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, keep := range []bool{false, true} {
			out := Clean(s, keep)
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of %q", s)
			}
			for _, r := range out {
				if r == 0x1b || r == 0x07 || (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) {
					t.Fatalf("control %U left in %q (from %q)", r, out, s)
				}
				if !keep && (r == '\n' || r == '\t') {
					t.Fatalf("newline left in single-line output")
				}
			}
			if strings.Contains(out, "\x1b") {
				t.Fatal("escape left")
			}
		}
	})
}
