package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
)

// benchEvents is the size of the explorer benchmark (issue goal: 10 M);
// AUDITLENS_BENCH_EVENTS shrinks it.
func benchEvents(b *testing.B) int64 {
	if v := os.Getenv("AUDITLENS_BENCH_EVENTS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1000 {
			b.Fatalf("AUDITLENS_BENCH_EVENTS=%q: want a number ≥ 1000", v)
		}
		return n
	}
	return 10_000_000
}

// benchCase builds a case file of n events in SQL: the mix of internal/synth
// (three clusters, DAS and pgAudit, 200 users with a skewed activity, every
// class, statements of 40–300 bytes, time order over three days). Appending
// 10 M events through the writer takes minutes; the explorer only reads.
// AUDITLENS_BENCH_CASE names a file to keep and reuse between runs.
func benchCase(b *testing.B, n int64) string {
	ctx := context.Background()
	path := os.Getenv("AUDITLENS_BENCH_CASE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.duckdb")
	} else if _, err := os.Stat(path); err == nil {
		return path
	}
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i, c := range []string{"cluster-0", "cluster-1", "cluster-2"} {
		mode := []string{"sync", "async", "async"}[i]
		for _, src := range []store.SourceRow{
			{Name: c + "-das", Kind: "das", URL: "s3://bench/" + c + "/das/", Cluster: c, Mode: mode},
			{Name: c + "-logs", Kind: "pgaudit", URL: "s3://bench/" + c + "/logs/", Cluster: c},
		} {
			if err := st.UpsertSource(ctx, src); err != nil {
				b.Fatal(err)
			}
		}
	}
	const perObject = 100_000
	t0 := time.Now()
	for _, q := range []string{
		`INSERT INTO objects (object_id, source, uri, object_key, etag, size, sha256, status, event_count, ingested_at)
		 SELECT o + 1, 'cluster-' || (o % 3) || CASE WHEN o % 2 = 0 THEN '-das' ELSE '-logs' END,
		        's3://bench/obj-' || o, 'obj-' || o, 'etag', 1000000, 'sha', 'ok', ` + fmt.Sprint(perObject) + `, now()
		 FROM range(` + fmt.Sprint((n+perObject-1)/perObject) + `) t(o)`,
		`INSERT INTO events (event_id, object_id, source, cluster, instance, log_time, session_id, statement_id, substatement_id,
		        audit_type, class, command, object_type, object_name, statement, params, row_count, database_name, user_name,
		        application_name, remote_host, remote_port, pid, error_message, object_ref, internal)
		 SELECT i + 1, i // ` + fmt.Sprint(perObject) + ` + 1,
		        CASE WHEN i % 2 = 0 THEN 'das' ELSE 'pgaudit' END,
		        'cluster-' || (i % 3), 'db-instance-' || (i % 3),
		        TIMESTAMPTZ '2026-11-20 00:00:00+00' + to_microseconds((i * (259200000000 // ` + fmt.Sprint(n) + `)) + h % 1000),
		        printf('%x.%x', 1763596800 + u * 97, 1000 + u * 13 + i % 3), i // 7 + 1, 1,
		        CASE WHEN i % 2 = 1 THEN 'SESSION' END,
		        cls, cmd, CASE WHEN cls IN ('READ', 'WRITE') THEN 'TABLE' END, CASE WHEN cls IN ('READ', 'WRITE') THEN obj END,
		        CASE cmd
		          WHEN 'SELECT' THEN 'SELECT id, tenant_id, status, amount FROM ' || obj || ' WHERE id = $1 AND tenant_id = ' || (h % 500)
		          WHEN 'UPDATE' THEN 'UPDATE ' || obj || ' SET status = $1, updated_at = now() WHERE id = ' || (h % 1000000)
		          WHEN 'INSERT' THEN 'INSERT INTO ' || obj || ' (id, tenant_id, status) VALUES ($1, $2, $3)'
		          WHEN 'EXECUTE' THEN 'SELECT sales.place_order($1, $2, $3)'
		          WHEN 'CREATE INDEX' THEN 'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_' || (h % 99) || ' ON ' || obj || ' (created_at)'
		          WHEN 'GRANT' THEN 'GRANT SELECT ON ' || obj || ' TO analyst_' || (h % 20)
		          WHEN 'DROP TABLE' THEN 'DROP TABLE IF EXISTS ' || obj || '_tmp_' || (h % 9999)
		          ELSE cmd END
		        || CASE WHEN h % 100 < 17 THEN ' ORDER BY created_at DESC LIMIT ' || (10 + h % 990) ELSE '' END,
		        CASE WHEN h % 3 = 0 THEN [(h % 100000)::VARCHAR, 'x'] END,
		        CASE WHEN cls IN ('READ', 'WRITE') THEN (h % 3000)::BIGINT END,
		        ['orders', 'billing', 'inventory', 'crm', 'ledger'][(u * 7 + i % 3) % 5 + 1] || lpad(((u * 7 + i % 3) % 20)::VARCHAR, 2, '0'),
		        ['app', 'etl', 'analyst', 'svc', 'report', 'admin', 'batch'][u % 7 + 1] || '_' || lpad(u::VARCHAR, 3, '0'),
		        ['orders-api', 'psql', 'etl-nightly', 'metabase', 'pgbench', 'billing-worker'][u % 6 + 1],
		        '10.0.' || (u % 16) || '.' || (u % 250 + 1), 40000 + (h % 20000)::INTEGER, 1000 + u * 13 + i % 3,
		        CASE WHEN h % 200 = 7 THEN 'permission denied for table ' || obj END,
		        's3://bench/obj-' || (i // ` + fmt.Sprint(perObject) + `) || '#' || (i % ` + fmt.Sprint(perObject) + `), false
		 FROM (
		   SELECT i, h, least(floor(200 * pow((h // 1000 % 1000000) / 1000000.0, 3))::INTEGER, 199) AS u,
		          CASE WHEN k < 45 THEN 'READ' WHEN k < 75 THEN 'WRITE' WHEN k < 90 THEN 'MISC' WHEN k < 95 THEN 'FUNCTION'
		               WHEN k < 98 THEN 'DDL' WHEN k < 99 THEN 'ROLE' ELSE 'DDL' END AS cls,
		          CASE WHEN k < 45 THEN 'SELECT' WHEN k < 60 THEN 'UPDATE' WHEN k < 75 THEN 'INSERT'
		               WHEN k < 82 THEN 'BEGIN' WHEN k < 90 THEN 'COMMIT' WHEN k < 95 THEN 'EXECUTE'
		               WHEN k < 98 THEN 'CREATE INDEX' WHEN k < 99 THEN 'GRANT' ELSE 'DROP TABLE' END AS cmd,
		          ['public', 'sales', 'billing', 'ops'][(h // 7 % 500) % 4 + 1] || '.' ||
		          ['orders', 'customers', 'invoices', 'payments', 'items', 'events', 'cards', 'audit_log', 'shipments', 'accounts'][(h // 7 % 500) % 10 + 1]
		          || '_' || ((h // 7 % 500) // 10) AS obj
		   FROM (SELECT i, (hash(i) >> 1)::BIGINT AS h, (hash(i) >> 1)::BIGINT // 1000000000 % 100 AS k FROM range(` + fmt.Sprint(n) + `) t(i))
		 )`,
	} {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			b.Fatalf("generate the case file: %v", err)
		}
	}
	b.Logf("generated %d events in %.1f s", n, time.Since(t0).Seconds())
	return path
}

// driver runs the explorer's commands the way a Bubble Tea program does:
// each command on its own goroutine, each message through Update on one
// goroutine, a frame drawn after each message.
type driver struct {
	m       Model
	msgs    chan tea.Msg
	running atomic.Int64
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	d.running.Add(1)
	go func() {
		defer d.running.Add(-1)
		d.msgs <- cmd()
	}()
}

// send delivers one message and starts the commands it leads to.
func (d *driver) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	}
	next, cmd := d.m.Update(msg)
	d.m = next.(Model)
	d.run(cmd)
}

// until delivers messages, drawing a frame after each, until done holds.
// Messages already waiting are delivered first, as the program would have.
func (d *driver) until(b *testing.B, what string, done func(Model) bool) {
	deadline := time.After(2 * time.Minute)
	d.drain()
	for {
		_ = d.m.View()
		if done(d.m) {
			return
		}
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-deadline:
			b.Fatalf("timed out waiting for %s (%s)", what, d.m.table)
		}
	}
}

// drain delivers the messages that are waiting.
func (d *driver) drain() {
	for {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		default:
			return
		}
	}
}

// wait delivers messages for a while: the user between two keys.
func (d *driver) wait(t time.Duration) {
	end := time.After(t)
	for {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-end:
			return
		}
	}
}

// idle delivers messages until no command is running.
func (d *driver) idle(b *testing.B) {
	deadline := time.After(5 * time.Minute)
	for d.running.Load() > 0 || len(d.msgs) > 0 {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			b.Fatal("the explorer did not settle")
		}
	}
}

// peakRSS is the process's resident high-water mark in MB (Linux), and
// resetPeakRSS starts it over, so the case file's generation does not count.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

type benchFigure struct {
	name        string
	value, goal float64
	unit        string
}

// BenchmarkExplorer opens the real explorer on a 10 M-event case file and
// times what a user waits for: the first rows painted after start, new rows
// after a filter change, a page scroll; and the peak RSS.
func BenchmarkExplorer(b *testing.B) {
	n := benchEvents(b)
	path := benchCase(b, n)
	ctx := context.Background()
	for range b.N {
		resetPeakRSS()
		st, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		// DuckDB's memory is capped as `auditlens explorer` caps it
		// (MemoryLimit); AUDITLENS_BENCH_MEMORY_LIMIT sets another cap
		// (e.g. 512MB), or none with "none".
		lim := MemoryLimit
		if v := os.Getenv("AUDITLENS_BENCH_MEMORY_LIMIT"); v != "" {
			lim = v
		}
		if lim != "none" {
			if err := st.SetMemoryLimit(ctx, lim); err != nil {
				b.Fatal(err)
			}
		}
		t0 := time.Now()
		m, err := New(ctx, Options{Store: st, Path: path, UTC: true, NoColor: true, Author: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		d := &driver{m: m, msgs: make(chan tea.Msg, 64)}
		d.send(tea.WindowSizeMsg{Width: 160, Height: 50})
		d.run(m.Init())
		d.until(b, "the first rows", func(m Model) bool { _, ok := m.table.Selected(); return ok })
		first := time.Since(t0)
		rssFirst := peakRSS()
		d.idle(b)
		settled := time.Since(t0)
		rssSettled := peakRSS()

		// A filter typed in the filter line and applied with enter (from the
		// events page: high findings may have opened the findings page).
		d.send(keyMsg("1"))
		d.send(keyMsg("/"))
		d.idle(b)
		for _, r := range "user:etl_001 class:WRITE" {
			next, _ := d.m.Update(keyMsg(string(r))) // typed within the debounce: no query yet
			d.m = next.(Model)
		}
		t1 := time.Now()
		d.send(keyMsg("enter"))
		d.until(b, "the filtered rows", func(m Model) bool {
			r, ok := m.table.Selected()
			return ok && slices.Equal(m.filter.Users, []string{"etl_001"}) && r.UserName == "etl_001" && r.Class == "WRITE"
		})
		filter := time.Since(t1)
		d.idle(b)

		// Page down at key-repeat speed through the unfiltered table: once
		// its counts are in, and again right after the filter was cleared,
		// while the count, facets and histogram of 10 M rows are computed.
		clear := func() {
			for _, k := range []string{":", "f", "i", "l", "t", "e", "r", "enter"} {
				d.send(keyMsg(k))
			}
			d.until(b, "the unfiltered rows", func(m Model) bool { _, ok := m.table.Selected(); return ok && m.filter.IsZero() })
		}
		scroll := func(n int) []time.Duration {
			var out []time.Duration
			for range n {
				before, _, _, _ := d.m.table.Position()
				step := int64(d.m.table.Visible())
				t2 := time.Now()
				d.send(keyMsg("pgdown"))
				d.until(b, "the next page", func(m Model) bool { n, _, ok, _ := m.table.Position(); return ok && n == before+step })
				out = append(out, time.Since(t2))
				d.wait(30 * time.Millisecond) // key repeat
			}
			slices.Sort(out)
			return out
		}
		clear()
		d.idle(b)
		scrolls := scroll(40)
		d.send(keyMsg("/"))
		for _, r := range "class:DDL" {
			d.send(keyMsg(string(r)))
		}
		d.send(keyMsg("enter"))
		d.idle(b)
		clear()
		busyScrolls := scroll(20)
		d.idle(b)
		rss := peakRSS()
		_ = st.Close()

		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		figs := []benchFigure{
			{"first rows painted", ms(first), 300, "ms"},
			{"filter change to new rows", ms(filter), 150, "ms"},
			{"page scroll (median)", ms(scrolls[len(scrolls)/2]), 30, "ms"},
			{"page scroll (worst of 40)", ms(scrolls[len(scrolls)-1]), 30, "ms"},
			{"scroll during counts (med)", ms(busyScrolls[len(busyScrolls)/2]), 30, "ms"},
			{"scroll during counts (max)", ms(busyScrolls[len(busyScrolls)-1]), 30, "ms"},
			{"peak RSS", rss, 400, "MB"},
		}
		b.ReportMetric(figs[0].value, "ms-first-rows")
		b.ReportMetric(figs[1].value, "ms-filter")
		b.ReportMetric(figs[3].value, "ms-scroll-worst")
		b.ReportMetric(figs[6].value, "MB-peak-RSS")
		b.Logf("explorer benchmark on %d events (start-up work all done after %.2f s, %d findings; peak RSS %.0f MB at first rows, %.0f MB once settled):",
			n, settled.Seconds(), d.m.findings.Len(), rssFirst, rssSettled)
		b.Logf("%-28s %10s %10s", "measure", "figure", "goal")
		for _, f := range figs {
			mark := "ok"
			if f.value > f.goal {
				mark = "MISSED"
			}
			b.Logf("%-28s %7.1f %-2s %7.0f %-2s  %s", f.name, f.value, f.unit, f.goal, f.unit, mark)
		}
	}
}
