package export

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// rowWriter turns rows into one export format.
type rowWriter interface {
	header(cols []column) error
	row(vals []any) error
	finish() error
}

// hashingFile writes through a buffer to a file while hashing what it writes.
type hashingFile struct {
	f   *os.File
	buf *bufio.Writer
	h   hash.Hash
	n   int64
}

func newHashingFile(f *os.File) *hashingFile {
	hf := &hashingFile{f: f, h: sha256.New()}
	hf.buf = bufio.NewWriterSize(io.MultiWriter(f, hf.h), 1<<20)
	return hf
}

func (hf *hashingFile) Write(p []byte) (int, error) {
	n, err := hf.buf.Write(p)
	hf.n += int64(n)
	return n, err
}

func (hf *hashingFile) WriteString(s string) (int, error) {
	n, err := hf.buf.WriteString(s)
	hf.n += int64(n)
	return n, err
}

func (hf *hashingFile) sum() string { return hex.EncodeToString(hf.h.Sum(nil)) }

// writeSingle writes one export file: a private temp file in the target's
// folder, synced, then renamed over the target. Any failure removes it.
func writeSingle(ctx context.Context, t *table, req Request, m *Manifest, progress Progress) (fe FileEntry, err error) {
	dir, base := filepath.Dir(req.Out), filepath.Base(req.Out)
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fe, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	fe.Path = base
	if req.Format == Parquet {
		// DuckDB writes the file itself; the handle only reserved the name.
		if err = f.Close(); err != nil {
			return fe, fmt.Errorf("export to %s: %w", req.Out, err)
		}
		if err = copyParquet(ctx, t, tmp, nil); err != nil {
			return fe, fmt.Errorf("export to %s: %w", req.Out, err)
		}
		if err = os.Chmod(tmp, 0o600); err != nil {
			return fe, fmt.Errorf("export to %s: %w", req.Out, err)
		}
		if fe.SHA256, fe.Size, err = syncAndHash(tmp); err != nil {
			return fe, fmt.Errorf("export to %s: %w", req.Out, err)
		}
	} else {
		hf := newHashingFile(f)
		var w rowWriter
		switch req.Format {
		case CSV:
			w = &csvWriter{w: hf, bom: req.BOM, neutral: req.neutralize(), alt: &m.Alterations}
		case JSONL:
			w = &jsonlWriter{w: hf}
		case XLSX:
			xw := newXLSXWriter(hf, dir, req.neutralize(), &m.Alterations)
			// Removes excelize's spill files on every path, not only after finish.
			defer xw.close() //nolint:errcheck // a no-op after finish
			w = xw
		}
		cw, isCSV := w.(*csvWriter)
		var q string
		var ok bool
		switch req.Format {
		case CSV:
			q, ok = csvLineQuery(t, req)
		case JSONL:
			q, ok = jsonlLineQuery(t)
		}
		switch {
		case ok && isCSV:
			err = writeCSVLines(ctx, t, q, cw, hf, m.Rows, progress)
		case ok:
			err = writeJSONLLines(ctx, t, q, hf, m.Rows, progress)
		default:
			err = writeRows(ctx, t, w, m.Rows, progress)
		}
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fe, fmt.Errorf("export to %s: %w", req.Out, err)
		}
		if err = hf.buf.Flush(); err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fe, fmt.Errorf("export to %s: %w", req.Out, err)
		}
		fe.SHA256, fe.Size = hf.sum(), hf.n
	}
	if err = ctx.Err(); err != nil {
		return fe, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	if err = os.Rename(tmp, req.Out); err != nil {
		return fe, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	syncDir(dir)
	return fe, nil
}

func writeRows(ctx context.Context, t *table, w rowWriter, total int64, progress Progress) error {
	if err := w.header(t.cols); err != nil {
		return err
	}
	var n int64
	err := t.scan(ctx, func(row []any) error {
		if err := w.row(row); err != nil {
			return err
		}
		n++
		if n%8192 == 0 {
			progress(n, total)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.finish()
}

// copyParquet has DuckDB write the snapshot as zstd Parquet to path (a file,
// or a directory when partitioned).
func copyParquet(ctx context.Context, t *table, path string, partitionBy []string) error {
	extra := ""
	opts := "FORMAT parquet, COMPRESSION zstd"
	if len(partitionBy) > 0 {
		var keys []string
		for _, p := range partitionBy {
			switch p {
			case "cluster":
				if _, ok := hasColumn(t.cols, "cluster"); !ok {
					return usage("cannot partition by cluster: the result has no cluster column")
				}
				keys = append(keys, "cluster")
			case "date":
				c, ok := hasColumn(t.cols, "log_time")
				if !ok || (c.Type != "TIMESTAMPTZ" && c.Type != "TIMESTAMP") {
					return usage("cannot partition by date: the result has no log_time timestamp column")
				}
				if _, clash := hasColumn(t.cols, "date"); clash {
					return usage("cannot partition by date: the result already has a date column")
				}
				extra = ", " + utcDate + " AS date"
				keys = append(keys, "date")
			}
		}
		opts += ", PARTITION_BY (" + strings.Join(keys, ", ") + ")"
	}
	q := "COPY (" + t.rowsQuery(extra) + ") TO " + quoteLiteral(path) + " (" + opts + ")"
	if _, err := t.conn.ExecContext(ctx, q, t.args...); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}

// writePartitioned writes a hive-partitioned Parquet set into a private temp
// directory next to req.Out, then renames it to req.Out.
func writePartitioned(ctx context.Context, t *table, req Request) (files []FileEntry, err error) {
	dir, base := filepath.Dir(req.Out), filepath.Base(req.Out)
	tmp, err := os.MkdirTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err = copyParquet(ctx, t, tmp, req.PartitionBy); err != nil {
		return nil, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	err = filepath.WalkDir(tmp, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil {
			return werr
		}
		if d.IsDir() {
			return os.Chmod(p, 0o700)
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return err
		}
		sum, size, err := syncAndHash(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		files = append(files, FileEntry{Path: base + "/" + filepath.ToSlash(rel), Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	if err = ctx.Err(); err != nil {
		return nil, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	if err = os.Rename(tmp, req.Out); err != nil {
		return nil, fmt.Errorf("export to %s: %w", req.Out, err)
	}
	syncDir(dir)
	slices.SortFunc(files, func(a, b FileEntry) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// syncAndHash flushes a file to disk and returns its SHA-256 and size.
func syncAndHash(path string) (string, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return "", 0, fmt.Errorf("sync %s: %w", path, err)
	}
	return hashReader(f, path)
}

func hashReader(r io.Reader, path string) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// syncDir makes a rename durable; not every file system supports it, so
// errors are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
