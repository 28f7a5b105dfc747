package local_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/ingest/source/sourcetest"
)

// writeTree creates objects as files under dir.
func writeTree(t *testing.T, dir string, objects map[string][]byte) {
	t.Helper()
	for key, data := range objects {
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newLocal(t *testing.T, objects map[string][]byte) source.Source {
	dir := t.TempDir()
	writeTree(t, dir, objects)
	src, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, newLocal)
}

func TestConformanceRetrying(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, objects map[string][]byte) source.Source {
		return source.Retrying(newLocal(t, objects), source.RetryPolicy{})
	})
}

func TestGlobAndFile(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{
		"db1/postgresql.log.2024-05-01-13":     []byte("a"),
		"db1/postgresql.log.2024-05-01-14":     []byte("b"),
		"db2/sub/postgresql.log.2024-05-01-13": []byte("c"),
		"db2/notes.txt":                        []byte("d"),
		"postgresql.log.2024-05-01-12":         []byte("e"),
		".hidden/postgresql.log.1":             []byte("f"),
	})
	for _, c := range []struct {
		arg  string
		want []string
	}{
		{filepath.Join(dir, "**", "postgresql.log.*"), []string{"db1/postgresql.log.2024-05-01-13", "db1/postgresql.log.2024-05-01-14", "db2/sub/postgresql.log.2024-05-01-13", "postgresql.log.2024-05-01-12"}},
		{filepath.Join(dir, "db*", "*13"), []string{"db1/postgresql.log.2024-05-01-13"}},
		{filepath.Join(dir, "db2"), []string{"notes.txt", "sub/postgresql.log.2024-05-01-13"}},
		{filepath.Join(dir, "db2", "notes.txt"), []string{"notes.txt"}},
	} {
		src, err := local.New(c.arg)
		if err != nil {
			t.Fatalf("New(%q): %v", c.arg, err)
		}
		objs := sourcetest.List(t, src, source.ListOptions{})
		if got := sourcetest.Keys(objs); !slices.Equal(got, c.want) {
			t.Errorf("New(%q) lists %q, want %q", c.arg, got, c.want)
		}
		for _, o := range objs {
			if !filepath.IsAbs(o.URI) || filepath.Join(src.Root(), filepath.FromSlash(o.Key)) != o.URI {
				t.Errorf("%s: URI %q is not the absolute path under %s", o.Key, o.URI, src.Root())
			}
		}
	}
	for _, bad := range []string{"-", "", filepath.Join(dir, "absent"), filepath.Join(dir, "[", "x")} {
		if _, err := local.New(bad); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		}
	}
}

// A log file that grows after listing is read as listed; one that shrinks is
// ErrChanged; a key cannot escape the root.
func TestOpenChecks(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"log": []byte("line 1\n"), "x": []byte("xx")})
	writeTree(t, filepath.Dir(dir), map[string][]byte{"outside": []byte("secret")})
	src, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	objs := sourcetest.List(t, src, source.ListOptions{})
	writeTree(t, dir, map[string][]byte{"log": []byte("line 1\nline 2\n"), "x": []byte("x")})
	got, err := sourcetest.ReadAll(t.Context(), src, objs[0])
	if err != nil || string(got) != "line 1\n" {
		t.Errorf("grown file read %q, %v; want the listed bytes", got, err)
	}
	if _, err := sourcetest.ReadAll(t.Context(), src, objs[1]); !errors.Is(err, source.ErrChanged) {
		t.Errorf("shrunk file: %v, want ErrChanged", err)
	}
	if _, err := sourcetest.ReadAll(t.Context(), src, source.Object{Key: "../outside"}); err == nil {
		t.Error("a key with .. read a file outside the root")
	}
	rc, err := src.OpenRange(t.Context(), objs[0], 2)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "ne 1\n" {
		t.Errorf("OpenRange at 2 read %q", b)
	}
}
