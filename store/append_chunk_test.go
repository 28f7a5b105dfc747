package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// chunkTestEvents covers what the chunk writer must encode like AppendRow:
// NULLs, empty strings, inline (≤ 12 bytes) and pointer strings, invalid
// UTF-8, nil and empty params, strings larger than an arena, object refs
// made of a ref and a line, and enough rows to span several chunks.
func chunkTestEvents(n int) []model.Event {
	huge := strings.Repeat("select 'ü' || x from t; ", 3*arenaSize/24)
	evs := make([]model.Event, 0, n)
	for i := range n {
		e := model.Event{
			Source:    model.SourcePgAudit,
			LogTime:   t0.Add(time.Duration(i) * 1234567 * time.Nanosecond),
			ObjectRef: fmt.Sprintf("/logs/postgresql.log:%d", i),
		}
		switch i % 7 {
		case 0:
			e.Cluster, e.Instance, e.SessionID = "orders-prod", "orders-1", "6b06c999.1a2b"
			e.StatementID, e.SubstatementID, e.RowCount = model.Int64(int64(i)), model.Int64(1), model.Int64(-5)
			e.AuditType, e.Class, e.Command = "SESSION", "READ", "SELECT"
			e.Statement = "select * from orders where id = $1"
			e.Params = []string{"42", "", "a,b", "twelve bytes", "thirteen byte"}
			e.RemotePort, e.PID, e.ExitCode = model.Int32(5432), model.Int32(int32(i)), model.Int32(-1)
			e.UserName, e.DatabaseName, e.ApplicationName, e.RemoteHost = "app", "orders", "psql", "10.0.0.1"
		case 1:
			e.Params = []string{}
			e.Statement = "bad \xff\xfe utf8 in a statement long enough"
			e.ObjectRef = "/logs/\xffbad:1"
			e.Raw = "AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>"
		case 2:
			e.Params = []string{"bad \xc3", strings.Repeat("p", 100)}
			e.Internal = true
			e.UserName = "rdsadmin"
		case 3:
			e.Statement = strings.Repeat("s", 13+i%50)
			if i == 3 || i == 2999 {
				e.Statement = huge
			}
			e.ErrorMessage = "x"
		case 4:
			e.Source = ""
			e.Class = "123456789012" // exactly inline
			e.Command = "1234567890123"
		case 5:
			e.LogTime = time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.FixedZone("x", 3600))
			e.Params = make([]string, 300)
		case 6:
			// As the pgAudit decoder sends them: the object's ref and the line.
			e.ObjectRef, e.RefLine = "/logs/postgresql.log", int64(i)+1
		}
		evs = append(evs, e)
	}
	return evs
}

func dumpEvents(t *testing.T, s *Store) [][]any {
	t.Helper()
	rows, err := s.DB().Query(`SELECT * FROM events ORDER BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestChunkAppenderMatchesAppendRow(t *testing.T) {
	if !connHandleOK {
		t.Skip("chunk appender unavailable with this duckdb-go version")
	}
	evs := chunkTestEvents(5000)
	write := func(slow bool) [][]any {
		s, _ := openTemp(t)
		for obj := range 2 {
			tx, err := s.BeginObject(context.Background(), ObjectMeta{Source: "t", URI: fmt.Sprint("o", obj), Key: "k"})
			if err != nil {
				t.Fatal(err)
			}
			tx.slow = slow
			// Uneven batches, so chunks fill across Append calls.
			for lo := 0; lo < len(evs); lo += 777 {
				if err := tx.Append(&model.Batch{Events: evs[lo:min(lo+777, len(evs))]}); err != nil {
					t.Fatal(err)
				}
			}
			if !slow && tx.events == nil {
				t.Fatal("chunk appender was not used")
			}
			if _, err := tx.Commit("x"); err != nil {
				t.Fatal(err)
			}
		}
		return dumpEvents(t, s)
	}
	chunk, slow := write(false), write(true)
	checkRefs(t, chunk, evs)
	checkRefs(t, slow, evs)
	sameRows(t, "chunk", chunk, "AppendRow", slow, 2*len(evs))
}

// checkRefs checks the object_ref column of rows (objects of evs, one after
// the other, as dumpEvents returns them) against the events' refs.
func checkRefs(t *testing.T, rows [][]any, evs []model.Event) {
	t.Helper()
	const col = colObjectRef // the chunk writer's columns are the table's
	lines := 0
	for i, r := range rows {
		e := &evs[i%len(evs)]
		want := strings.ToValidUTF8(e.Ref(), "\uFFFD")
		if got, _ := r[col].(string); got != want {
			t.Fatalf("row %d: object_ref %q, want %q", i, got, want)
		}
		if e.RefLine > 0 {
			lines++
		}
	}
	if lines == 0 {
		t.Fatal("no event with a ref line was checked")
	}
}

// sameRows fails t unless both dumps hold want rows, equal column by column.
func sameRows(t *testing.T, aName string, a [][]any, bName string, b [][]any, want int) {
	t.Helper()
	if len(a) != want || len(b) != want {
		t.Fatalf("rows: %s %d, %s %d, want %d", aName, len(a), bName, len(b), want)
	}
	for i := range a {
		if reflect.DeepEqual(a[i], b[i]) {
			continue
		}
		for c := range a[i] {
			if !reflect.DeepEqual(a[i][c], b[i][c]) {
				t.Fatalf("row %d column %d: %s %.80q, %s %.80q", i, c, aName, fmt.Sprint(a[i][c]), bName, fmt.Sprint(b[i][c]))
			}
		}
	}
}

func TestChunkAppenderRollbackLeavesNothing(t *testing.T) {
	s, _ := openTemp(t)
	tx, err := s.BeginObject(context.Background(), ObjectMeta{Source: "t", URI: "o", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: chunkTestEvents(3000)}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after rollback: %d events, %v", n, err)
	}
	writeObject(t, s, "o2", chunkTestEvents(10))
	var minID int64
	if err := s.DB().QueryRow(`SELECT min(event_id) FROM events`).Scan(&minID); err != nil || minID != 1 {
		t.Fatalf("first id after rollback: %d, %v", minID, err)
	}
}
