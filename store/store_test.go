package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

var t0 = time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "case.duckdb")
	s, err := Open(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, p
}

func ev(i int, user, class, cmd, stmt string) model.Event {
	return model.Event{
		Source: model.SourcePgAudit, Cluster: "orders-prod", LogTime: t0.Add(time.Duration(i) * time.Second),
		SessionID: fmt.Sprintf("6b06c999.%x", 100+i%3), StatementID: model.Int64(int64(i)), SubstatementID: model.Int64(1),
		AuditType: "SESSION", Class: class, Command: cmd, Statement: stmt, DatabaseName: "orders", UserName: user,
		Params: []string{"a,b", ""}, ObjectRef: fmt.Sprintf("/logs/x:%d", i), Internal: model.IsInternalUser(user),
	}
}

func writeObject(t *testing.T, s *Store, uri string, evs []model.Event, rejects ...model.Reject) ObjectRecord {
	t.Helper()
	tx, err := s.BeginObject(context.Background(), ObjectMeta{Source: "test", URI: uri, Key: uri, ETag: "e1", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: evs, Rejects: rejects}); err != nil {
		t.Fatal(err)
	}
	rec, err := tx.Commit("abc")
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestWriteAndQuery(t *testing.T) {
	ctx := context.Background()
	s, p := openTemp(t)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("case file mode %v, want 0600", st.Mode().Perm())
	}
	var evs []model.Event
	for i := 0; i < 250; i++ {
		user, class, cmd := "app", "READ", "SELECT"
		switch {
		case i%10 == 0:
			user, class, cmd = "etl", "WRITE", "INSERT"
		case i%25 == 1:
			user, class, cmd = "rdsadmin", "MISC", "SET"
		case i == 7:
			class, cmd = "DDL", "DROP TABLE"
		}
		evs = append(evs, ev(i, user, class, cmd, fmt.Sprintf("SELECT %d FROM t_%d -- 100%%_done", i, i)))
	}
	rec := writeObject(t, s, "/logs/a", evs[:100])
	if rec.Status != StatusOK || rec.Events != 100 || rec.ObjectID != 1 {
		t.Fatalf("first object: %+v", rec)
	}
	rec2 := writeObject(t, s, "/logs/b", evs[100:], model.Reject{Offset: 9, Reason: model.ReasonParse, Detail: "bad"})
	if rec2.Status != StatusPartial || rec2.Reason != model.ReasonParse {
		t.Fatalf("second object: %+v", rec2)
	}
	if rec2.ChainHash != ChainLink(rec.ChainHash, "/logs/b", "abc", 150, 0) {
		t.Error("chain link does not cover the previous link")
	}

	internal := 0
	for _, e := range evs {
		if e.Internal {
			internal++
		}
	}
	n, err := s.Count(ctx, Filter{})
	if err != nil || n != int64(250-internal) {
		t.Fatalf("count = %d, %v; want %d", n, err, 250-internal)
	}
	if all, _ := s.Count(ctx, Filter{IncludeInternal: true}); all != 250 {
		t.Fatalf("count with internal = %d", all)
	}

	// Keyset pages walk every visible row exactly once, in order.
	var seen []int64
	var cur *Cursor
	for {
		rows, err := s.Page(ctx, Filter{}, cur, 37)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			seen = append(seen, r.EventID)
		}
		c := CursorOf(rows[len(rows)-1])
		cur = &c
	}
	if len(seen) != int(n) {
		t.Fatalf("paged %d rows, want %d", len(seen), n)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("page order broken at %d", i)
		}
	}
	last, err := s.PageBefore(ctx, Filter{}, nil, 5)
	if err != nil || len(last) != 5 || last[4].EventID != seen[len(seen)-1] {
		t.Fatalf("last page: %v %v", last, err)
	}
	back, _ := s.PageBefore(ctx, Filter{}, &Cursor{LogTime: last[0].LogTime, EventID: last[0].EventID}, 3)
	if len(back) != 3 || back[2].EventID >= last[0].EventID {
		t.Fatalf("page before: %+v", back)
	}

	r, err := s.Event(ctx, seen[3])
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Params) != 2 || r.Params[0] != "a,b" || r.Params[1] != "" || *r.StatementID == 0 {
		t.Errorf("round trip of params/ids: %+v", r)
	}

	// Filters.
	got, _ := s.Count(ctx, Filter{Users: []string{"etl"}, Classes: []string{"WRITE"}})
	if got != 25 {
		t.Errorf("user+class filter = %d, want 25", got)
	}
	got, _ = s.Count(ctx, Filter{Text: "100%_done"})
	if got != n {
		t.Errorf("text with pattern characters = %d, want %d", got, n)
	}
	got, _ = s.Count(ctx, Filter{Text: "%"})
	if got != n {
		t.Errorf("text %% should be literal")
	}
	for _, meta := range []string{"(.*", "[", `\`, "a|b", "$", "^SELECT"} {
		if got, err := s.Count(ctx, Filter{Text: meta}); err != nil || got != 0 {
			t.Errorf("text %q is not literal: %d rows, %v", meta, got, err)
		}
	}
	if got, _ := s.Count(ctx, Filter{Text: "select 7 from"}); got != 1 {
		t.Errorf("case-insensitive text = %d, want 1", got)
	}
	got, _ = s.Count(ctx, Filter{Text: "t_7 "})
	if got != 1 {
		t.Errorf("text t_7 = %d", got)
	}
	got, _ = s.Count(ctx, Filter{Users: []string{"x' OR '1'='1"}})
	if got != 0 {
		t.Errorf("injection attempt matched %d rows", got)
	}
	got, _ = s.Count(ctx, Filter{Since: t0.Add(10 * time.Second), Until: t0.Add(20 * time.Second)})
	if got != 10 {
		t.Errorf("time range = %d, want 10", got)
	}

	facets, err := s.Facets(ctx, Filter{}, AllDims(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if fv := facets[DimUser]; len(fv) != 2 || fv[0].Value != "app" || fv[1] != (FacetValue{"etl", 25}) {
		t.Errorf("user facet: %+v", fv)
	}
	if fv := facets[DimSource]; len(fv) != 1 || fv[0].Count != n {
		t.Errorf("source facet: %+v", fv)
	}
	hist, err := s.Histogram(ctx, Filter{}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range hist {
		total += b.Count
	}
	if len(hist) != 5 || total != n || !hist[0].Start.Equal(t0) {
		t.Errorf("histogram: %+v", hist)
	}
	sess, err := s.Sessions(ctx, Filter{}, 10)
	if err != nil || len(sess) != 3 {
		t.Fatalf("sessions: %+v %v", sess, err)
	}
	sev, err := s.SessionEvents(ctx, "orders-prod", sess[0].SessionID, 1000)
	if err != nil || len(sev) == 0 {
		t.Fatalf("session events: %v", err)
	}
	if _, err := s.AddNote(ctx, seen[0], "bookmark", "look", "me"); err != nil {
		t.Fatal(err)
	}
}

func TestObjectIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	tx, err := s.BeginObject(ctx, ObjectMeta{Source: "t", URI: "/x", Key: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: []model.Event{ev(1, "a", "READ", "SELECT", "s")}}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	n, _ := s.Count(ctx, Filter{})
	var objs int
	_ = s.DB().QueryRow("SELECT count(*) FROM objects").Scan(&objs)
	if n != 0 || objs != 0 {
		t.Fatalf("after rollback: %d events, %d objects", n, objs)
	}
	rec := writeObject(t, s, "/y", []model.Event{ev(2, "a", "READ", "SELECT", "s")})
	if rec.ObjectID != 1 {
		t.Errorf("object id after rollback = %d", rec.ObjectID)
	}
	tx, _ = s.BeginObject(ctx, ObjectMeta{Source: "t", URI: "/z", Key: "z"})
	_ = tx.Append(&model.Batch{Events: []model.Event{ev(3, "a", "READ", "SELECT", "s")}})
	tx.Quarantine(model.ReasonRead, "connection reset")
	rec, err = tx.Commit("")
	if err != nil || rec.Status != StatusQuarantined || rec.Events != 0 {
		t.Fatalf("quarantine: %+v %v", rec, err)
	}
	n, _ = s.Count(ctx, Filter{})
	if n != 1 {
		t.Errorf("quarantined object left rows: %d", n)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.duckdb")
	if err := os.WriteFile(junk, []byte("this is not a database, just text\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, junk, Options{})
	if !errors.Is(err, ErrNotCaseFile) || !strings.Contains(err.Error(), junk) {
		t.Errorf("junk file: %v", err)
	}
	_, err = Open(ctx, filepath.Join(dir, "missing.duckdb"), Options{ReadOnly: true})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("read-only missing: %v", err)
	}

	p := filepath.Join(dir, "new.duckdb")
	s, err := Open(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("INSERT INTO schema_version (version, name) VALUES (9999, 'future')"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_, err = Open(ctx, p, Options{})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "9999") {
		t.Errorf("future schema: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	s, p := openTemp(t)
	writeObject(t, s, "/a", []model.Event{ev(1, "a", "READ", "SELECT", "s")})
	_ = s.Close()
	ro, err := Open(ctx, p, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.BeginObject(ctx, ObjectMeta{URI: "x"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("BeginObject on read-only: %v", err)
	}
	var rows int
	err = ro.QueryReadOnly(ctx, "SELECT user_name, count(*) FROM audit_events GROUP BY 1", func(cols []string, row []any) error {
		if row != nil {
			rows++
		}
		return nil
	})
	if err != nil || rows != 1 {
		t.Fatalf("read query: %d rows, %v", rows, err)
	}
	for _, q := range []string{
		"INSERT INTO notes (text) VALUES ('x')",
		"DELETE FROM events",
		"UPDATE events SET user_name = 'x'",
		"DROP TABLE events",
		"CREATE TABLE x (a INT)",
		"DETACH casefile",
		"ATTACH '" + p + "' AS again",
		"COPY events TO '" + filepath.Join(t.TempDir(), "out.csv") + "'",
		"SET enable_external_access = true",
		"SELECT 1; DELETE FROM events",
		"SELECT 1; SELECT 2",
		"USE memory; DETACH casefile; ATTACH '" + p + "' AS c2; DELETE FROM c2.events",
	} {
		err := ro.QueryReadOnly(ctx, q, func([]string, []any) error { return nil })
		if err == nil {
			t.Errorf("%q was allowed: %v", q, err)
		}
	}
	var n int
	err = ro.QueryReadOnly(ctx, "SELECT count(*) FROM events", func(_ []string, row []any) error {
		if row != nil {
			n = int(row[0].(int64))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("events after refused writes = %d", n)
	}
	for _, q := range []string{"DESCRIBE audit_events", "EXPLAIN SELECT * FROM audit_events", "SUMMARIZE events", "SHOW TABLES"} {
		if err := ro.QueryReadOnly(ctx, q, func([]string, []any) error { return nil }); err != nil {
			t.Errorf("%q refused: %v", q, err)
		}
	}
}

// TestLockedByAnotherProcess opens the case file in a child process and checks
// the parent gets a message naming the file and the holder's PID.
func TestLockedByAnotherProcess(t *testing.T) {
	if p := os.Getenv("AUDITLENS_TEST_HOLD"); p != "" {
		s, err := Open(context.Background(), p, Options{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("READY")
		time.Sleep(20 * time.Second)
		_ = s.Close()
		os.Exit(0)
	}
	p := filepath.Join(t.TempDir(), "held.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=TestLockedByAnotherProcess$")
	cmd.Env = append(os.Environ(), "AUDITLENS_TEST_HOLD="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if !strings.Contains(string(buf[:n]), "READY") {
		t.Fatalf("child: %s", buf[:n])
	}
	_, err = Open(context.Background(), p, Options{})
	var le *LockError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("want LockError, got %v", err)
	}
	if le.PID != fmt.Sprint(cmd.Process.Pid) || !strings.Contains(err.Error(), p) {
		t.Errorf("lock message %q does not name pid %d and file", err, cmd.Process.Pid)
	}
}

func TestSetMemoryLimit(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if err := s.SetMemoryLimit(ctx, "256MB"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := s.DB().QueryRow("SELECT current_setting('memory_limit')").Scan(&v); err != nil || !strings.Contains(v, "MiB") && !strings.Contains(v, "MB") {
		t.Errorf("memory_limit = %q, %v", v, err)
	}
	for _, bad := range []string{"", "256", "1GB'; DROP TABLE events; --", "-1GB"} {
		if err := s.SetMemoryLimit(ctx, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestWindowedPagingMatchesFullSort pages through clustered, sparse data with
// a rare filter (so windows must grow) forwards and backwards, and compares
// with the unbounded order.
func TestWindowedPagingMatchesFullSort(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	var evs []model.Event
	for i := 0; i < 2000; i++ {
		e := ev(i, "app", "READ", "SELECT", "s")
		// Three bursts days apart, and same-second ties.
		e.LogTime = t0.Add(time.Duration(i/700)*72*time.Hour + time.Duration(i%700/3)*time.Second)
		if i%97 == 0 {
			e.UserName = "rare"
		}
		evs = append(evs, e)
	}
	writeObject(t, s, "/a", evs[:1000])
	writeObject(t, s, "/b", evs[1000:])
	for _, f := range []Filter{{}, {Users: []string{"rare"}}} {
		var want []int64
		rows, err := s.db.Query("SELECT event_id FROM events WHERE ("+func() string { w, _ := f.where(""); return w }()+") ORDER BY log_time, event_id", func() []any { _, a := f.where(""); return a }()...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			want = append(want, id)
		}
		rows.Close()
		var got []int64
		var cur *Cursor
		for {
			page, err := s.Page(ctx, f, cur, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got = append(got, r.EventID)
			}
			c := CursorOf(page[len(page)-1])
			cur = &c
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("filter %+v: forward pages differ from the full sort (%d vs %d rows)", f, len(got), len(want))
		}
		var back []int64
		cur = nil
		for {
			page, err := s.PageBefore(ctx, f, cur, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for i := len(page) - 1; i >= 0; i-- {
				back = append(back, page[i].EventID)
			}
			c := CursorOf(page[0])
			cur = &c
		}
		for i, j := 0, len(back)-1; i < j; i, j = i+1, j-1 {
			back[i], back[j] = back[j], back[i]
		}
		if fmt.Sprint(back) != fmt.Sprint(want) {
			t.Fatalf("filter %+v: backward pages differ from the full sort", f)
		}
	}
}

// TestFirstGuardedQueriesAtOnce: several first queries on a read-only case
// file all lock the session; none may fail because another locked it first.
func TestFirstGuardedQueriesAtOnce(t *testing.T) {
	ctx := context.Background()
	s, p := openTemp(t)
	writeObject(t, s, "/a", []model.Event{ev(1, "a", "READ", "SELECT", "s")})
	_ = s.Close()
	for round := 0; round < 5; round++ {
		ro, err := Open(ctx, p, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 6)
		for i := 0; i < 6; i++ {
			go func() {
				errs <- ro.QueryReadOnly(ctx, "SELECT count(*) FROM audit_events", func([]string, []any) error { return nil })
			}()
		}
		for i := 0; i < 6; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		_ = ro.Close()
	}
}
