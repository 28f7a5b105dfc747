package store

import (
	"context"
	"testing"
	"time"
)

// BenchmarkGaps reconciles 1 M pgAudit records (SESSION lines plus 10 % paired
// OBJECT lines) against ~1 M DAS records with 1 % lost in bursts of 100, over
// 2 clusters and 2,000 sessions, one record per 5 ms (~83 minutes), with a
// heartbeat every 10 s per instance. The rows are made by SQL from range():
// appending 2 M rows through the writer would time the writer, not Gaps.
var benchN = 1_000_000

func BenchmarkGaps(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir()+"/bench.duckdb", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := int64(benchN)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	gen := `INSERT INTO events (event_id, object_id, source, cluster, instance, log_time, session_id, statement_id,
		substatement_id, audit_type, class, command, object_name, object_ref)
	SELECT ? + i, 1, ?, 'c' || (i % 2), CASE WHEN ? = 'das' THEN 'db-' || (i % 2) END,
		?::TIMESTAMPTZ + to_microseconds(i * 5000 + CASE WHEN ? = 'das' THEN 300 ELSE 0 END),
		printf('%x.%x', 1700000000 + (i % 2000), i % 2000), i // 2000 + 1, 1, ?,
		CASE i % 4 WHEN 0 THEN 'WRITE' WHEN 1 THEN 'READ' ELSE 'MISC' END,
		CASE i % 4 WHEN 0 THEN 'UPDATE' WHEN 1 THEN 'SELECT' ELSE 'BEGIN' END,
		'public.t' || (i % 50), 'bench:' || ? || ':' || i
	FROM range(?) t(i)
	WHERE ? = 'pgaudit' OR i % 10000 >= 100`
	genStart := time.Now()
	for _, q := range []struct {
		src, audit string
		offset     int64
		rows       int64
	}{{"pgaudit", "SESSION", 0, n}, {"pgaudit", "OBJECT", 2 * n, n / 10}, {"das", "", 4 * n, n}} {
		if _, err := s.db.ExecContext(ctx, gen, q.offset, q.src, q.src, start, q.src, nullStr(q.audit), q.src+q.audit, q.rows, q.src); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO heartbeats (object_id, cluster, instance, log_time)
		SELECT 1, 'c' || (i % 2), 'db-' || (i % 2), ?::TIMESTAMPTZ + to_seconds(i * 5) FROM range(1000) t(i)`, start); err != nil {
		b.Fatal(err)
	}
	lost := n / 100
	b.Logf("generated in %v", time.Since(genStart))
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		t := time.Now()
		gs, err := s.Gaps(ctx, GapsOptions{})
		total += time.Since(t)
		if err != nil {
			b.Fatal(err)
		}
		var md, mp, m, w int64
		for _, g := range gs {
			md, mp, m, w = md+g.MissingInDAS, mp+g.MissingInPgAudit, m+g.Matched, w+int64(len(g.Windows))
		}
		if md != lost || mp != 0 || m != n-lost || w != 2*n/10000 {
			b.Fatalf("missing %d/%d matched %d windows %d", md, mp, m, w)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/gaps")
}
