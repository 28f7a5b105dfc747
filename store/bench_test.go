package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/synth"
	"github.com/auditlens/auditlens/store/model"
)

// benchEvents is the size of the store benchmark (issue goal: 10 M).
func benchEvents() int64 {
	if v := os.Getenv("AUDITLENS_BENCH_EVENTS"); v != "" {
		var n int64
		fmt.Sscan(v, &n)
		return n
	}
	return 10_000_000
}

// BenchmarkStore appends a synthetic mix through the real writer and times the
// explorer's queries on the result, printing each figure against its goal.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	n := benchEvents()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		path := filepath.Join(dir, "bench.duckdb")
		if keep := os.Getenv("AUDITLENS_BENCH_KEEP"); keep != "" {
			path = keep
			_ = os.Remove(path)
		}
		st, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		gen := synth.New(n, synth.Options{Seed: 1})
		const perObject = 100_000
		batch := &model.Batch{Events: make([]model.Event, 0, 10_000)}
		start := time.Now()
		var ev model.Event
		written := int64(0)
		for obj := 0; written < n; obj++ {
			tx, err := st.BeginObject(ctx, ObjectMeta{Source: "bench", URI: fmt.Sprintf("s3://bench/obj-%d", obj), Key: fmt.Sprint(obj)})
			if err != nil {
				b.Fatal(err)
			}
			for k := 0; k < perObject && gen.Next(&ev); k++ {
				batch.Events = append(batch.Events, ev)
				written++
				if len(batch.Events) == cap(batch.Events) {
					if err := tx.Append(batch); err != nil {
						b.Fatal(err)
					}
					batch.Reset()
				}
			}
			if len(batch.Events) > 0 {
				if err := tx.Append(batch); err != nil {
					b.Fatal(err)
				}
				batch.Reset()
			}
			if _, err := tx.Commit("x"); err != nil {
				b.Fatal(err)
			}
		}
		appendSecs := time.Since(start).Seconds()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(path)
		st, err = Open(ctx, path, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		res := []benchResult{
			{"append", float64(n) / appendSecs, "events/s", 250_000, true},
			{"file size", float64(fi.Size()) / float64(n), "bytes/event", 60, false},
		}
		timeIt := func(name string, goal float64, f func() error) {
			// One warm-up, then the best of three: the figure is what a user sees
			// once DuckDB's buffer pool holds the file.
			if err := f(); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			best := time.Duration(1 << 62)
			for k := 0; k < 3; k++ {
				t0 := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				if d := time.Since(t0); d < best {
					best = d
				}
			}
			res = append(res, benchResult{name, float64(best.Microseconds()) / 1000, "ms", goal, false})
		}
		var first []Row
		timeIt("first page (100 rows)", 50, func() (err error) { first, err = st.Page(ctx, Filter{}, nil, 100); return })
		cur := CursorOf(first[len(first)-1])
		timeIt("next page (keyset)", 20, func() error { _, err := st.Page(ctx, Filter{}, &cur, 100); return err })
		uf := Filter{Users: []string{"etl_001"}, Classes: []string{"WRITE"}}
		timeIt("filtered page (user+class)", 100, func() error { _, err := st.Page(ctx, uf, nil, 100); return err })
		timeIt("facets (6 dimensions)", 500, func() error { _, err := st.Facets(ctx, Filter{}, AllDims(), 50); return err })
		timeIt("histogram (1 h buckets)", 200, func() error { _, err := st.Histogram(ctx, Filter{}, time.Hour); return err })
		timeIt("count", 500, func() error { _, err := st.Count(ctx, Filter{}); return err })
		timeIt("substring search", 1500, func() error { _, err := st.Page(ctx, Filter{Text: "tmp_42"}, nil, 100); return err })
		timeIt("substring search count", 1500, func() error { _, err := st.Count(ctx, Filter{Text: "tmp_42"}); return err })
		_ = st.Close()
		b.ReportMetric(res[0].value, "events/s")
		b.ReportMetric(res[1].value, "bytes/event")
		printBench(b, n, res)
	}
}

type benchResult struct {
	name   string
	value  float64
	unit   string
	goal   float64
	higher bool // higher is better
}

func printBench(b *testing.B, n int64, res []benchResult) {
	b.Logf("store benchmark on %d events:", n)
	b.Logf("%-28s %14s %14s  %s", "measure", "figure", "goal", "")
	for _, r := range res {
		ok := r.value <= r.goal
		if r.higher {
			ok = r.value >= r.goal
		}
		mark := "ok"
		if !ok {
			mark = "MISSED"
		}
		b.Logf("%-28s %10.1f %-3s %10.0f %-3s  %s", r.name, r.value, shortUnit(r.unit), r.goal, shortUnit(r.unit), mark)
	}
}

func shortUnit(u string) string {
	switch u {
	case "events/s":
		return "e/s"
	case "bytes/event":
		return "B/e"
	}
	return u
}
