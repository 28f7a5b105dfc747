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
		cpu := (benchstat.CPUTime() - cpu0).Seconds()
		if os.Getenv("AUDITLENS_BENCH_RSS_TRACE") != "" {
			report, _ := memoryReport(ctx, st)
			b.Logf("after the first sync: %s", report)
		}
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
