package pgaudit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFile is the corpus file fuzz seeds are drawn from.
func seedFile(t testing.TB, suffix string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "orders-prod", "postgresql.log.2026-11-25-11"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// corpusLines returns about n stderr lines spread over the corpus, with the
// awkward ones (quoted user, continuation, DETAIL, FATAL) always included.
func corpusLines(t testing.TB, n int) []string {
	t.Helper()
	lines := strings.Split(string(seedFile(t, "")), "\n")
	step := max(1, len(lines)/n)
	var out []string
	for i, l := range lines {
		if len(l) > 4096 {
			continue // keep seeds small so mutation stays quick
		}
		if i%step == 0 || strings.Contains(l, "Weird") || strings.HasPrefix(l, "\t") ||
			strings.Contains(l, "]:DETAIL:") || strings.Contains(l, "]:FATAL:") || strings.Contains(l, "\r") {
			out = append(out, l)
		}
	}
	return out
}

// corpusMessages returns about n distinct decoded messages starting with
// prefix (multi-line ones included), from the csvlog.
func corpusMessages(t testing.TB, prefix string, n int) []string {
	t.Helper()
	d := decodeBytes(t, "seed.csv", seedFile(t, ".csv"), Options{})
	var all []string
	for _, e := range d.events {
		if strings.HasPrefix(e.Raw, prefix) && len(e.Raw) <= 4096 {
			all = append(all, e.Raw)
		}
	}
	step := max(1, len(all)/n)
	var out []string
	for i, m := range all {
		if i%step == 0 || strings.ContainsAny(m, "\r\n\"") {
			out = append(out, m)
		}
	}
	return out
}

// corpusChunks cuts a corpus file into pieces of about size bytes on line
// boundaries, for reader seeds.
func corpusChunks(t testing.TB, data []byte, size int) [][]byte {
	t.Helper()
	var out [][]byte
	for len(data) > 0 && len(out) < 40 {
		k := min(size, len(data))
		if i := bytes.IndexByte(data[k:], '\n'); i >= 0 {
			k += i + 1
		} else {
			k = len(data)
		}
		if k <= 16<<10 {
			out = append(out, data[:k])
		}
		data = data[k:]
	}
	return out
}
