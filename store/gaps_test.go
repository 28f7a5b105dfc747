package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// gapEv builds a statement record; ms is its offset from t0 in milliseconds.
// audit is SESSION/OBJECT for pgAudit and "" for DAS.
func gapEv(src, cluster, session string, stmt, sub int64, class, cmd, name string, ms int, audit string) model.Event {
	e := model.Event{
		Source: src, Cluster: cluster, Instance: "db-W", LogTime: t0.Add(time.Duration(ms) * time.Millisecond),
		SessionID: session, StatementID: model.Int64(stmt), SubstatementID: model.Int64(sub),
		AuditType: audit, Class: class, Command: cmd, ObjectName: name, UserName: "app",
	}
	if src == model.SourcePgAudit {
		e.Instance = ""
	}
	return e
}

func pg(cluster, session string, stmt, sub int64, class, cmd, name string, ms int) model.Event {
	return gapEv(model.SourcePgAudit, cluster, session, stmt, sub, class, cmd, name, ms, "SESSION")
}

func das(cluster, session string, stmt, sub int64, class, cmd, name string, ms int) model.Event {
	return gapEv(model.SourceDAS, cluster, session, stmt, sub, class, cmd, name, ms, "")
}

func writeGapRows(t *testing.T, s *Store, evs []model.Event, hbs ...model.Heartbeat) {
	t.Helper()
	for i := range evs {
		evs[i].ObjectRef = fmt.Sprintf("mem:%d", i)
	}
	tx, err := s.BeginObject(context.Background(), ObjectMeta{Source: "test", URI: fmt.Sprintf("mem://%d", len(evs)), Key: "k", ETag: "e", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: evs, Heartbeats: hbs}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit("x"); err != nil {
		t.Fatal(err)
	}
}

func gapsOf(t *testing.T, s *Store, opt GapsOptions) map[string]ClusterGaps {
	t.Helper()
	gs, err := s.Gaps(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]ClusterGaps{}
	for _, g := range gs {
		m[g.Cluster] = g
	}
	return m
}

func counts(g ClusterGaps) string {
	return fmt.Sprintf("das=%d pg=%d matched=%d md=%d mp=%d", g.DASEvents, g.PgAuditEvents, g.Matched, g.MissingInDAS, g.MissingInPgAudit)
}

func TestGapsEdgeCases(t *testing.T) {
	const S = "6b06c9a3.31ce"
	obj := func(e model.Event) model.Event { e.AuditType = "OBJECT"; return e }
	cases := []struct {
		name     string
		evs      []model.Event
		opt      GapsOptions
		want     map[string]string // cluster -> counts
		missing  string            // object names GapRecords lists missing in DAS (cluster c1)
		extraPgs string            // object names listed missing in pgAudit (cluster c1)
	}{{
		name: "multi-object DDL repeats a triple: counted, and the unpaired name is the one reported",
		evs: []model.Event{
			pg("c1", S, 2, 1, "DDL", "CREATE SEQUENCE", "s.t_id_seq", 0),
			pg("c1", S, 2, 1, "DDL", "CREATE TABLE", "s.t", 1),
			pg("c1", S, 2, 1, "DDL", "CREATE INDEX", "s.t_pkey", 2),
			pg("c1", S, 2, 1, "DDL", "CREATE INDEX", "s.t_email_key", 3),
			pg("c1", S, 2, 1, "DDL", "ALTER SEQUENCE", "s.t_id_seq", 4),
			das("c1", S, 2, 1, "DDL", "CREATE SEQUENCE", "s.t_id_seq", 0),
			das("c1", S, 2, 1, "DDL", "CREATE TABLE", "s.t", 1),
			das("c1", S, 2, 1, "DDL", "CREATE INDEX", "s.t_email_key", 3),
		},
		want:    map[string]string{"c1": "das=3 pg=5 matched=3 md=2 mp=0"},
		missing: "s.t_id_seq s.t_pkey",
	}, {
		name: "DAS duplicates a record: the excess is missing in pgAudit",
		evs: []model.Event{
			pg("c1", S, 5, 1, "READ", "SELECT", "", 0),
			das("c1", S, 5, 1, "READ", "SELECT", "", 0),
			das("c1", S, 5, 1, "READ", "SELECT", "", 0),
		},
		want:     map[string]string{"c1": "das=2 pg=1 matched=1 md=0 mp=1"},
		extraPgs: "-",
	}, {
		name: "OBJECT lines: paired ones are not counted, object-only ones are",
		evs: []model.Event{
			pg("c1", S, 7, 1, "WRITE", "UPDATE", "s.t", 0),
			obj(pg("c1", S, 7, 1, "WRITE", "UPDATE", "s.t", 0)),
			obj(pg("c1", S, 8, 1, "READ", "SELECT", "s.t", 10)), // class READ not in pgaudit.log: no SESSION line
			obj(pg("c1", S, 9, 1, "READ", "SELECT", "s.u", 20)),
			das("c1", S, 7, 1, "WRITE", "UPDATE", "s.t", 0),
			das("c1", S, 8, 1, "READ", "SELECT", "s.t", 10),
		},
		want:    map[string]string{"c1": "das=2 pg=3 matched=2 md=1 mp=0"},
		missing: "s.u",
	}, {
		name: "class and command are part of the key",
		evs: []model.Event{
			pg("c1", S, 3, 1, "READ", "SELECT", "", 0),
			das("c1", S, 3, 1, "WRITE", "SELECT", "", 0),
		},
		want:     map[string]string{"c1": "das=1 pg=1 matched=0 md=1 mp=1"},
		missing:  "-",
		extraPgs: "-",
	}, {
		name: "NULL ids, connections and rdsadmin rows take no part",
		evs: func() []model.Event {
			e1 := pg("c1", S, 0, 0, "", "", "", 0) // client ERROR without AUDIT line
			e1.StatementID, e1.SubstatementID, e1.AuditType, e1.ErrorMessage = nil, nil, "", "syntax error"
			e2 := das("c1", S, 0, 0, "", "SELECT", "", 0)
			e2.StatementID, e2.SubstatementID, e2.ErrorMessage = nil, nil, "boom"
			c1 := das("c1", S, 1, 1, "CONNECT", "CONNECT", "", 0) // DAS gives connects 1/1
			c2 := pg("c1", S, 0, 0, "CONNECT", "CONNECT", "", 0)
			c2.StatementID, c2.SubstatementID, c2.AuditType = nil, nil, ""
			c3 := das("c1", "x.1", 1, 1, "MISC", "CONNECT", "", 0) // rdsadmin connect as DAS writes it
			r := das("c1", "x.1", 2, 1, "MISC", "SET", "", 0)
			r.UserName, r.Internal = "rdsadmin", true
			return []model.Event{e1, e2, c1, c2, c3, r, pg("c1", S, 4, 1, "READ", "SELECT", "", 1), das("c1", S, 4, 1, "READ", "SELECT", "", 1)}
		}(),
		want: map[string]string{"c1": "das=1 pg=1 matched=1 md=0 mp=0"},
	}, {
		name: "rdsadmin rows count when asked",
		evs: func() []model.Event {
			r := das("c1", "x.1", 2, 1, "MISC", "SET", "", 0)
			r.UserName, r.Internal = "rdsadmin", true
			return []model.Event{r}
		}(),
		opt:  GapsOptions{IncludeInternal: true},
		want: map[string]string{"c1": "das=1 pg=0 matched=0 md=0 mp=1"},
	}, {
		name: "two clusters never match each other",
		evs: []model.Event{
			pg("c1", S, 4, 1, "READ", "SELECT", "", 0),
			das("c2", S, 4, 1, "READ", "SELECT", "", 0),
			pg("c2", S, 5, 1, "READ", "SELECT", "", 5),
			das("c2", S, 5, 1, "READ", "SELECT", "", 5),
		},
		want:    map[string]string{"c1": "das=0 pg=1 matched=0 md=1 mp=0", "c2": "das=2 pg=1 matched=1 md=0 mp=1"},
		missing: "-",
	}, {
		name: "cluster filter",
		evs: []model.Event{
			pg("c1", S, 4, 1, "READ", "SELECT", "", 0),
			das("c2", S, 4, 1, "READ", "SELECT", "", 0),
		},
		opt:  GapsOptions{Cluster: "c2"},
		want: map[string]string{"c2": "das=1 pg=0 matched=0 md=0 mp=1"},
	}, {
		name: "a pair straddling Since is matched, not split",
		evs: []model.Event{
			pg("c1", S, 4, 1, "READ", "SELECT", "", 999), // pgAudit truncates
			das("c1", S, 4, 1, "READ", "SELECT", "", 1000),
			pg("c1", S, 5, 1, "READ", "SELECT", "", 500),
		},
		opt:  GapsOptions{Since: t0.Add(999 * time.Millisecond)},
		want: map[string]string{"c1": "das=1 pg=1 matched=1 md=0 mp=0"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTemp(t)
			writeGapRows(t, s, c.evs)
			got := gapsOf(t, s, c.opt)
			if len(got) != len(c.want) {
				t.Errorf("clusters %v, want %v", got, c.want)
			}
			for cl, w := range c.want {
				if g := counts(got[cl]); g != w {
					t.Errorf("%s: %s, want %s", cl, g, w)
				}
			}
			for side, want := range map[string]string{SideMissingInDAS: c.missing, SideMissingInPgAudit: c.extraPgs} {
				if want == "" {
					continue
				}
				rows, err := s.GapRecords(context.Background(), "c1", t0.Add(-time.Second), t0.Add(time.Minute), side, 100)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, r := range rows {
					n := r.ObjectName
					if n == "" {
						n = "-"
					}
					names = append(names, n)
				}
				sort.Strings(names)
				if g := strings.Join(names, " "); g != want {
					t.Errorf("%s records: %q, want %q", side, g, want)
				}
			}
		})
	}
}

func TestGapsWindowsAndHeartbeats(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const S = "6b06c9a3.31ce"
	var evs []model.Event
	// pgAudit statements 1..10 at 0,100,…,900 ms; DAS lost 3,4 and 7, and has
	// an extra record (stmt 20) at 650 ms that pgAudit lacks.
	for i := int64(1); i <= 10; i++ {
		ms := int(i-1) * 100
		evs = append(evs, pg("c1", S, i, 1, "READ", "SELECT", "", ms))
		if i != 3 && i != 4 && i != 7 {
			evs = append(evs, das("c1", S, i, 1, "READ", "SELECT", "", ms))
		}
	}
	evs = append(evs, das("c1", S, 20, 1, "READ", "SELECT", "", 650))
	// A DAS record long after: the writer was silent from 0.9 s to 60 s.
	evs = append(evs, pg("c1", S, 30, 1, "READ", "SELECT", "", 60000), das("c1", S, 30, 1, "READ", "SELECT", "", 60000))
	hb := []model.Heartbeat{{Cluster: "c1", Instance: "db-W", LogTime: t0.Add(10 * time.Second)}}
	writeGapRows(t, s, evs, hb...)
	if err := s.UpsertSource(ctx, SourceRow{Name: "d", Kind: "das", URL: "s3://b/", Cluster: "c1", Mode: "async"}); err != nil {
		t.Fatal(err)
	}

	g := gapsOf(t, s, GapsOptions{})["c1"]
	if g.Mode != "async" || counts(g) != "das=9 pg=11 matched=8 md=3 mp=1" {
		t.Fatalf("%s %s", g.Mode, counts(g))
	}
	win := func(ws []GapWindow) string {
		var out []string
		for _, w := range ws {
			out = append(out, fmt.Sprintf("%d-%d:%d/%d", w.Start.Sub(t0).Milliseconds(), w.End.Sub(t0).Milliseconds(), w.MissingInDAS, w.MissingInPgAudit))
		}
		return strings.Join(out, " ")
	}
	// 3,4 form one run (200-300 ms); 7 (600 ms) and DAS's extra (650 ms) are
	// separate runs of their sides that do not overlap.
	if got := win(g.Windows); got != "200-300:2/0 600-600:1/0 650-650:0/1" {
		t.Errorf("windows %s", got)
	}
	g = gapsOf(t, s, GapsOptions{WindowMerge: 60 * time.Millisecond})["c1"]
	if got := win(g.Windows); got != "200-300:2/0 600-650:1/1" {
		t.Errorf("merged windows %s", got)
	}
	// Heartbeat gaps at 3 × 10 s: 0.9 s → 10 s is short, 10 s → 60 s is not.
	if len(g.HeartbeatGaps) != 1 || g.HeartbeatGaps[0].Start.Sub(t0) != 10*time.Second || g.HeartbeatGaps[0].End.Sub(t0) != 60*time.Second ||
		g.HeartbeatGaps[0].Instance != "db-W" {
		t.Errorf("heartbeat gaps %+v", g.HeartbeatGaps)
	}
	// Coverage and sessions.
	if len(g.Coverage) != 3 || len(g.Sessions) != 1 || g.Sessions[0].MissingInDAS != 3 || g.Sessions[0].MissingInPgAudit != 1 {
		t.Errorf("coverage %+v sessions %+v", g.Coverage, g.Sessions)
	}
	if g := gapsOf(t, s, GapsOptions{ObjectGap: time.Second})["c1"]; len(g.ObjectGaps) != 0 {
		t.Errorf("one object covers everything: %+v", g.ObjectGaps)
	}

	// Enter on a window lists the other source's records there.
	rows, err := s.GapRecords(ctx, "c1", t0.Add(200*time.Millisecond), t0.Add(300*time.Millisecond), SideMissingInDAS, 10)
	if err != nil || len(rows) != 2 || *rows[0].StatementID != 3 || *rows[1].StatementID != 4 {
		t.Errorf("gap records %+v %v", rows, err)
	}
	if _, err := s.GapRecords(ctx, "c1", t0, t0, "both", 10); err == nil {
		t.Error("unknown side accepted")
	}
	series, err := s.GapSeries(ctx, "c1", 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var ss []string
	for _, b := range series {
		ss = append(ss, fmt.Sprintf("%d:%d/%d/%d", b.Start.Sub(t0).Milliseconds(), b.Matched, b.MissingInDAS, b.MissingInPgAudit))
	}
	if got := strings.Join(ss, " "); got != "0:3/2/0 500:4/1/1 60000:1/0/0" {
		t.Errorf("series %s", got)
	}
}

func TestGapsObjectGaps(t *testing.T) {
	s, _ := openTemp(t)
	const S = "6b06c9a3.31ce"
	// pgAudit: two files, one ending at 0 s, the next starting at 600 s; DAS
	// recorded a statement at 300 s, so pgAudit has no object where the cluster
	// was active. A quiet span (no DAS statement) between 600 s and 1200 s is
	// not reported.
	writeGapRows(t, s, []model.Event{pg("c1", S, 1, 1, "READ", "SELECT", "", 0)})
	writeGapRows(t, s, []model.Event{pg("c1", S, 3, 1, "READ", "SELECT", "", 600_000), pg("c1", S, 3, 2, "READ", "SELECT", "", 600_001)})
	writeGapRows(t, s, []model.Event{pg("c1", S, 4, 1, "READ", "SELECT", "", 1_200_000), pg("c1", S, 4, 2, "READ", "SELECT", "", 1_200_001), pg("c1", S, 4, 3, "READ", "SELECT", "", 1_200_002)})
	writeGapRows(t, s, []model.Event{das("c1", S, 1, 1, "READ", "SELECT", "", 0), das("c1", S, 2, 1, "READ", "SELECT", "", 300_000),
		das("c1", S, 3, 1, "READ", "SELECT", "", 600_000), das("c1", S, 3, 2, "READ", "SELECT", "", 600_001), das("c1", S, 4, 1, "READ", "SELECT", "", 1_200_000)})
	g := gapsOf(t, s, GapsOptions{ObjectGap: time.Minute})["c1"]
	if len(g.ObjectGaps) != 1 || g.ObjectGaps[0].Source != "pgaudit" || g.ObjectGaps[0].Start != t0 || g.ObjectGaps[0].End != t0.Add(10*time.Minute) {
		t.Errorf("object gaps %+v", g.ObjectGaps)
	}
	if counts(g) != "das=5 pg=6 matched=4 md=2 mp=1" {
		t.Errorf("%s", counts(g))
	}
}
