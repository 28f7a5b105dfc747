package findings_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/benchstat"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/findings"
)

// generate fills a case file with n events over 30 days on three clusters:
// half the statements reach both DAS and pgAudit (copies), 200 users of very
// unequal activity with one to three hosts each, READ/WRITE-heavy classes
// with rare DDL and ROLE statements, connections with a few failed logins,
// row counts with a long tail, and DAS heartbeats every 10 s except for a
// few silences.
func generate(tb testing.TB, st *store.Store, n int64) {
	tb.Helper()
	ctx := context.Background()
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	const span = int64(30 * 24 * time.Hour / time.Microsecond)
	stmts := []string{
		`INSERT INTO events (event_id, object_id, source, cluster, instance, log_time, session_id, statement_id,
		    substatement_id, audit_type, class, command, object_type, object_name, statement, row_count,
		    database_name, user_name, application_name, remote_host, remote_port, pid, error_message, object_ref, internal)
		WITH g AS (
		    SELECT range AS i,
		           hash(range // 2) AS h,                 -- both copies of a statement share h
		           (range // 2) AS s,
		           range % 2 AS copy
		    FROM range(?)
		), c AS (
		    SELECT i, h, s, copy,
		           (h % 1000) / 1000.0 AS u,
		           ((h >> 10) % 1000) AS k,
		           ((h >> 20) % 3) AS cl,
		           floor(pow((h >> 30) % 1000 / 1000.0, 3) * 200)::INT AS usr
		    FROM g
		)
		SELECT i, i // 10000, CASE WHEN copy = 0 THEN 'pgaudit' ELSE 'das' END,
		       'cluster-' || cl, 'db-' || cl || '-' || (h % 2),
		       make_timestamptz(? + ((s * 2.0 / ?) * ?)::BIGINT + copy * 317),
		       'sess.' || (s // 20), (s % 20) + 1, 1,
		       CASE WHEN copy = 0 THEN 'SESSION' END,
		       CASE WHEN k < 400 THEN 'READ' WHEN k < 800 THEN 'WRITE' WHEN k < 900 THEN 'MISC'
		            WHEN k < 910 THEN 'DDL' WHEN k < 911 THEN 'ROLE' ELSE 'CONNECT' END,
		       CASE WHEN k < 400 THEN 'SELECT' WHEN k < 800 THEN 'UPDATE' WHEN k < 900 THEN 'SET'
		            WHEN k < 905 THEN 'CREATE TABLE' WHEN k < 909 THEN 'ALTER TABLE'
		            WHEN k < 910 THEN (CASE WHEN h % 2 = 0 THEN 'DROP TABLE' ELSE 'TRUNCATE TABLE' END)
		            WHEN k < 911 THEN 'GRANT' WHEN k < 955 THEN 'CONNECT' ELSE 'DISCONNECT' END,
		       CASE WHEN k < 400 AND h % 5 = 0 THEN 'TABLE' END,
		       CASE WHEN k < 400 AND h % 5 = 0 THEN 'sales.t' || (h % 50) END,
		       CASE WHEN k < 400 THEN 'SELECT * FROM sales.t' || (h % 50) || ' WHERE id = $1'
		            WHEN k < 800 THEN 'UPDATE sales.t' || (h % 50) || ' SET x = $1 WHERE id = $2'
		            WHEN k < 900 THEN 'SET application_name = ''x'''
		            WHEN k < 911 THEN 'DDL or GRANT statement ' || (h % 100) END,
		       CASE WHEN k < 800 THEN (CASE WHEN h % 1000 = 0 THEN 10000 + h % 90000 ELSE h % 200 END)::BIGINT END,
		       'db' || (h % 4), 'user' || usr, 'app' || (usr % 7) || CASE WHEN h % 10007 = 0 THEN '-new' ELSE '' END,
		       '10.0.' || (usr % 50) || '.' || (usr % 3 + (CASE WHEN h % 9973 = 0 THEN 100 ELSE 0 END)),
		       40000 + (h % 20000)::INT, (h % 30000)::INT,
		       CASE WHEN k >= 911 AND k < 955 AND h % 50 = 0 THEN 'password authentication failed for user "user' || usr || '"' END,
		       'bench:' || i, false
		FROM c`,
		`INSERT INTO heartbeats (object_id, cluster, instance, log_time, object_ref)
		SELECT 0, 'cluster-' || c.range, 'db-' || c.range || '-0',
		       make_timestamptz(? + t.range * 10000000), 'hb'
		FROM range(3) c, range(? // 10000000) t
		WHERE NOT (t.range % 20000 BETWEEN 100 AND 130)`,
		`INSERT INTO sources (name, kind, url, cluster, mode)
		SELECT 'das-' || range, 'das', 's3://b/' || range, 'cluster-' || range, 'async' FROM range(3)`,
	}
	// A password-guessing burst per cluster, ending in a successful login.
	stmts = append(stmts, `INSERT INTO events (event_id, object_id, source, cluster, log_time, session_id, class, command,
		    user_name, remote_host, error_message, object_ref)
		SELECT ? + c.range * 10 + a.range, 0, 'pgaudit', 'cluster-' || c.range,
		       make_timestamptz(? + a.range * 5000000), 'burst.' || c.range || '.' || a.range, 'CONNECT', 'CONNECT',
		       'user5', '10.0.5.2',
		       CASE WHEN a.range < 6 THEN 'password authentication failed for user "user5"' END, 'burst'
		FROM range(3) c, range(7) a`)
	args := [][]any{{n, start.UnixMicro(), n, span}, {start.UnixMicro(), span}, nil, {n, start.Add(20 * 24 * time.Hour).UnixMicro()}}
	for i, q := range stmts {
		if _, err := st.DB().ExecContext(ctx, q, args[i]...); err != nil {
			tb.Fatalf("generate: %v", err)
		}
	}
	if _, err := st.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkBuiltinRules runs every built-in rule over a generated case file
// of AUDITLENS_BENCH_EVENTS events (default 10 M). Generating them takes a
// while and is not timed; the case file is kept under os.TempDir, keyed by
// size and by the generator's text, so reruns skip it
// (AUDITLENS_BENCH_REGENERATE=1 forces a new one). Sub-benchmarks: "all"
// (every rule with its default settings: the figure of the goal, s/run),
// "all-configured" (working hours in Europe/Paris and two sensitive
// objects) and one per rule, configured. The machine may be shared, so
// cpu-s/run (getrusage) is reported next to wall time.
// AUDITLENS_BENCH_DUMP=file writes the findings of "all-configured" as JSON,
// to compare the output of two versions of the rules. AUDITLENS_BENCH_SQL
// runs a statement (a SET) on the case file first.
func BenchmarkBuiltinRules(b *testing.B) {
	n := int64(10_000_000)
	if v := os.Getenv("AUDITLENS_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	path := benchCaseFile(b, n)
	// As the CLI runs it: read-only.
	st, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchstat.EnvSQL(b, st.DB())
	// Two settings: the rules' defaults (the figure the goal is about), and
	// an investigator's typical configuration, whose sensitive objects make
	// bulk-read also match statement texts (a second pass over the READ
	// statements). AUDITLENS_BENCH_SENSITIVE=a,b changes those objects ("-":
	// none).
	configured := findings.Options{Settings: findings.Settings{
		WorkingHours: "08:00-19:00", TimeZone: "Europe/Paris", SensitiveObjects: []string{"sales.t7", "payroll"},
	}}
	if v, ok := os.LookupEnv("AUDITLENS_BENCH_SENSITIVE"); ok {
		configured.Settings.SensitiveObjects = []string{}
		if v != "-" {
			configured.Settings.SensitiveObjects = strings.Split(v, ",")
		}
	}
	rules, err := findings.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	bench := func(b *testing.B, opt findings.Options, only []string, dump string) {
		var found int
		var fs []findings.Finding
		cpu0 := benchstat.CPUTime()
		for b.Loop() {
			var rerrs []findings.RuleError
			o := opt
			o.Only = only
			fs, rerrs, err = findings.Run(ctx, st, o)
			if err != nil {
				b.Fatal(err)
			}
			if len(rerrs) > 0 {
				b.Fatal(rerrs)
			}
			found = len(fs)
		}
		cpu := benchstat.CPUTime() - cpu0
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/run")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
		b.ReportMetric(float64(found), "findings")
		if dump != "" {
			data, err := json.MarshalIndent(fs, "", "  ")
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(dump, data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("all", func(b *testing.B) { bench(b, findings.Options{}, nil, "") })
	b.Run("all-configured", func(b *testing.B) { bench(b, configured, nil, os.Getenv("AUDITLENS_BENCH_DUMP")) })
	for _, r := range rules {
		b.Run(r.ID, func(b *testing.B) { bench(b, configured, []string{r.ID}, "") })
	}
}

// benchCaseFile returns the path of a generated case file of n events,
// generating it when no cached one exists.
func benchCaseFile(b *testing.B, n int64) string {
	b.Helper()
	src, err := os.ReadFile("bench_test.go")
	if err != nil {
		b.Fatal(err)
	}
	// The generator's text is the seed: a change to it makes a new file.
	gen := src[bytes.Index(src, []byte("func generate(")):bytes.Index(src, []byte("// BenchmarkBuiltinRules"))]
	sum := sha256.Sum256(gen)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("auditlens-bench-findings-%d-%x.duckdb", n, sum[:6]))
	if _, err := os.Stat(path); err == nil && os.Getenv("AUDITLENS_BENCH_REGENERATE") == "" {
		return path
	}
	ctx := context.Background()
	tmp := path + ".gen"
	_ = os.Remove(tmp)
	_ = os.Remove(tmp + ".wal")
	st, err := store.Open(ctx, tmp, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	generate(b, st, n)
	b.Logf("generated %d events in %s", n, time.Since(t0).Round(time.Millisecond))
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(tmp + ".wal"); err == nil {
		b.Fatal("generated case file left a WAL behind")
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// TestBenchmarkCaseFile keeps the generator honest on a small case file:
// every rule finds something on it, and no rule fails.
func TestBenchmarkCaseFile(t *testing.T) {
	ctx := context.Background()
	c := newCase(t)
	generate(t, c.st, 60_000)
	fs := run(t, c.st, findings.Options{Settings: findings.Settings{SensitiveObjects: []string{"sales.t7"}}})
	seen := map[string]int{}
	for _, f := range fs {
		seen[f.RuleID]++
	}
	for _, id := range []string{"auth-failure-burst", "privilege-change", "destructive-ddl", "off-hours-ddl", "bulk-read", "new-client", "capture-silence"} {
		if seen[id] == 0 {
			t.Errorf("rule %s found nothing in the generated case", id)
		}
	}
	_ = ctx
}
