package local

import "testing"

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, key string
		want         bool
	}{
		{"**/postgresql.log.*", "postgresql.log.2024-05-01-13", true},
		{"**/postgresql.log.*", "a/b/postgresql.log.2024-05-01-1300", true},
		{"**/postgresql.log.*", "a/b/other.log", false},
		{"*/x.gz", "a/x.gz", true},
		{"*/x.gz", "a/b/x.gz", false},
		{"a/**", "a/b/c", true},
		{"a/**/c", "a/c", true},
		{"a/**/c", "a/b/d/c", true},
		{`we\[ird`, "we[ird", true},
		{"2024/0[45]/**", "2024/05/01/13/x", true},
		{"2024/0[45]/**", "2024/06/01/13/x", false},
	} {
		if got := match(c.pattern, c.key); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.key, got, c.want)
		}
	}
	for _, c := range []struct {
		pattern, dir string
		want         bool
	}{
		{"*/x.gz", "a", true},
		{"*/x.gz", "a/b", false},
		{"2024/0[45]/**", "2024/06", false},
		{"2024/0[45]/**", "2024", true},
		{"**/x", "a/b/c", true},
	} {
		if got := matchPrefix(c.pattern, c.dir); got != c.want {
			t.Errorf("matchPrefix(%q, %q) = %v, want %v", c.pattern, c.dir, got, c.want)
		}
	}
}
