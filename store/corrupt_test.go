package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

// TestCorruptedCaseFile damages a case file on disk and expects a clear error,
// not a crash, from opening or reading it.
func TestCorruptedCaseFile(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		offsets func(size int64) []int64
	}{
		{"header", func(int64) []int64 { return []int64{0} }},
		// DuckDB's file: three 4 KiB headers, then 256 KiB blocks each led by a checksum.
		{"every data block", func(size int64) []int64 {
			var out []int64
			for off := int64(3 * 4096); off < size; off += 256 << 10 {
				out = append(out, off+16)
			}
			return out
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "case.duckdb")
			s, err := Open(ctx, p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var evs []model.Event
			for i := 0; i < 5000; i++ {
				evs = append(evs, ev(i, "u", "READ", "SELECT", "SELECT a_fairly_long_statement_to_fill_blocks FROM t WHERE x = 42"))
			}
			writeObject(t, s, "/x", evs)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			junk := []byte(strings.Repeat("\xde\xad\xbe\xef", 16))
			for _, off := range tc.offsets(st.Size()) {
				if _, err := f.WriteAt(junk, off); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
			s2, err := Open(ctx, p, Options{ReadOnly: true})
			if err == nil {
				defer s2.Close()
				_, err = s2.Page(ctx, Filter{Text: "no such text"}, nil, 10)
			}
			if err == nil {
				t.Fatal("a damaged case file was read without an error")
			}
			if !strings.Contains(err.Error(), p) && !strings.Contains(strings.ToLower(err.Error()), "corrupt") &&
				!strings.Contains(strings.ToLower(err.Error()), "checksum") {
				t.Errorf("error does not say what is wrong: %v", err)
			}
			t.Logf("reported: %v", err)
		})
	}
}
