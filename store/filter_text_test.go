package store

import (
	"context"
	"regexp"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

func TestCaselessRun(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tmp_42", "_42"},
		{"customers", ""},
		{"10.0.3.7", "10.0.3.7"},
		{"a1b22c333", "333"},
		{"WHERE id = 5", " = 5"},
		{"ünï_99é", "_99"},
		{"", ""},
		{"'; --", "'; --"},
	} {
		if got := caselessRun(c.in); got != c.want {
			t.Errorf("caselessRun(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The substring prefilter never changes what a text search finds: counts
// equal Go's RE2 with the same case-insensitive pattern, over statements,
// object names and error messages with mixed case, digits and non-ASCII
// letters that fold to ASCII (ſ, K).
func TestTextSearchPrefilter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	texts := []string{
		"SELECT * FROM TMP_42", "select * from tmp_42x", "tmp-42", "TMP_4", "Tmp_42 WHERE id = 5",
		"ſelect 1", "SELECT 1", "update orders_2026 set x = 1", "UPDATE Orders_2026", "10.0.3.7",
		"10.0.3.70", "ünïcode_99 é", "ÜNÏCODE_99", "temp K_7", "temp k_7",
	}
	var evs []model.Event
	for i, st := range texts {
		e := ev(i, "alice", "READ", "SELECT", st)
		if i%3 == 1 {
			e.Statement, e.ObjectName = "", st
		}
		if i%3 == 2 {
			e.Statement, e.ErrorMessage = "", st
		}
		evs = append(evs, e)
	}
	writeObject(t, s, "/texts", evs)
	for _, term := range []string{"tmp_42", "TMP_4", "select 1", "orders_2026", "10.0.3.7", "ünïcode_99", "k_7", "_", "= 5", "x", "select", "orders", "temp k", "ünïcode"} {
		re := regexp.MustCompile(literalPattern(term))
		var want int64
		for _, e := range evs {
			if re.MatchString(e.Statement) || re.MatchString(e.ObjectName) || re.MatchString(e.ErrorMessage) {
				want++
			}
		}
		got, err := s.Count(ctx, Filter{Text: term})
		if err != nil || got != want {
			t.Errorf("text %q: %d rows (%v), RE2 says %d", term, got, err, want)
		}
		// The same without the object-name list: the pattern on every row.
		where, args := Filter{Text: term}.where("")
		var plain int64
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, args...).Scan(&plain); err != nil || plain != want {
			t.Errorf("text %q without the object-name list: %d rows (%v), RE2 says %d", term, plain, err, want)
		}
		if f := s.resolveText(ctx, Filter{Text: term}); !f.textResolved {
			t.Errorf("text %q: object names not resolved", term)
		}
	}
}
