package ingest

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
	"github.com/auditlens/auditlens/internal/jemstat"

	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/s3/s3test"
	"github.com/auditlens/auditlens/store"
)

// BenchmarkSyncSmallObjects puts many small pgAudit log objects (cut from the
// corpus at record boundaries) in the fake S3 and times a first sync and a
// re-sync with nothing new. AUDITLENS_BENCH_OBJECTS sets the count (default 10,000).
func BenchmarkSyncSmallObjects(b *testing.B) {
	ctx := context.Background()
	n := 10_000
	if v := os.Getenv("AUDITLENS_BENCH_OBJECTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	parts := b.TempDir()
	pieces := splitLogTB(b, parts, 3)
	srv := s3test.Start(b, "bench")
	for i := 0; i < n; i++ {
		data, err := os.ReadFile(filepath.Join(parts, fmt.Sprintf("part-%04d.log", i%pieces)))
		if err != nil {
			b.Fatal(err)
		}
		key := fmt.Sprintf("logs/2026/11/25/%02d/postgresql.log.%06d", i%24, i)
		if err := srv.Put(key, data); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < b.N; i++ {
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "sync.duckdb"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		s3s, err := srv.Source(ctx, "logs/")
		if err != nil {
			b.Fatal(err)
		}
		jobs := []Job{{Name: "logs", Source: source.Retrying(s3s, source.RetryPolicy{}), Decoder: PgAudit{Options: pgaudit.Options{Cluster: "bench"}}}}
		restore, err := st.TuneForBulkWrites(ctx)
		if err != nil {
			b.Fatal(err)
		}
		// The peak of this sync alone, not of the set-up or of another
		// benchmark run before it in the same process.
		runtime.GC()
		benchstat.ResetPeakRSS()
		start := time.Now()
		cpu0 := benchstat.CPUTime()
		sum, err := Run(ctx, st, jobs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(start).Seconds()
		// AUDITLENS_BENCH_RSS_TRACE: where the memory is once it is done.
		if os.Getenv("AUDITLENS_BENCH_RSS_TRACE") != "" {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			js, _ := jemstat.Read()
			rs := benchstat.ResidentSplit()
			var tags string
			_ = st.DB().QueryRowContext(ctx, `SELECT string_agg(tag || '=' || (memory_usage_bytes >> 20) || '/' || (temporary_storage_bytes >> 20), ' ') FROM duckdb_memory() WHERE memory_usage_bytes + temporary_storage_bytes > 1 << 20`).Scan(&tags)
			b.Logf("after the first sync: peak RSS %.0f MB, resident anon %.0f + files %.0f MB; Go heap in use %d MB, sys-released %d MB; jemalloc allocated %d resident %d dirty %d MB; DuckDB %s",
				benchstat.PeakRSSMB(), rs.Anon, rs.File, ms.HeapInuse>>20, (ms.Sys-ms.HeapReleased)>>20, js.Allocated>>20, js.Resident>>20, js.Dirty>>20, tags)
		}
		cpu := (benchstat.CPUTime() - cpu0).Seconds()
		if got := sum.Totals().New; got != int64(n) {
			b.Fatalf("first sync wrote %d objects, want %d", got, n)
		}
		start = time.Now()
		sum, err = Run(ctx, st, jobs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		again := time.Since(start).Seconds()
		if sum.Totals().New != 0 || sum.Totals().Skipped != int64(n) {
			b.Fatalf("re-sync: %+v", sum.Totals())
		}
		restore()
		_ = st.Close()
		b.ReportMetric(float64(n)/first, "objects/s")
		b.ReportMetric(again, "resync-s")
		b.ReportMetric(benchstat.PeakRSSMB(), "peakRSS-MB")
		b.Logf("%d small objects: first sync %.1fs = %.0f objects/s (goal ≥ 200), %.1f CPU-s; re-sync with nothing new %.2fs (goal ≤ 3 s); peak RSS %.0f MB",
			n, first, float64(n)/first, cpu, again, benchstat.PeakRSSMB())
	}
}
