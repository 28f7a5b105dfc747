package filterbar

import (
	"reflect"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want store.Filter
		err  bool
	}{
		{in: "", want: store.Filter{}},
		{in: "db:orders", want: store.Filter{Databases: []string{"orders"}}},
		{in: "user:app,etl class:ddl,ROLE", want: store.Filter{Users: []string{"app", "etl"}, Classes: []string{"DDL", "ROLE"}}},
		{in: `cmd:"DROP TABLE"`, want: store.Filter{Commands: []string{"DROP TABLE"}}},
		{in: `cmd:"drop table",select`, want: store.Filter{Commands: []string{"DROP TABLE", "SELECT"}}},
		{in: "cluster:x source:DAS", want: store.Filter{Clusters: []string{"x"}, Sources: []string{"das"}}},
		{in: "session:6b06c999.64 obj:public.orders", want: store.Filter{Sessions: []string{"6b06c999.64"}, ObjectName: "public.orders"}},
		{in: "since:2h", want: store.Filter{Since: now.Add(-2 * time.Hour)}},
		{in: "since:7d until:30m", want: store.Filter{Since: now.Add(-7 * 24 * time.Hour), Until: now.Add(-30 * time.Minute)}},
		{in: "until:2026-11-24T10:00", want: store.Filter{Until: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}},
		{in: "until:2026-11-24T10:00", loc: berlin, want: store.Filter{Until: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}},
		{in: "since:2026-11-24", want: store.Filter{Since: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}},
		{in: "since:2026-11-24T10:00:00Z", loc: berlin, want: store.Filter{Since: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}},
		{in: "drop table", want: store.Filter{Text: "drop table"}},
		{in: `user:app "select  *"  from`, want: store.Filter{Users: []string{"app"}, Text: "select  * from"}},
		{in: "x::text foo:bar", want: store.Filter{Text: "x::text foo:bar"}},
		{in: `user:"Weird, \"Quoted\" User"`, want: store.Filter{Users: []string{`Weird, "Quoted" User`}}},
		{in: "user: db:", want: store.Filter{}},
		{in: `user:"unfinished`, want: store.Filter{Users: []string{"unfinished"}}},
		{in: "user:a user:a,b", want: store.Filter{Users: []string{"a", "b"}}},
		{in: "DB:orders", want: store.Filter{Databases: []string{"orders"}}},
		{in: "since:yesterday", err: true},
		{in: "since:2h,3h", err: true},
		{in: "since:0x", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc := tt.loc
			if loc == nil {
				loc = time.UTC
			}
			got, err := Parse(tt.in, now, loc)
			if tt.err {
				if err == nil {
					t.Fatalf("want error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			// Format is the inverse of Parse.
			back, err := Parse(Format(got, loc), now, loc)
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("round trip via %q: %+v, %v", Format(got, loc), back, err)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	f := store.Filter{
		Users: []string{"app", "a b"}, Commands: []string{"DROP TABLE"}, Text: "user:x",
		Since: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
	}
	want := `user:app,"a b" cmd:"DROP TABLE" since:2026-11-24T10:00:00 "user:x"`
	if got := Format(f, time.UTC); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"db:orders user:app,etl class:DDL,ROLE cmd:\"DROP TABLE\" cluster:x source:das since:2h until:2026-11-24T10:00 free text",
		`user:"Weird, \"Quoted\" User"`, `"a  b" c`, "obj:a,b", `x:"`, `since:`, `"\`, "a\tb\nc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s, now, time.UTC)
		if err != nil {
			return
		}
		line := Format(got, time.UTC)
		back, err := Parse(line, now, time.UTC)
		if err != nil {
			t.Fatalf("Format wrote an unparsable line %q (from %q): %v", line, s, err)
		}
		if !reflect.DeepEqual(back, got) {
			t.Fatalf("round trip of %q via %q:\n got %+v\nwant %+v", s, line, back, got)
		}
	})
}
