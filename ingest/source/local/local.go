// Package local is the Source for folders and globs on the local file system:
// "./das/", "/logs/**/postgresql.log.*" or one file.
//
// It owns walking, glob matching and the local change fingerprint; it must not
// import the store, the decoders or any AWS package. Standard input ("-") is
// not a source: the ingest command reads it itself.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/internal/datepath"
)

var (
	_ source.Source      = (*Local)(nil)
	_ source.RangeOpener = (*Local)(nil)
)

// Local lists the regular files under a root folder, optionally narrowed by a
// glob.
//
// Keys are paths relative to the root with forward slashes. For a glob the
// root is the longest leading part without glob characters ("/logs" for
// "/logs/**/postgresql.log.*"); "**" matches any number of folders, and the
// other segments follow path.Match. Names starting with "." (.DS_Store, editor
// files) are skipped, symbolic links to folders are not followed, and a link
// to a file is listed only if it stays inside the root.
//
// The ETag is "<size>-<mtime ns>" in hex: cheap, and it changes whenever the
// file is rewritten or appended to. It is not a content hash; the pipeline
// computes sha256 while it reads.
type Local struct {
	arg     string // as given, for messages
	root    string // absolute, cleaned
	pattern string // glob relative to root, "" for every file
}

// New returns the source for a folder, a glob or a single file. The root must
// exist.
func New(p string) (*Local, error) {
	if p == "" || p == "-" {
		return nil, fmt.Errorf("local source %q: standard input is not a source (use `auditlens ingest -`)", p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("local source %s: %w", p, err)
	}
	l := &Local{arg: p}
	slashed := filepath.ToSlash(abs)
	if i := strings.IndexAny(slashed, "*?["); i >= 0 {
		cut := strings.LastIndex(slashed[:i], "/")
		l.root = filepath.FromSlash(slashed[:cut])
		if cut == 0 {
			l.root = string(filepath.Separator)
		}
		l.pattern = slashed[cut+1:]
		if err := validatePattern(l.pattern); err != nil {
			return nil, fmt.Errorf("local source %s: %w", p, err)
		}
	} else {
		l.root = abs
	}
	fi, err := os.Stat(l.root)
	if err != nil {
		return nil, fmt.Errorf("local source %s: %w", p, err)
	}
	switch {
	case fi.IsDir():
	case fi.Mode().IsRegular() && l.pattern == "":
		// One file: its folder is the root and its name the only pattern,
		// escaped so that the name is matched literally.
		l.root, l.pattern = filepath.Dir(abs), escapeGlob(filepath.Base(abs))
	default:
		return nil, fmt.Errorf("local source %s: %s is not a folder or a regular file", p, l.root)
	}
	return l, nil
}

// String returns the source as given by the user.
func (l *Local) String() string { return l.arg }

// Root returns the absolute folder keys are relative to.
func (l *Local) Root() string { return l.root }

// List walks the root in lexical key order. With Since/Until set and a
// date-structured root (a year folder directly under it), folders whose date
// span is outside the range are not entered.
func (l *Local) List(ctx context.Context, opts source.ListOptions, fn func(source.Object) error) error {
	root, err := os.OpenRoot(l.root)
	if err != nil {
		return fmt.Errorf("list %s: %w", l.arg, err)
	}
	defer root.Close()
	w := walker{ctx: ctx, l: l, fsys: root.FS(), opts: opts, rng: datepath.Range{Since: opts.Since, Until: opts.Until}.UTC(), fn: fn}
	if w.rng.Set() {
		if w.dated, err = w.hasYearDir(); err != nil {
			return fmt.Errorf("list %s: %w", l.arg, err)
		}
	}
	return w.dir("")
}

type walker struct {
	ctx   context.Context
	l     *Local
	fsys  fs.FS
	opts  source.ListOptions
	rng   datepath.Range
	dated bool // root is date-structured and a range is set
	fn    func(source.Object) error
}

func (w *walker) hasYearDir() (bool, error) {
	ents, err := fs.ReadDir(w.fsys, ".")
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		if e.IsDir() && datepath.Segment(0, nil, e.Name()) {
			return true, nil
		}
	}
	return false, nil
}

// dir lists the folder rel ("" for the root). Entries are visited in the order
// of their keys: a folder sorts as its name plus "/", so "a.txt" comes before
// "a/x" as it does in S3.
func (w *walker) dir(rel string) error {
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", w.l.arg, err)
	}
	name := rel
	if name == "" {
		name = "."
	}
	ents, err := fs.ReadDir(w.fsys, name)
	if err != nil {
		return fmt.Errorf("list %s: %w", w.l.arg, err)
	}
	type entry struct {
		key   string
		isDir bool
		ent   fs.DirEntry
	}
	list := make([]entry, 0, len(ents))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		key := path.Join(rel, e.Name())
		switch {
		case e.IsDir():
			list = append(list, entry{key + "/", true, e})
		case e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0:
			list = append(list, entry{key, false, e})
		}
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range list {
		if e.isDir {
			if w.skipDir(e.key) {
				continue
			}
			if err := w.dir(strings.TrimSuffix(e.key, "/")); err != nil {
				return err
			}
			continue
		}
		if err := w.file(e.key, e.ent); err != nil {
			return err
		}
	}
	return nil
}

// skipDir reports whether no key under the folder prefix dir ("a/b/") can be
// listed.
func (w *walker) skipDir(dir string) bool {
	if sa := w.opts.StartAfter; sa != "" && dir < sa && !strings.HasPrefix(sa, dir) {
		return true
	}
	if w.l.pattern != "" && !matchPrefix(w.l.pattern, strings.TrimSuffix(dir, "/")) {
		return true
	}
	if !w.dated {
		return false
	}
	segs := datepath.Prefix(dir + "x")
	if len(segs) == 0 {
		return true // outside the date layout of a date-structured root
	}
	if len(segs) < strings.Count(dir, "/") {
		return false // below a date folder that was already found in range
	}
	start, end, _ := datepath.Span(segs)
	return !w.rng.Overlaps(start, end)
}

func (w *walker) file(key string, e fs.DirEntry) error {
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", w.l.arg, err)
	}
	if key <= w.opts.StartAfter {
		return nil
	}
	if w.l.pattern != "" && !match(w.l.pattern, key) {
		return nil
	}
	if w.dated && !datepath.KeyIn(key, w.rng) {
		return nil
	}
	var fi fs.FileInfo
	var err error
	if e.Type()&fs.ModeSymlink != 0 {
		// Stat through the root follows the link only if it stays inside.
		if fi, err = fs.Stat(w.fsys, key); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
	} else if fi, err = e.Info(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while listing
		}
		return fmt.Errorf("list %s: %w", w.l.arg, err)
	}
	return w.fn(w.l.object(key, fi))
}

func (l *Local) object(key string, fi fs.FileInfo) source.Object {
	return source.Object{
		Key:          key,
		URI:          filepath.Join(l.root, filepath.FromSlash(key)),
		Size:         fi.Size(),
		ETag:         etag(fi),
		LastModified: fi.ModTime().UTC(),
	}
}

func etag(fi fs.FileInfo) string {
	return fmt.Sprintf("%x-%x", fi.Size(), fi.ModTime().UnixNano())
}

// Open reads the file named by obj.Key. When obj was listed (ETag set), it
// reads exactly the listed obj.Size bytes: a log file that has grown since is
// read as it was listed, and one that has shrunk returns ErrChanged.
func (l *Local) Open(ctx context.Context, obj source.Object) (io.ReadCloser, error) {
	return l.OpenRange(ctx, obj, 0)
}

// OpenRange is Open from a byte offset.
func (l *Local) OpenRange(ctx context.Context, obj source.Object, offset int64) (io.ReadCloser, error) {
	name := filepath.Join(l.root, filepath.FromSlash(obj.Key))
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	root, err := os.OpenRoot(l.root)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(obj.Key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, fmt.Errorf("open %s: %w: %w", name, source.ErrNotFound, err)
		}
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: not a regular file", name)
	}
	var r io.Reader = f
	if obj.ETag != "" {
		if fi.Size() < obj.Size {
			f.Close()
			return nil, fmt.Errorf("open %s: size %d, listed %d: %w", name, fi.Size(), obj.Size, source.ErrChanged)
		}
		r = io.LimitReader(f, obj.Size-offset)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("open %s at %d: %w", name, offset, err)
		}
	}
	return source.ContextReader(ctx, r, f), nil
}
