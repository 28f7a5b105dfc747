package store

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
	// After reset the file is written from its start again.
	p.reset()
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
