package local_test

import (
	"os"
	"path/filepath"
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
