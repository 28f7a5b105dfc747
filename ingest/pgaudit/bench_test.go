package pgaudit

import (
	"bytes"
	"context"
	"testing"

	"github.com/auditlens/auditlens/internal/benchstat"

	"github.com/auditlens/auditlens/store/model"
)

// repeated returns the stderr corpus of all clusters repeated to about size
// bytes.
func repeated(b *testing.B, size int) []byte {
	b.Helper()
	var one []byte
	for _, c := range corpusClusters {
		stderr, _, _, _ := corpusFiles(b, c)
		one = append(one, readFile(b, stderr)...)
	}
	return bytes.Repeat(one, max(1, size/len(one)))
}

func benchDecode(b *testing.B, data []byte, opt Options) {
	var audit int64
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchstat.CPUTime()
	for b.Loop() {
		audit = 0
		_, err := Decode(context.Background(), "bench", bytes.NewReader(data), opt, func(bt *model.Batch) error {
			for i := range bt.Events {
				if bt.Events[i].AuditType != "" {
					audit++
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(audit)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	// Per CPU-second of the whole process (GC included): the per-core rate,
	// independent of other load on the machine.
	if cpu := benchstat.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(audit)*float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkParseStderr measures AUDIT records per second from an RDS stderr
// log made by repeating the corpus of all three clusters (~50 MB).
func BenchmarkParseStderr(b *testing.B) {
	benchDecode(b, repeated(b, 50<<20), Options{Format: FormatStderr, LinePrefix: RDSPrefix})
}

func BenchmarkParseCSVLog(b *testing.B) {
	benchDecode(b, bytes.Repeat(readFile(b, "../../testdata/pgaudit/orders-prod/postgresql.log.2026-11-25-11.csv"), 60), Options{})
}

func BenchmarkParseJSONLog(b *testing.B) {
	benchDecode(b, bytes.Repeat(readFile(b, "../../testdata/pgaudit/orders-prod/postgresql.log.2026-11-25-11.json"), 40), Options{})
}
