package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/benchstat"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/store"
)

// benchLogBytes is the size of the generated log (AUDITLENS_BENCH_LOG_MB, default 256).
func benchLogBytes() int64 {
	mb := int64(256)
	if v := os.Getenv("AUDITLENS_BENCH_LOG_MB"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			mb = n
		}
	}
	return mb << 20
}

// repeatFile writes src over and over into dst until it holds size bytes.
func repeatFile(b *testing.B, src, dst string, size int64) int64 {
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var n int64
	for n < size {
		w, err := f.Write(data)
		if err != nil {
			b.Fatal(err)
		}
		n += int64(w)
	}
	// On disk before anything is timed: otherwise the kernel writes the
	// generated file back while the pipeline runs, and the benchmark times
	// its own set-up.
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	return n
}

// memoryReport says where the process's memory is now (for
// AUDITLENS_BENCH_RSS_TRACE): peak and resident RSS, anonymous and
// file-backed; the Go heap; DuckDB's allocator; and DuckDB's own accounting
// by tag. It returns the Go heap in use too.
func memoryReport(ctx context.Context, st *store.Store) (report string, heapInUse uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rs := benchstat.ResidentSplit()
	report = fmt.Sprintf("peak %.0f MB, resident anon %.0f + files %.0f MB; Go heap in use %d MB, sys %d MB, sys-released %d MB",
		benchstat.PeakRSSMB(), rs.Anon, rs.File, ms.HeapInuse>>20, ms.Sys>>20, (ms.Sys-ms.HeapReleased)>>20)
	if js, ok := store.AllocatorStats(); ok {
		report += fmt.Sprintf("; jemalloc MB: allocated %d active %d resident %d dirty %d muzzy %d",
			js.Allocated>>20, js.Active>>20, js.Resident>>20, js.Dirty>>20, js.Muzzy>>20)
	}
	var tags string
	_ = st.DB().QueryRowContext(ctx, `SELECT string_agg(tag || '=' || (memory_usage_bytes >> 20) || '/' || (temporary_storage_bytes >> 20), ' ') FROM duckdb_memory() WHERE memory_usage_bytes + temporary_storage_bytes > 1 << 20`).Scan(&tags)
	return report + "; DuckDB MB (memory/temp) " + tags, ms.HeapInuse
}

// BenchmarkIngestPgAuditStderr is local file → DuckDB through the real pipeline,
// with DuckDB's own read_csv of a csvlog of the same size as the reference.
func BenchmarkIngestPgAuditStderr(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	size := benchLogBytes()
	logPath := filepath.Join(dir, "postgresql.log.2026-11-25-11")
	repeatFile(b, filepath.Join(corpus, "pgaudit", "orders-prod", "postgresql.log.2026-11-25-11"), logPath, size)
	for i := 0; i < b.N; i++ {
		st, err := store.Open(ctx, filepath.Join(dir, "bench"+strconv.Itoa(i)+".duckdb"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		src, err := local.New(logPath)
		if err != nil {
			b.Fatal(err)
		}
		// As the sync and ingest commands run.
		restore, err := st.TuneForBulkWrites(ctx)
		if err != nil {
			b.Fatal(err)
		}
		benchstat.EnvSQL(b, st.DB())
		runtime.GC()
		benchstat.ResetPeakRSS()
		stopTrace := make(chan struct{})
		if os.Getenv("AUDITLENS_BENCH_RSS_TRACE") != "" {
			go func() {
				t := time.NewTicker(250 * time.Millisecond)
				defer t.Stop()
				var heapPeak uint64
				for {
					select {
					case <-stopTrace:
						return
					case <-t.C:
						report, heap := memoryReport(ctx, st)
						b.Logf("rss trace: %s", report)
						if heap > heapPeak {
							heapPeak = heap
							benchstat.EnvHeapProfile(b)
						}
					}
				}
			}()
		}
		// AUDITLENS_BENCH_CPUPROFILE=file profiles the pipeline alone.
		stopProfile := benchstat.EnvCPUProfile(b)
		var ru0 = benchstat.CPUTime()
		start := time.Now()
		sum, err := Run(ctx, st, []Job{{Name: "bench", Source: src, Decoder: PgAudit{Options: pgaudit.Options{Cluster: "bench", BatchSize: benchBatchSize()}}}}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		runPeak := benchstat.PeakRSSMB()
		close(stopTrace)
		// The command checkpoints when it closes the case file: part of the work.
		restore()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		secs := time.Since(start).Seconds()
		cpu := benchstat.CPUTime() - ru0
		stopProfile()
		b.Logf("peak RSS while syncing %.0f MB, closing included %.0f MB; the writer appended and committed for %.2fs of the %.2fs",
			runPeak, benchstat.PeakRSSMB(), st.WriteTime().Seconds(), secs)
		events := sum.Totals().Events
		b.ReportMetric(float64(events)/secs, "records/s")
		b.ReportMetric(float64(events)/cpu.Seconds(), "records/cpu-s")
		b.ReportMetric(benchstat.PeakRSSMB(), "peakRSS-MB")
		b.Logf("pipeline: %d MB stderr log, %d records in %.2fs = %.0f records/s (goal ≥ 200k on 2 cores); %.0f records per CPU-second; peak RSS %.0f MB (goal ≤ 250 MB for 1 GB)",
			size>>20, events, secs, float64(events)/secs, float64(events)/cpu.Seconds(), benchstat.PeakRSSMB())

		// Reference: DuckDB reading a csvlog of the same size itself.
		csvPath := filepath.Join(dir, "postgresql.log.csv")
		if i == 0 {
			repeatFile(b, filepath.Join(corpus, "pgaudit", "orders-prod", "postgresql.log.2026-11-25-11.csv"), csvPath, size)
		}
		c, err := duckdb.NewConnector("", nil)
		if err != nil {
			b.Fatal(err)
		}
		db := sql.OpenDB(c)
		start = time.Now()
		var rows int64
		how := "parallel"
		if err := db.QueryRow(`SELECT count(*) FROM read_csv(?, header = false, all_varchar = true, strict_mode = false)`, csvPath).Scan(&rows); err != nil {
			// DuckDB's parallel reader gives up when a chunk boundary falls
			// inside a quoted multi-line field; its single-threaded reader
			// does not.
			how = "single-threaded, the parallel reader refused the file"
			start = time.Now()
			if err := db.QueryRow(`SELECT count(*) FROM read_csv(?, header = false, all_varchar = true, strict_mode = false, parallel = false)`, csvPath).Scan(&rows); err != nil {
				b.Fatal(err)
			}
		}
		ref := time.Since(start).Seconds()
		_ = db.Close()
		b.ReportMetric(float64(rows)/ref, "duckdb-read_csv-rows/s")
		b.Logf("reference: DuckDB read_csv (%s) of a %d MB csvlog: %d rows in %.2fs = %.0f rows/s (counting only, no parsing of AUDIT fields)",
			how, size>>20, rows, ref, float64(rows)/ref)
	}
}

// benchBatchSize is the pgAudit decoder's batch size (AUDITLENS_BENCH_BATCH,
// default: the decoder's own).
func benchBatchSize() int {
	n, _ := strconv.Atoi(os.Getenv("AUDITLENS_BENCH_BATCH"))
	return n
}
