package store

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/auditlens/auditlens/store/model"
)

// TestHostileValues stores what an attacker can put in a log and reads it back
// intact where the bytes are representable, and as valid UTF-8 otherwise.
func TestHostileValues(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	big := "SELECT '" + strings.Repeat("x", 10<<20) + "'"
	cases := []string{
		"SELECT '\x1b]52;c;ZXZpbA==\x07'",
		"=HYPERLINK(\"http://evil\")",
		"SELECT 'a\x00b'",
		"SELECT '\xff\xfe broken'",
		"x'); DROP TABLE events; --",
		big,
	}
	var evs []model.Event
	for i, c := range cases {
		e := ev(i, "u\xffser", "READ", "SELECT", c)
		e.Params = []string{"\xc3", "ok"}
		evs = append(evs, e)
	}
	writeObject(t, s, "/h", evs)
	rows, err := s.Page(ctx, Filter{}, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(cases) {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		if !utf8.ValidString(r.Statement) || !utf8.ValidString(r.UserName) || !utf8.ValidString(r.Params[0]) {
			t.Errorf("row %d: invalid UTF-8 came back", i)
		}
		want := strings.ToValidUTF8(cases[i], "\uFFFD")
		if r.Statement != want {
			t.Errorf("row %d: statement %.60q, want %.60q", i, r.Statement, want)
		}
	}
	if n, _ := s.Count(ctx, Filter{}); n != int64(len(cases)) {
		t.Errorf("injection changed the table: %d rows", n)
	}
}
