package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// openBulk opens a temporary case file with the bulk writers' settings, under
// which large batches go through the parallel insert feed.
func openBulk(t *testing.T) *Store {
	t.Helper()
	s := openTuned(t)
	if !s.BulkWrites() {
		t.Fatal("the parallel insert feed is not on under the bulk settings")
	}
	return s
}

// openTuned opens a temporary case file under TuneForBulkWrites, put back
// when the test ends.
func openTuned(t *testing.T) *Store {
	t.Helper()
	s, _ := openTemp(t)
	restore, err := s.TuneForBulkWrites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
	return s
}

// withSegmentRows makes INSERTs end after n events for the test.
func withSegmentRows(t *testing.T, n int) {
	old := segmentRows
	segmentRows = n
	t.Cleanup(func() { segmentRows = old })
}

// The feed writes exactly what the appender writes, row for row, whatever
// the batch sizes (chunks fill across batches) and wherever INSERTs end.
func TestFeedMatchesAppender(t *testing.T) {
	withSegmentRows(t, 7000)
	evs := chunkTestEvents(12000)
	write := func(bulk bool) [][]any {
		s, _ := openTemp(t)
		if bulk {
			s = openBulk(t)
		}
		for obj := range 2 {
			tx, err := s.BeginObject(context.Background(), ObjectMeta{Source: "t", URI: fmt.Sprint("o", obj), Key: "k"})
			if err != nil {
				t.Fatal(err)
			}
			for lo := 0; lo < len(evs); lo += 2500 {
				if err := tx.Append(&model.Batch{Events: evs[lo:min(lo+2500, len(evs))]}); err != nil {
					t.Fatal(err)
				}
			}
			if bulk != (tx.useFeed && tx.events == nil) {
				t.Fatalf("bulk=%v: feed used %v", bulk, tx.useFeed && tx.events == nil)
			}
			if _, err := tx.Commit("x"); err != nil {
				t.Fatal(err)
			}
		}
		return dumpEvents(t, s)
	}
	feed, app := write(true), write(false)
	checkRefs(t, feed, evs)
	sameRows(t, "feed", feed, "appender", app, 2*len(evs))
}

// A group under the feed: large and small objects, raw records packed or
// not, heartbeats, server messages and rejects, a quarantined object, and
// INSERTs that end inside the group. Every row lands once, with its object.
func TestFeedGroup(t *testing.T) {
	withSegmentRows(t, 5000)
	ctx := context.Background()
	s := openBulk(t)
	g, err := s.BeginGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantRaw := map[int64]string{}
	var next int64 = 1
	sizes := []int{3000, 10, 4096, 0, 2500, 6000}
	var recs []ObjectRecord
	for o, n := range sizes {
		tx := g.Object(ObjectMeta{Source: "t", URI: fmt.Sprint("/g/", o), Key: fmt.Sprint(o)})
		evs := make([]model.Event, n)
		for i := range evs {
			evs[i] = ev(i, "alice", "WRITE", "INSERT", fmt.Sprintf("insert into t values (%d, %d)", o, i))
			evs[i].Raw = fmt.Sprintf("AUDIT: SESSION,%d,1,WRITE,INSERT,,,insert %d %d,<none>", i, o, i)
		}
		b := &model.Batch{Events: evs,
			Heartbeats: []model.Heartbeat{{LogTime: t0, Cluster: "c"}},
			Messages:   []model.ServerMessage{{LogTime: t0, Severity: "ERROR", Message: fmt.Sprint("m", o)}},
			Rejects:    []model.Reject{{Offset: int64(o), Reason: "bad-line", Detail: "d"}},
		}
		if o%2 == 1 {
			if err := PackRaw(b); err != nil {
				t.Fatal(err)
			}
		}
		if o != 4 { // quarantined below
			for i := range evs {
				if i%997 == 0 {
					wantRaw[next+int64(i)] = fmt.Sprintf("AUDIT: SESSION,%d,1,WRITE,INSERT,,,insert %d %d,<none>", i, o, i)
				}
			}
		}
		if err := tx.Append(b); err != nil {
			t.Fatal(err)
		}
		next += int64(n)
		if o == 4 {
			tx.Quarantine("unreadable", "test")
		}
		rec, err := tx.Commit("sha")
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	for o, rec := range recs {
		var events, hbs, msgs, rejs int64
		var status string
		if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events WHERE object_id = o.object_id),
			(SELECT count(*) FROM heartbeats WHERE object_id = o.object_id),
			(SELECT count(*) FROM server_messages WHERE object_id = o.object_id),
			(SELECT count(*) FROM rejects WHERE object_id = o.object_id), status
			FROM objects o WHERE object_id = ?`, rec.ObjectID).Scan(&events, &hbs, &msgs, &rejs, &status); err != nil {
			t.Fatalf("object %d: %v", o, err)
		}
		want := int64(sizes[o])
		wantOthers := int64(1)
		if o == 4 {
			want, wantOthers = 0, 0
		}
		if events != want || hbs != wantOthers || msgs != wantOthers || status != rec.Status || rejs < wantOthers {
			t.Errorf("object %d: %d events (want %d), %d heartbeats, %d messages, %d rejects, status %s/%s",
				o, events, want, hbs, msgs, rejs, status, rec.Status)
		}
	}
	for id, w := range wantRaw {
		if got, err := s.Raw(ctx, id); err != nil || got != w {
			t.Errorf("Raw(%d) = %q, %v; want %q", id, got, err, w)
		}
	}
	var dup int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) - count(DISTINCT event_id) FROM events`).Scan(&dup); err != nil || dup != 0 {
		t.Errorf("%d duplicated event ids (%v)", dup, err)
	}
}

// Rolling back an object whose INSERT runs leaves nothing, and the store
// writes the next object from the first event id again.
func TestFeedRollback(t *testing.T) {
	ctx := context.Background()
	s := openBulk(t)
	tx, err := s.BeginObject(ctx, ObjectMeta{Source: "t", URI: "o", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: chunkTestEvents(5000)}); err != nil {
		t.Fatal(err)
	}
	if tx.feed.run == nil {
		t.Fatal("no INSERT running")
	}
	tx.Rollback()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after rollback: %d events, %v", n, err)
	}
	writeObject(t, s, "o2", chunkTestEvents(3000))
	var minID, count int64
	if err := s.db.QueryRowContext(ctx, `SELECT min(event_id), count(*) FROM events`).Scan(&minID, &count); err != nil || minID != 1 || count != 3000 {
		t.Fatalf("after rollback and a new object: first id %d, %d events, %v", minID, count, err)
	}
}

// A cancelled context ends a running INSERT: Append reports it instead of
// waiting forever.
func TestFeedCancel(t *testing.T) {
	s := openBulk(t)
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := s.BeginObject(ctx, ObjectMeta{Source: "t", URI: "o", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: chunkTestEvents(3000)}); err != nil {
		t.Fatal(err)
	}
	cancel()
	done := make(chan error, 1)
	go func() { done <- tx.Append(&model.Batch{Events: chunkTestEvents(3000)}) }()
	select {
	case err := <-done:
		if err == nil {
			_, err = tx.Commit("x")
		}
		if err == nil {
			t.Error("append and commit after cancel: no error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("append after cancel hangs")
	}
	tx.Rollback()
}
