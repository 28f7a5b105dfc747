package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

func TestRawSpool(t *testing.T) {
	dir := t.TempDir()
	p := &rawSpool{dir: dir}
	defer p.close()
	blocks := [][]byte{[]byte("first block"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 5000), {}}
	var offs []int64
	for _, b := range blocks {
		off, err := p.put(b)
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
	}
	// Read back in another order than written.
	for _, i := range []int{1, 0, 2} {
		got, err := p.get(offs[i], len(blocks[i]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, blocks[i]) {
			t.Fatalf("block %d: got %d bytes %q…, want %d", i, len(got), got[:min(len(got), 16)], len(blocks[i]))
		}
	}
	// Nothing is left in the folder, even while the spool is open.
	if ents, _ := os.ReadDir(dir); len(ents) != 0 && runtime.GOOS != "windows" {
		t.Fatalf("spool left %v in the case file's folder", ents)
	}
	// After reset the file is empty and written from its start again.
	p.reset()
	st, err := p.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != 0 {
		t.Fatalf("after reset the spool holds %d bytes", st.Size())
	}
	off, err := p.put([]byte("again"))
	if err != nil || off != 0 {
		t.Fatalf("put after reset: offset %d, %v", off, err)
	}
	if got, _ := p.get(0, 5); string(got) != "again" {
		t.Fatalf("after reset got %q", got)
	}
}

func TestRawSpoolUnwritableFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	p := &rawSpool{dir: dir}
	_, err := p.put([]byte("x"))
	if err == nil || !strings.Contains(err.Error(), "case file's folder must be writable") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v, want one naming %s and the fix", err, dir)
	}
}

// Bulk writes make DuckDB's allocator give freed pages back sooner, and the
// restore function puts its own setting back.
func TestBulkWritesAllocatorDecay(t *testing.T) {
	before, beforeMuzzy, ok := allocatorDecay()
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatal("allocator decay reported outside Linux")
		}
		return
	}
	if !ok {
		t.Fatal("DuckDB's jemalloc does not answer: the bundled DuckDB should allocate through it on Linux")
	}
	s, _ := openTemp(t)
	restore, err := s.TuneForBulkWrites(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	bg := func() (on bool) {
		if err := s.db.QueryRow(`SELECT current_setting('allocator_background_threads')`).Scan(&on); err != nil {
			t.Fatal(err)
		}
		return on
	}
	d, m, _ := allocatorDecay()
	if d != bulkDirtyDecayMs || m != 0 || !bg() {
		t.Errorf("during bulk writes decay = %d/%d ms, background threads %v; want %d/0, true", d, m, bg(), bulkDirtyDecayMs)
	}
	restore()
	d, m, _ = allocatorDecay()
	if d != before || m != beforeMuzzy || bg() {
		t.Errorf("after restore decay = %d/%d ms, background threads %v; want %d/%d, false", d, m, bg(), before, beforeMuzzy)
	}
}

// A large object's raw records wait in the spool while the feed's INSERT
// runs, and come back exactly; an abandoned object leaves nothing behind for
// the next one. An encrypted case file keeps them in memory instead: nothing
// of it may reach the disk in clear.
func TestFeedSpoolsRawBlocks(t *testing.T) {
	t.Run("plain", func(t *testing.T) { feedSpoolsRawBlocks(t, false) })
	t.Run("encrypted", func(t *testing.T) { feedSpoolsRawBlocks(t, true) })
}

func feedSpoolsRawBlocks(t *testing.T, encrypted bool) {
	ctx := context.Background()
	var s *Store
	if encrypted {
		var err error
		s, err = Open(ctx, filepath.Join(t.TempDir(), "enc.duckdb"), Options{EncryptionKey: "k", allowUnsafeCrypto: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		restore, err := s.TuneForBulkWrites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(restore)
	} else {
		s = openTuned(t)
	}
	if !s.feedOn.Load() {
		t.Fatal("no feed under the bulk settings")
	}
	withSegmentRows(t, 5000) // INSERTs end, and spooled blocks are written, mid-object
	object := func(key string, n int, commit bool) []model.Event {
		tx, err := s.BeginObject(ctx, ObjectMeta{Source: "t", URI: "/spool/" + key, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		var all []model.Event
		for b := 0; b*feedMinBatch < n; b++ {
			evs := make([]model.Event, feedMinBatch)
			for i := range evs {
				k := b*feedMinBatch + i
				evs[i] = ev(k, "alice", "READ", "SELECT", "SELECT 1")
				evs[i].Raw = fmt.Sprintf("%s record %d %s", key, k, strings.Repeat("x", k%97))
			}
			all = append(all, evs...)
			batch := &model.Batch{Events: evs}
			if b%2 == 0 { // both ways raw records reach the writer
				if err := PackRaw(batch); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Append(batch); err != nil {
				t.Fatal(err)
			}
			if b == 1 && !encrypted && s.spool.off == 0 {
				t.Fatal("no raw block waits in the spool while the INSERT runs")
			}
		}
		if !commit {
			tx.Rollback()
			return nil
		}
		if _, err := tx.Commit("sha"); err != nil {
			t.Fatal(err)
		}
		return all
	}
	object("gone", 6*feedMinBatch, false)
	if encrypted {
		if s.spool.f != nil {
			t.Fatal("an encrypted case file's raw records went to the spool")
		}
	} else {
		// The abandoned blocks are dropped and their disk space given back.
		st, err := s.spool.f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if s.spool.off != 0 || st.Size() != 0 {
			t.Fatalf("after the rollback the spool holds %d bytes (offset %d)", st.Size(), s.spool.off)
		}
	}
	want := object("kept", 7*feedMinBatch, true)
	var first int64
	if err := s.db.QueryRowContext(ctx, "SELECT min(event_id) FROM events").Scan(&first); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if i%89 != 0 && i != len(want)-1 {
			continue // a sample: each lookup reads and unpacks a block
		}
		if got, err := s.Raw(ctx, first+int64(i)); err != nil || got != want[i].Raw {
			t.Fatalf("raw of event %d: %.40q, %v; want %.40q", i, got, err, want[i].Raw)
		}
	}
}
