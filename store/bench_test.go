package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/benchstat"

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
	if path := os.Getenv("AUDITLENS_BENCH_QUERY_ONLY"); path != "" {
		// Time the queries on a case file a previous run kept.
		for i := 0; i < b.N; i++ {
			benchQueries(b, ctx, path, n, nil)
		}
		return
	}
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
		benchstat.EnvSQL(b, st.DB())
		gen := synth.New(n, synth.Options{Seed: 1})
		perObject := 100_000
		if v, err := strconv.Atoi(os.Getenv("AUDITLENS_BENCH_PER_OBJECT")); err == nil && v > 0 {
			perObject = v
		}
		// Written the way sync and ingest write: bulk settings, and objects
		// committed in groups of at least groupRows events.
		restore, err := st.TuneForBulkWrites(ctx)
		if err != nil {
			b.Fatal(err)
		}
		groupRows := st.GroupRows()
		if v, err := strconv.Atoi(os.Getenv("AUDITLENS_BENCH_GROUP_ROWS")); err == nil && v > 0 {
			groupRows = v
		}
		// The generator runs on its own goroutine, ahead of the writer, the
		// way decoders run ahead of the writer in a sync.
		type genBatch struct {
			obj   int
			last  bool // the object's last batch
			final bool // the last batch of all
			b     *model.Batch
		}
		batches, free := make(chan genBatch, 2), make(chan *model.Batch, 4)
		for range 4 {
			free <- &model.Batch{Events: make([]model.Event, 0, 10_000)}
		}
		go func() {
			defer close(batches)
			var ev model.Event
			written := int64(0)
			for obj := 0; written < n; obj++ {
				k := 0
				for k < perObject && written < n {
					bt := <-free
					bt.Reset()
					for len(bt.Events) < cap(bt.Events) && k < perObject && gen.Next(&ev) {
						bt.Events = append(bt.Events, ev)
						k++
						written++
					}
					last := k == perObject || written >= n
					batches <- genBatch{obj: obj, last: last, final: written >= n, b: bt}
				}
			}
		}()
		runtime.GC()
		start := time.Now()
		cpu0 := benchstat.CPUTime()
		var inAppend, inCommit time.Duration
		var g *Group
		var tx *ObjectTx
		inGroup := 0
		for gb := range batches {
			if g == nil {
				if g, err = st.BeginGroup(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if tx == nil {
				tx = g.Object(ObjectMeta{Source: "bench", URI: fmt.Sprintf("s3://bench/obj-%d", gb.obj), Key: fmt.Sprint(gb.obj)})
			}
			t0 := time.Now()
			if err := tx.Append(gb.b); err != nil {
				b.Fatal(err)
			}
			inAppend += time.Since(t0)
			inGroup += len(gb.b.Events)
			free <- gb.b
			if !gb.last {
				continue
			}
			t1 := time.Now()
			if _, err := tx.Commit("x"); err != nil {
				b.Fatal(err)
			}
			tx = nil
			if inGroup >= groupRows || gb.final {
				if err := g.Commit(); err != nil {
					b.Fatal(err)
				}
				g, inGroup = nil, 0
			}
			inCommit += time.Since(t1)
		}
		restore()
		appendSecs := time.Since(start).Seconds()
		appendCPU := (benchstat.CPUTime() - cpu0).Seconds()
		t0, c0 := time.Now(), benchstat.CPUTime()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		closeSecs := time.Since(t0).Seconds()
		closeCPU := (benchstat.CPUTime() - c0).Seconds()
		b.Logf("append phase: %.2fs wall, %.2fs CPU with the generator (%.0f events per CPU-second); the writer was in Append %.2fs, in Commit %.2fs; Close (checkpoint) %.2fs (%.2fs CPU); peak RSS %.0f MB",
			appendSecs, appendCPU, float64(n)/appendCPU, inAppend.Seconds(), inCommit.Seconds(), closeSecs, closeCPU, benchstat.PeakRSSMB())
		b.ReportMetric(float64(n)/appendCPU, "events/cpu-s")
		b.ReportMetric(benchstat.PeakRSSMB(), "peakRSS-MB")
		fi, _ := os.Stat(path)
		if os.Getenv("AUDITLENS_BENCH_APPEND_ONLY") != "" {
			b.ReportMetric(float64(n)/(appendSecs+closeSecs), "events/s")
			b.ReportMetric(float64(fi.Size())/float64(n), "bytes/event")
			continue
		}
		benchQueries(b, ctx, path, n, []benchResult{
			// Up to the closing checkpoint: rows DuckDB left in the WAL are
			// only compressed into the file there.
			{"append", float64(n) / (appendSecs + closeSecs), "events/s", 250_000, true},
			{"file size", float64(fi.Size()) / float64(n), "bytes/event", 60, false},
		})
	}
}

// benchQueries times the explorer's queries on the case file at path and
// prints them after res.
func benchQueries(b *testing.B, ctx context.Context, path string, n int64, res []benchResult) {
	st, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	{
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
		// A text of letters only gets no substring prefilter (see Filter).
		timeIt("search count, letters only", 1500, func() error { _, err := st.Count(ctx, Filter{Text: "invoice"}); return err })
		_ = st.Close()
		if len(res) > 2 && res[0].name == "append" {
			b.ReportMetric(res[0].value, "events/s")
			b.ReportMetric(res[1].value, "bytes/event")
		}
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
