package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// rawSpool holds the raw blocks that wait for a running INSERT (txFeed) in a
// temporary file beside the case file, so that they cost the page cache and
// not the Go heap. Without it, the compressed raw records of a large object
// ended the feed's INSERT every 16 MB (maxPendingBytes), about every 300 k
// pgAudit records, and were a quarter of the Go heap while ingesting.
//
// One per Store; only the store's single writer (writeMu) uses it. The file
// is created private to the owner and, on Linux and macOS, removed as soon as
// it is open, so that no name is left behind whatever happens to the
// process (elsewhere it is removed when the store closes). Its bytes are
// compressed audit records in clear: an encrypted case file does not spool
// (Store.rawSpool).
type rawSpool struct {
	dir  string
	f    *os.File
	name string // set only where an open file could not be removed
	off  int64
	buf  []byte
}

// put appends data and returns where it is.
func (p *rawSpool) put(data []byte) (int64, error) {
	if p.f == nil {
		f, err := os.CreateTemp(p.dir, ".auditlens-spool-*")
		if err != nil {
			return 0, fmt.Errorf("spool raw records beside the case file: %w (the case file's folder must be writable)", err)
		}
		if os.Remove(f.Name()) != nil {
			p.name = f.Name() // removed by close
		}
		p.f = f
	}
	if _, err := p.f.WriteAt(data, p.off); err != nil {
		return 0, fmt.Errorf("spool raw records in %s: %w", filepath.Dir(p.f.Name()), err)
	}
	off := p.off
	p.off += int64(len(data))
	return off, nil
}

// get reads n bytes at off into a buffer that the next get reuses.
func (p *rawSpool) get(off int64, n int) ([]byte, error) {
	p.buf = slices.Grow(p.buf[:0], n)[:n]
	if _, err := p.f.ReadAt(p.buf, off); err != nil {
		return nil, fmt.Errorf("read spooled raw records: %w", err)
	}
	return p.buf, nil
}

// reset drops what was spooled (written, or abandoned) and gives its disk
// space back: a case file stays open for as long as the explorer runs.
func (p *rawSpool) reset() {
	if p.f != nil && p.off > 0 {
		_ = p.f.Truncate(0)
	}
	p.off = 0
	if cap(p.buf) > 4<<20 {
		p.buf = nil
	}
}

func (p *rawSpool) close() {
	if p.f == nil {
		return
	}
	_ = p.f.Close()
	if p.name != "" {
		_ = os.Remove(p.name)
	}
	p.f, p.name, p.off, p.buf = nil, "", 0, nil
}
