package sqllex

import (
	"strings"
	"testing"
)

func TestRedactLiterals(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT ?"},
		{"SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = '?'"},
		{"SELECT 'it''s'", "SELECT '?'"},
		{`SELECT E'it\'s \\ here'`, "SELECT '?'"},
		{`SELECT e'a\'b''c', 1`, "SELECT '?', ?"},
		{`SELECT 'a\' , 2`, `SELECT '?' , ?`}, // standard_conforming_strings: \ is ordinary
		{`SELECT U&'d\0061t\+000061' UESCAPE '!'`, "SELECT '?' UESCAPE '?'"},
		{`SELECT U&"d\0061t" FROM x`, `SELECT U&"d\0061t" FROM x`},
		{"SELECT B'1010', X'1F', N'nat'", "SELECT '?', '?', '?'"},
		{"SELECT $$sec'ret$$", "SELECT '?'"},
		{"SELECT $fn$ body $$ inner $$ $fn$, 2", "SELECT '?', ?"},
		{"SELECT $a$x$b$y$a$", "SELECT '?'"},
		{"SELECT $1, $23 FROM t WHERE x = $2", "SELECT $1, $23 FROM t WHERE x = $2"},
		{`SELECT "col 1", "we""ird" FROM "T1"`, `SELECT "col 1", "we""ird" FROM "T1"`},
		{"SELECT a1, t2.c3, x$1 FROM t9", "SELECT a1, t2.c3, x$1 FROM t9"},
		{"SELECT 3.14, .5, 1., 1e10, 2.5E-3, 7e+2", "SELECT ?, ?, ?, ?, ?, ?"},
		{"SELECT 0x1F, 0X_ff, 0o17, 0b1010, 1_000_000, 1_000.5_5", "SELECT ?, ?, ?, ?, ?, ?"},
		{"SELECT -42, +7", "SELECT -?, +?"},
		{"SELECT 1 -- '1' comment 42\nFROM t", "SELECT ? -- '1' comment 42\nFROM t"},
		{"SELECT /* outer /* inner 'x' */ still 5 */ 6", "SELECT /* outer /* inner 'x' */ still 5 */ ?"},
		{"SELECT '2024-01-01'::date, 5::int", "SELECT '?'::date, ?::int"},
		{"INSERT INTO t VALUES ('a', 1), ('b', 2)", "INSERT INTO t VALUES ('?', ?), ('?', ?)"},
		{"SELECT 'unterminated secret", "SELECT '?'"},
		{"SELECT $q$ unterminated secret", "SELECT '?'"},
		{"SELECT /* unterminated 'x'", "SELECT /* unterminated 'x'"},
		{"SELECT 'a'\n'b'", "SELECT '?'\n'?'"},
		{"SELECT arr[1:2]", "SELECT arr[?:?]"},
		{"SELECT 1..2", "SELECT ?.?"}, // ".2" is a number,
		{"SELECT $ FROM t", "SELECT $ FROM t"},
		{"SELECT café, 'naïve'", "SELECT café, '?'"},
		{"", ""},
	}
	for _, c := range cases {
		if got := RedactLiterals(c.in); got != c.want {
			t.Errorf("RedactLiterals(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestTokens(t *testing.T) {
	in := `SELECT "a", E'x\'y', $t$z$t$, 0x1F, $1 /* c /* d */ */ -- e`
	want := []Kind{Ident, Space, QuotedIdent, Operator, Space, String, Operator, Space, DollarString,
		Operator, Space, Number, Operator, Space, Param, Space, Comment, Space, Comment}
	toks := Tokens(in)
	var got []Kind
	var b strings.Builder
	for _, tk := range toks {
		got = append(got, tk.Kind)
		b.WriteString(tk.Text)
	}
	if b.String() != in {
		t.Fatalf("tokens do not concatenate to the input: %q", b.String())
	}
	if len(got) != len(want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("token %d (%q): kind %v, want %v", i, toks[i].Text, got[i], want[i])
		}
	}
}

const marker = "SECRET"

func FuzzRedactLiterals(f *testing.F) {
	for _, s := range []string{
		"SELECT 'SECRET'", "SELECT E'SE\\'CRET'", "SELECT $$SECRET$$", "SELECT $x$SECRET$x$",
		"SELECT U&'SECRET'", "SELECT 123 /* SECRET */", "SELECT \"SECRET\"", "SELECT 'a''SECRET'",
		"SELECT /* /* */ 'SECRET' */ 'SECRET'", "SELECT 0xSECRET", "SELECT $1SECRET", "e'\\", "$a$", "U&'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokens(s)
		var joined strings.Builder
		kept := 0
		for _, tk := range toks {
			if tk.Text == "" {
				t.Fatalf("empty token at %d", tk.Pos)
			}
			joined.WriteString(tk.Text)
			if !tk.Kind.IsLiteral() {
				kept += strings.Count(tk.Text, marker)
			}
		}
		if joined.String() != s {
			t.Fatalf("lexing lost bytes")
		}
		out := RedactLiterals(s)
		// Placeholders hold no letters, so every marker in the output comes
		// from a kept token: literal content never survives.
		if n := strings.Count(out, marker); n > kept {
			t.Fatalf("literal content leaked: %q -> %q", s, out)
		}
		for _, tk := range toks {
			if tk.Kind == Number && strings.Trim(tk.Text, "0123456789._xXoO+-abcdefABCDEF") != "" {
				t.Fatalf("number token %q holds other bytes", tk.Text)
			}
		}
		// Adjacent placeholders may fuse into one literal ('?''?'), so a second
		// pass is not the identity; it must still leak nothing.
		if n := strings.Count(RedactLiterals(out), marker); n > kept {
			t.Fatalf("second pass leaked: %q", s)
		}
	})
}
