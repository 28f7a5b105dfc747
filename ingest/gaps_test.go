package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/store"
)

const (
	csvLog    = "postgresql.log.2026-11-25-11.csv"
	stderrLog = "postgresql.log.2026-11-25-11"
)

// gapsCase ingests the pgAudit log named logFile and the DAS stream of
// billing-prod (async) and orders-prod (sync) into one case file, with the
// sources rows that carry each cluster's mode.
func gapsCase(t *testing.T, logFile string) *store.Store {
	t.Helper()
	ctx := context.Background()
	env := newDASEnv(t, "orders-prod", "billing-prod")
	st := openStore(t)
	var jobs []Job
	for _, c := range []struct{ cluster, mode string }{{"billing-prod", "async"}, {"orders-prod", "sync"}} {
		var exp struct {
			ResourceID string `json:"cluster_resource_id"`
		}
		readJSON(t, filepath.Join(corpus, "das", c.cluster, "expected.json"), &exp)
		jobs = append(jobs, env.job(t, c.cluster, c.cluster, exp.ResourceID, c.mode))
		src, err := local.New(filepath.Join(corpus, "pgaudit", c.cluster, logFile))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, Job{Name: c.cluster + "-logs", Source: src, Decoder: PgAudit{Options: pgaudit.Options{Cluster: c.cluster}}})
		for _, s := range []store.SourceRow{
			{Name: c.cluster + "-das", Kind: "das", URL: "s3://das-bucket/" + c.cluster + "/", Cluster: c.cluster, Mode: c.mode, ResourceID: exp.ResourceID},
			{Name: c.cluster + "-logs", Kind: "pgaudit", URL: filepath.Join(corpus, "pgaudit", c.cluster), Cluster: c.cluster},
		} {
			if err := st.UpsertSource(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	sum, err := Run(ctx, st, jobs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tot := sum.Totals(); tot.Failed != 0 || tot.Quarantined != 0 || tot.Rejects != 0 {
		t.Fatalf("corpus did not ingest cleanly: %+v", tot)
	}
	return st
}

// lossExpectation is the async corpus's account of what DAS lost.
type lossExpectation struct {
	LossWindows []struct {
		Window        int    `json:"window"`
		From          string `json:"from_log_time"`
		To            string `json:"to_log_time"`
		AuditRecordsN int64  `json:"audit_records_dropped"`
		OuterRecords  int    `json:"outer_records_dropped"`
	} `json:"loss_windows"`
	Missing struct {
		AuditRecords []struct {
			SessionID      string  `json:"sessionId"`
			StatementID    int64   `json:"statementId"`
			SubstatementID int64   `json:"substatementId"`
			Class          string  `json:"class"`
			Command        string  `json:"command"`
			ObjectName     *string `json:"objectName"`
			LogTime        string  `json:"logTime"`
			Window         int     `json:"window"`
		} `json:"audit_records"`
	} `json:"missing"`
}

func dasTime(t *testing.T, s string) time.Time {
	t.Helper()
	// PostgreSQL prints "2026-11-25 11:42:27.433198+00", dropping trailing zeros.
	v, err := time.Parse("2006-01-02 15:04:05.999999-07", s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func byCluster(t *testing.T, gs []store.ClusterGaps) map[string]store.ClusterGaps {
	t.Helper()
	m := map[string]store.ClusterGaps{}
	for _, g := range gs {
		m[g.Cluster] = g
	}
	return m
}

func TestGapsCorpusCSVLog(t *testing.T) {
	ctx := context.Background()
	st := gapsCase(t, csvLog)
	var exp lossExpectation
	readJSON(t, filepath.Join(corpus, "das", "billing-prod", "expected.json"), &exp)

	gs, err := st.Gaps(ctx, store.GapsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := byCluster(t, gs)
	if len(gs) != 2 {
		t.Fatalf("clusters %v", m)
	}

	// orders-prod is a sync stream: DAS has every statement pgAudit logged.
	o := m["orders-prod"]
	if o.Mode != "sync" || o.MissingInDAS != 0 || o.MissingInPgAudit != 0 || o.Matched != 1010 || o.DASEvents != 1010 ||
		o.PgAuditEvents != 1010 || len(o.Windows) != 0 || len(o.HeartbeatGaps) != 0 || len(o.Sessions) != 0 {
		t.Errorf("orders-prod: %+v", o)
	}

	b := m["billing-prod"]
	want := int64(len(exp.Missing.AuditRecords))
	if want != 52 {
		t.Fatalf("expected.json lists %d lost records", want)
	}
	if b.Mode != "async" || b.MissingInDAS != want || b.MissingInPgAudit != 0 || b.Matched != 937 ||
		b.DASEvents != 937 || b.PgAuditEvents != 937+want {
		t.Errorf("billing-prod counts: mode %s das %d pgaudit %d matched %d missing in das %d / pgaudit %d",
			b.Mode, b.DASEvents, b.PgAuditEvents, b.Matched, b.MissingInDAS, b.MissingInPgAudit)
	}
	if len(b.HeartbeatGaps) != 0 {
		t.Errorf("heartbeat gaps at 3 × 10 s: %+v", b.HeartbeatGaps)
	}

	// The exact records, as a multiset of keys with their object name and
	// log time (pgAudit's csvlog stamps milliseconds; DAS keeps µs).
	first, last := b.Windows[0].Start, b.Windows[len(b.Windows)-1].End
	checkLostRecords(t, st, exp, first, last, time.Millisecond)
	if recs, _ := st.GapRecords(ctx, "billing-prod", first, last, store.SideMissingInPgAudit, 10); len(recs) != 0 {
		t.Errorf("DAS records missing in pgAudit: %+v", recs)
	}

	// Windows: runs of lost records that no delivered record interrupts. They
	// are the 6 dropped outer records (3 + 2 + 1), each inside one expected
	// window; expected.json groups them by arrival order, which the case file
	// cannot know (see store/gaps.go).
	var sizes []int64
	perExpected := map[int]int64{}
	for _, w := range b.Windows {
		sizes = append(sizes, w.MissingInDAS)
		if w.MissingInPgAudit != 0 {
			t.Errorf("window %+v has DAS-only records", w)
		}
		in := -1
		for _, e := range exp.LossWindows {
			from, to := dasTime(t, e.From).Truncate(time.Millisecond), dasTime(t, e.To)
			if !w.Start.Before(from) && !w.End.After(to) {
				in = e.Window
			}
		}
		if in < 0 {
			t.Errorf("window %v..%v lies in no expected window", w.Start, w.End)
		}
		perExpected[in] += w.MissingInDAS
	}
	if fmt.Sprint(sizes) != "[10 25 2 12 1 2]" {
		t.Errorf("window sizes %v, want [10 25 2 12 1 2]", sizes)
	}
	for _, e := range exp.LossWindows {
		if perExpected[e.Window] != e.AuditRecordsN {
			t.Errorf("expected window %d: %d records in its runs, want %d", e.Window, perExpected[e.Window], e.AuditRecordsN)
		}
	}
	var outer int
	for _, e := range exp.LossWindows {
		outer += e.OuterRecords
	}
	if outer != len(b.Windows) {
		t.Errorf("%d windows, %d dropped outer records", len(b.Windows), outer)
	}

	// A merge tolerance cannot give the 3 expected windows: the gap inside
	// window 0 and the gap between windows 1 and 2 are both 0.389 s at the
	// csvlog's ms precision. 0.389 s merges both, 0.388 s neither.
	for _, c := range []struct {
		merge time.Duration
		want  string
	}{{388 * time.Millisecond, "[35 2 13 2]"}, {389 * time.Millisecond, "[37 15]"}, {time.Second, "[37 15]"}, {5 * time.Second, "[52]"}} {
		gm, err := st.Gaps(ctx, store.GapsOptions{Cluster: "billing-prod", WindowMerge: c.merge})
		if err != nil {
			t.Fatal(err)
		}
		var ns []int64
		for _, w := range gm[0].Windows {
			ns = append(ns, w.MissingInDAS)
		}
		if fmt.Sprint(ns) != c.want {
			t.Errorf("merge %v: windows %v, want %s", c.merge, ns, c.want)
		}
	}

	// Time bounds: a range around expected window 1 (31.447..31.774; window 2
	// starts at 32.163) sees exactly its records.
	w1 := dasTime(t, exp.LossWindows[1].From).Truncate(time.Millisecond)
	gr, err := st.Gaps(ctx, store.GapsOptions{Cluster: "billing-prod", Since: w1, Until: w1.Add(500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if len(gr) != 1 || gr[0].MissingInDAS != 13 || gr[0].MissingInPgAudit != 0 || len(gr[0].Windows) != 2 {
		t.Errorf("range around window 1: %+v", gr)
	}

	// Per-minute series add up to the totals.
	series, err := st.GapSeries(ctx, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tot := map[string][3]int64{}
	for _, s := range series {
		v := tot[s.Cluster]
		v[0] += s.Matched
		v[1] += s.MissingInDAS
		v[2] += s.MissingInPgAudit
		tot[s.Cluster] = v
	}
	if tot["billing-prod"] != [3]int64{937, 52, 0} || tot["orders-prod"] != [3]int64{1010, 0, 0} {
		t.Errorf("series totals %v", tot)
	}

	// Tight heartbeat settings find the silent tail of each billing instance
	// (last record 11:42:32.9, next heartbeat 11:42:38) and the reader's idle
	// spell between 11:42:28.5 and 11:42:32.9.
	gh, err := st.Gaps(ctx, store.GapsOptions{Cluster: "billing-prod", HeartbeatInterval: time.Second, HeartbeatFactor: 3})
	if err != nil {
		t.Fatal(err)
	}
	var hb []string
	for _, g := range gh[0].HeartbeatGaps {
		if g.End.Sub(g.Start) <= 3*time.Second {
			t.Errorf("heartbeat gap shorter than 3 s: %+v", g)
		}
		hb = append(hb, fmt.Sprintf("%s %s-%s", g.Instance[:8], g.Start.Format("05.0"), g.End.Format("05.0")))
	}
	if got := strings.Join(hb, ", "); got != "db-S4CCI 28.4-32.8, db-XXIL4 32.8-38.0, db-S4CCI 32.9-38.1" {
		t.Errorf("heartbeat gaps at 3 × 1 s: %s", got)
	}
}

// checkLostRecords compares the pgAudit records GapRecords reports missing in
// DAS with expected.json's list, as a multiset of (session, statement,
// substatement, class, command, object name, log time at the log's precision).
func checkLostRecords(t *testing.T, st *store.Store, exp lossExpectation, first, last time.Time, precision time.Duration) {
	t.Helper()
	recs, err := st.GapRecords(context.Background(), "billing-prod", first, last, store.SideMissingInDAS, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, r := range recs {
		if r.Source != "pgaudit" || r.StatementID == nil || r.SubstatementID == nil {
			t.Fatalf("gap record %+v", r)
		}
		got = append(got, fmt.Sprintf("%s/%d/%d %s %s %q %s", r.SessionID, *r.StatementID, *r.SubstatementID, r.Class, r.Command,
			r.ObjectName, r.LogTime.Format("15:04:05.000000")))
	}
	for _, r := range exp.Missing.AuditRecords {
		name := ""
		if r.ObjectName != nil {
			name = *r.ObjectName
		}
		want = append(want, fmt.Sprintf("%s/%d/%d %s %s %q %s", r.SessionID, r.StatementID, r.SubstatementID, r.Class, r.Command,
			name, dasTime(t, r.LogTime).Truncate(precision).Format("15:04:05.000000")))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("missing records differ:\n got %d:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}

// TestGapsCorpusStderr reconciles against the stderr log of the same run. Its
// session ids are derived (hex of the session's first-line second . hex pid),
// and they equal PostgreSQL's %c, so the match is the same; only the 1-s
// timestamps differ. At that precision the six runs share seconds, overlap,
// and merge into three windows (37, 13, 2): the same as expected.json, by
// the coincidence that its windows fall in different seconds.
func TestGapsCorpusStderr(t *testing.T) {
	ctx := context.Background()
	st := gapsCase(t, stderrLog)
	var exp lossExpectation
	readJSON(t, filepath.Join(corpus, "das", "billing-prod", "expected.json"), &exp)
	gs, err := st.Gaps(ctx, store.GapsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := byCluster(t, gs)
	if o := m["orders-prod"]; o.MissingInDAS != 0 || o.MissingInPgAudit != 0 || o.Matched != 1010 {
		t.Errorf("orders-prod: %+v", o)
	}
	b := m["billing-prod"]
	if b.MissingInDAS != 52 || b.MissingInPgAudit != 0 || b.Matched != 937 || b.PgAuditEvents != 989 || len(b.Sessions) != 9 {
		t.Errorf("billing-prod: matched %d missing %d/%d sessions %d", b.Matched, b.MissingInDAS, b.MissingInPgAudit, len(b.Sessions))
	}
	var ws []string
	for i, w := range b.Windows {
		ws = append(ws, fmt.Sprintf("%s-%s:%d", w.Start.Format("05"), w.End.Format("05"), w.MissingInDAS))
		if i < len(exp.LossWindows) && w.MissingInDAS != exp.LossWindows[i].AuditRecordsN {
			t.Errorf("window %d has %d records, expected.json %d", i, w.MissingInDAS, exp.LossWindows[i].AuditRecordsN)
		}
	}
	if got := strings.Join(ws, " "); got != "26-27:37 31-31:13 32-32:2" {
		t.Errorf("windows %s", got)
	}
	checkLostRecords(t, st, exp, b.Windows[0].Start, b.Windows[len(b.Windows)-1].End, time.Second)
}
