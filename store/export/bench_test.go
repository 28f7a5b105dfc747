package export

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/benchstat"

	"github.com/auditlens/auditlens/store"
)

// BenchmarkExport exports 1 M generated events per format and reports seconds
// per export (goals on 2 cores: Parquet ≤ 3 s, CSV ≤ 5 s, XLSX ≤ 30 s).
// Run: go test ./store/export -run '^$' -bench Export -benchtime 1x
func BenchmarkExport(b *testing.B) {
	const rows = 1_000_000
	st := openStore(b, bulkCaseFile(b, rows), true)
	dir := b.TempDir()
	for _, format := range []Format{Parquet, CSV, JSONL, XLSX} {
		b.Run(string(format), func(b *testing.B) {
			var total, cpu time.Duration
			for i := 0; i < b.N; i++ {
				cpu0 := benchstat.CPUTime()
				out := filepath.Join(dir, "bench."+string(format))
				start := time.Now()
				m, err := Export(context.Background(), st, Request{Filter: &store.Filter{}, Format: format, Out: out}, nil)
				total += time.Since(start)
				cpu += benchstat.CPUTime() - cpu0
				if err != nil {
					b.Fatal(err)
				}
				if m.Rows != rows {
					b.Fatalf("%d rows", m.Rows)
				}
				if fi, err := os.Stat(out); err == nil {
					b.ReportMetric(float64(fi.Size())/(1<<20), "MB")
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/export")
			// CPU seconds of the process (Go and DuckDB threads): on a shared,
			// loaded machine wall time overstates what an idle laptop needs.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/export")
		})
	}
}
