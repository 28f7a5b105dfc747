// Package sourcetest is the conformance suite every source.Source passes:
// listing order and metadata, pagination, Open, missing objects, StartAfter,
// Firehose date narrowing and context cancellation. Implementations run it
// from their own tests with a constructor that stores the given objects.
//
// It imports only the source contract and the standard library.
package sourcetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest/source"
)

// NewSource returns a source whose root holds exactly objects (keys relative
// to the root, forward slashes).
type NewSource func(t *testing.T, objects map[string][]byte) source.Source

// Run runs the suite as subtests of t.
func Run(t *testing.T, newSource NewSource) {
	t.Run("ListOrderAndMetadata", func(t *testing.T) { testListOrder(t, newSource) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, newSource) })
	t.Run("OpenContents", func(t *testing.T) { testOpen(t, newSource) })
	t.Run("OpenMissing", func(t *testing.T) { testMissing(t, newSource) })
	t.Run("StartAfter", func(t *testing.T) { testStartAfter(t, newSource) })
	t.Run("CallbackError", func(t *testing.T) { testCallbackError(t, newSource) })
	t.Run("DateRange", func(t *testing.T) { testDateRange(t, newSource) })
	t.Run("DateRangeUnstructured", func(t *testing.T) { testDateRangeUnstructured(t, newSource) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, newSource) })
}

// List collects a whole listing.
func List(t *testing.T, src source.Source, opts source.ListOptions) []source.Object {
	t.Helper()
	var objs []source.Object
	if err := src.List(t.Context(), opts, func(o source.Object) error {
		objs = append(objs, o)
		return nil
	}); err != nil {
		t.Fatalf("List(%+v) on %s: %v", opts, src, err)
	}
	return objs
}

// Keys returns the keys of objs.
func Keys(objs []source.Object) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// ReadAll opens obj and reads it whole.
func ReadAll(ctx context.Context, src source.Source, obj source.Object) ([]byte, error) {
	rc, err := src.Open(ctx, obj)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func sortedKeys(m map[string][]byte) []string {
	return slices.Sorted(maps.Keys(m))
}

func checkKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: keys\n got %q\nwant %q", what, got, want)
	}
}

func testListOrder(t *testing.T, newSource NewSource) {
	objects := map[string][]byte{
		"a.txt":  []byte("dot sorts before slash"),
		"a/x":    []byte("x"),
		"a/y/z":  []byte("zz"),
		"a-b":    []byte("dash"),
		"B":      []byte("upper case first"),
		"b":      []byte("b"),
		"empty":  {},
		"sp ace": []byte("space"),
		"ü/ß":    []byte("utf-8 keys"),
	}
	before := time.Now().Add(-time.Hour)
	src := newSource(t, objects)
	objs := List(t, src, source.ListOptions{})
	checkKeys(t, "List", Keys(objs), sortedKeys(objects))
	uris := map[string]bool{}
	for _, o := range objs {
		if o.Size != int64(len(objects[o.Key])) {
			t.Errorf("%s: Size %d, want %d", o.Key, o.Size, len(objects[o.Key]))
		}
		if o.ETag == "" || strings.Contains(o.ETag, `"`) {
			t.Errorf("%s: ETag %q, want a bare non-empty fingerprint", o.Key, o.ETag)
		}
		if o.URI == "" || uris[o.URI] {
			t.Errorf("%s: URI %q empty or not unique", o.Key, o.URI)
		}
		uris[o.URI] = true
		if o.VersionID != "" {
			t.Errorf("%s: VersionID %q, want none from a listing", o.Key, o.VersionID)
		}
		if o.LastModified.Before(before) || o.LastModified.Location() != time.UTC {
			t.Errorf("%s: LastModified %v, want recent and in UTC", o.Key, o.LastModified)
		}
	}
	if src.String() == "" {
		t.Error("String() is empty")
	}
}

func testPagination(t *testing.T, newSource NewSource) {
	objects := map[string][]byte{}
	for i := range 1100 {
		objects[fmt.Sprintf("many/%05d.log", i)] = []byte{byte(i)}
	}
	objects["many.txt"] = []byte("before the folder")
	objects["zzz"] = []byte("after it")
	src := newSource(t, objects)
	checkKeys(t, "List of 1102", Keys(List(t, src, source.ListOptions{})), sortedKeys(objects))
}

func testOpen(t *testing.T, newSource NewSource) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16) // 300 KiB
	objects := map[string][]byte{
		"empty":              {},
		"one":                {'1'},
		"2024/05/01/13/big":  big,
		"binary":             {0, 1, 2, 0xff, '\n', '\r'},
		"nested/deep/er/obj": []byte("nested"),
	}
	src := newSource(t, objects)
	for _, o := range List(t, src, source.ListOptions{}) {
		got, err := ReadAll(t.Context(), src, o)
		if err != nil {
			t.Errorf("read %s: %v", o.Key, err)
			continue
		}
		if !bytes.Equal(got, objects[o.Key]) {
			t.Errorf("read %s: %d bytes differ from the %d stored", o.Key, len(got), len(objects[o.Key]))
		}
	}
}

func testMissing(t *testing.T, newSource NewSource) {
	src := newSource(t, map[string][]byte{"present": []byte("x")})
	for _, key := range []string{"absent", "present/below", "dir/absent"} {
		_, err := ReadAll(t.Context(), src, source.Object{Key: key})
		if !errors.Is(err, source.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", key, err)
		}
		if source.IsRetryable(err) {
			t.Errorf("Open(%q): IsRetryable(%v) = true", key, err)
		}
	}
}

func testStartAfter(t *testing.T, newSource NewSource) {
	objects := map[string][]byte{"a": nil, "b/1": nil, "b/2": nil, "b.x": nil, "c/d/e": nil, "f": nil}
	src := newSource(t, objects)
	for _, sa := range []string{"", "a", "b", "b.x", "b/1", "b/", "c", "c/d/e", "f", "g"} {
		var want []string
		for _, k := range sortedKeys(objects) {
			if k > sa {
				want = append(want, k)
			}
		}
		checkKeys(t, "StartAfter "+sa, Keys(List(t, src, source.ListOptions{StartAfter: sa})), want)
	}
}

func testCallbackError(t *testing.T, newSource NewSource) {
	src := newSource(t, map[string][]byte{"a": nil, "b": nil, "c": nil})
	stop := errors.New("stop here")
	calls := 0
	err := src.List(t.Context(), source.ListOptions{}, func(source.Object) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("List returned %v, want fn's error unwrapped", err)
	}
	if calls != 2 {
		t.Errorf("fn called %d times after returning an error at the 2nd", calls)
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func testDateRange(t *testing.T, newSource NewSource) {
	objects := map[string][]byte{
		"2023/12/31/23/g":     []byte("g"),
		"2024/04/30/23/f":     []byte("f"),
		"2024/05/01/12/a":     []byte("a"),
		"2024/05/01/13/b":     []byte("b"),
		"2024/05/01/13/c":     []byte("c"),
		"2024/05/01/13/sub/i": []byte("i"),
		"2024/05/01/14/d":     []byte("d"),
		"2024/05/01/h":        []byte("in the day folder"),
		"2024/05/02/00/e":     []byte("e"),
		"1899/01/01/00/x":     []byte("not a year of the layout"),
		"README":              []byte("outside the layout"),
		"processing-failed/x": []byte("outside the layout"),
	}
	src := newSource(t, objects)
	cases := []struct {
		name         string
		since, until string
		startAfter   string
		want         []string
	}{
		{"hour", "2024-05-01T13:00:00Z", "2024-05-01T14:00:00Z", "",
			[]string{"2024/05/01/13/b", "2024/05/01/13/c", "2024/05/01/13/sub/i", "2024/05/01/h"}},
		{"open end", "2024-05-01T13:30:00Z", "", "",
			[]string{"2024/05/01/13/b", "2024/05/01/13/c", "2024/05/01/13/sub/i", "2024/05/01/14/d", "2024/05/01/h", "2024/05/02/00/e"}},
		{"open start", "", "2024-05-01T00:00:00Z", "",
			[]string{"2023/12/31/23/g", "2024/04/30/23/f"}},
		{"across days", "2024-04-30T23:00:00Z", "2024-05-02T00:00:00Z", "",
			[]string{"2024/04/30/23/f", "2024/05/01/12/a", "2024/05/01/13/b", "2024/05/01/13/c", "2024/05/01/13/sub/i", "2024/05/01/14/d", "2024/05/01/h"}},
		{"other zone", "2024-05-01T15:00:00+02:00", "2024-05-01T16:00:00+02:00", "",
			[]string{"2024/05/01/13/b", "2024/05/01/13/c", "2024/05/01/13/sub/i", "2024/05/01/h"}},
		{"with start after", "2024-05-01T00:00:00Z", "2024-05-03T00:00:00Z", "2024/05/01/13/b",
			[]string{"2024/05/01/13/c", "2024/05/01/13/sub/i", "2024/05/01/14/d", "2024/05/01/h", "2024/05/02/00/e"}},
		{"nothing", "2030-01-01T00:00:00Z", "", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := source.ListOptions{StartAfter: c.startAfter}
			if c.since != "" {
				opts.Since = utc(c.since)
			}
			if c.until != "" {
				opts.Until = utc(c.until)
			}
			checkKeys(t, c.name, Keys(List(t, src, opts)), c.want)
		})
	}
	checkKeys(t, "no range", Keys(List(t, src, source.ListOptions{})), sortedKeys(objects))
}

func testDateRangeUnstructured(t *testing.T, newSource NewSource) {
	objects := map[string][]byte{
		"postgresql.log.2024-05-01-13":     []byte("x"),
		"db1/postgresql.log.2023-01-01-00": []byte("y"),
		"12/not-a-year":                    []byte("z"),
	}
	src := newSource(t, objects)
	opts := source.ListOptions{Since: utc("2024-05-01T13:00:00Z"), Until: utc("2024-05-01T14:00:00Z")}
	checkKeys(t, "no year folders", Keys(List(t, src, opts)), sortedKeys(objects))
}

func testCancel(t *testing.T, newSource NewSource) {
	objects := map[string][]byte{"big": bytes.Repeat([]byte("x"), 4<<20)}
	for i := range 30 {
		objects[fmt.Sprintf("k/%05d", i)] = nil
	}
	src := newSource(t, objects)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := src.List(ctx, source.ListOptions{}, func(source.Object) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := src.Open(ctx, source.Object{Key: "big", Size: 4 << 20}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled ctx = %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	calls := 0
	err := src.List(ctx, source.ListOptions{}, func(source.Object) error {
		calls++
		if calls == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("List cancelled by fn = %v after %d objects, want context.Canceled", err, calls)
	}
	if calls >= len(objects) {
		t.Errorf("List went on to the end (%d objects) after ctx was cancelled", calls)
	}

	var big source.Object
	for _, o := range List(t, src, source.ListOptions{}) {
		if o.Key == "big" {
			big = o
		}
	}
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	rc, err := src.Open(ctx, big)
	if err != nil {
		t.Fatalf("open big: %v", err)
	}
	defer rc.Close()
	buf := make([]byte, 1024)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatalf("read big: %v", err)
	}
	cancel()
	if n, err := io.Copy(io.Discard, rc); err == nil {
		t.Errorf("read of big went on to the end (%d more bytes) after ctx was cancelled", n)
	}
}
