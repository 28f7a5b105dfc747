package pgaudit

import (
	"strings"
	"testing"
	"time"
)

// TestHostileLines bounds the matcher's work on lines built to make the
// backtracking explode: they must be decided quickly, matched or not.
func TestHostileLines(t *testing.T) {
	p, err := CompilePrefix(RDSPrefix)
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"2026-11-25 11:42:17 UTC:" + strings.Repeat("a@b:[1]:LOG:  ", 400),
		"2026-11-25 11:42:17 UTC:" + strings.Repeat("@:", 3000) + "LOG:  x",
		strings.Repeat("2026-11-25 11:42:17 UTC:[local]:u@d:[x]:LOG:  ", 200),
		"2026-11-25 11:42:17 UTC:[local]:" + strings.Repeat("@", 4000) + ":[1]:LOG:  x",
	}
	var m prefixMatch
	for i, l := range lines {
		start := time.Now()
		for range 10 {
			p.match([]byte(l), &m)
		}
		if d := time.Since(start) / 10; d > 5*time.Millisecond {
			t.Errorf("line %d: %v per match", i, d)
		}
	}
}
