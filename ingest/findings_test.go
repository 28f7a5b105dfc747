package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/store/findings"
)

// csvlogCounts is what the corpus' csvlog says, read independently of the
// decoders: audit records and distinct statements ((session, statement,
// substatement, command)) of ROLE class and of destructive commands.
type csvlogCounts struct {
	roleRecords, roleStatements               int64
	destructiveRecords, destructiveStatements int64
}

var destructive = map[string]bool{"DROP TABLE": true, "DROP SCHEMA": true, "DROP DATABASE": true, "TRUNCATE TABLE": true}

func readCSVLog(t *testing.T, path string) csvlogCounts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var c csvlogCounts
	roles, drops := map[string]bool{}, map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msg, ok := strings.CutPrefix(rec[13], "AUDIT: ")
		if !ok {
			continue
		}
		fr := csv.NewReader(strings.NewReader(msg))
		fr.FieldsPerRecord = -1
		fr.LazyQuotes = true
		a, err := fr.Read()
		if err != nil {
			t.Fatalf("AUDIT fields %q: %v", msg[:min(80, len(msg))], err)
		}
		key := strings.Join([]string{rec[5], a[1], a[2], a[4]}, "|")
		if a[3] == "ROLE" {
			c.roleRecords++
			roles[key] = true
		}
		if destructive[a[4]] {
			c.destructiveRecords++
			drops[key] = true
		}
	}
	c.roleStatements, c.destructiveStatements = int64(len(roles)), int64(len(drops))
	return c
}

type findingsExpectation struct {
	ByClass     map[string]int64 `json:"by_class"`
	ByCommand   map[string]int64 `json:"by_command"`
	Connections map[string]int64 `json:"connections"`
}

func sumRule(fs []findings.Finding, id string) (count, records int64) {
	for _, f := range fs {
		if f.RuleID == id {
			count += f.Count
			records += f.Records
		}
	}
	return count, records
}

// corpusParams count every password failure: bursts of one, in one window.
var corpusParams = map[string]any{"auth_failures": 1, "auth_window": "24h"}

// TestFindingsPgAuditCorpus ingests each cluster's stderr log through the
// pipeline and checks the findings against expected.json and the csvlog.
func TestFindingsPgAuditCorpus(t *testing.T) {
	ctx := context.Background()
	for _, cluster := range []string{"orders-prod", "billing-prod", "inventory-prod"} {
		t.Run(cluster, func(t *testing.T) {
			dir := filepath.Join(corpus, "pgaudit", cluster)
			var exp findingsExpectation
			readJSON(t, filepath.Join(dir, "expected.json"), &exp)
			csvc := readCSVLog(t, filepath.Join(dir, "postgresql.log.2026-11-25-11.csv"))
			// expected.json and the csvlog agree on records.
			if csvc.roleRecords != exp.ByClass["ROLE"] {
				t.Fatalf("csvlog ROLE records %d, expected.json %d", csvc.roleRecords, exp.ByClass["ROLE"])
			}
			var drops int64
			for cmd := range destructive {
				drops += exp.ByCommand[cmd]
			}
			if csvc.destructiveRecords != drops {
				t.Fatalf("csvlog DROP/TRUNCATE records %d, expected.json %d", csvc.destructiveRecords, drops)
			}

			st := openStore(t)
			src, err := local.New(filepath.Join(dir, "postgresql.log.2026-11-25-11"))
			if err != nil {
				t.Fatal(err)
			}
			jobs := []Job{{Name: cluster + "-logs", Source: src, Decoder: PgAudit{Options: pgaudit.Options{Cluster: cluster}}}}
			if _, err := Run(ctx, st, jobs, Options{}); err != nil {
				t.Fatal(err)
			}
			fs, rerrs, err := findings.Run(ctx, st, findings.Options{Params: corpusParams})
			if err != nil {
				t.Fatal(err)
			}
			if len(rerrs) != 0 {
				t.Fatalf("rule errors: %v", rerrs)
			}
			n, rec := sumRule(fs, "privilege-change")
			if rec != exp.ByClass["ROLE"] || n != csvc.roleStatements {
				t.Errorf("privilege-change: %d statements, %d records; csvlog %d statements, expected.json %d ROLE records",
					n, rec, csvc.roleStatements, exp.ByClass["ROLE"])
			}
			n, rec = sumRule(fs, "destructive-ddl")
			if rec != drops || n != csvc.destructiveStatements {
				t.Errorf("destructive-ddl: %d statements, %d records; csvlog %d statements, expected.json %d records",
					n, rec, csvc.destructiveStatements, drops)
			}
			n, _ = sumRule(fs, "auth-failure-burst")
			if want := exp.Connections["password_authentication_failed"]; n != want {
				t.Errorf("auth-failure-burst: %d failed logins, expected.json %d", n, want)
			}
			t.Logf("%s: privilege-change %d statements / %d records, destructive-ddl %d / %d, password failures %d",
				cluster, csvc.roleStatements, exp.ByClass["ROLE"], csvc.destructiveStatements, drops, exp.Connections["password_authentication_failed"])
		})
	}
}

// TestFindingsDASAndPgAuditCountOnce: with DAS and pgAudit both ingested
// (billing-prod's async stream lost records), each statement and each failed
// login still counts once, and the records are those of both sources.
func TestFindingsDASAndPgAuditCountOnce(t *testing.T) {
	st := gapsCase(t, "postgresql.log.2026-11-25-11.csv")
	ctx := context.Background()
	for _, cluster := range []string{"orders-prod", "billing-prod"} {
		t.Run(cluster, func(t *testing.T) {
			dir := filepath.Join(corpus, "pgaudit", cluster)
			var exp findingsExpectation
			readJSON(t, filepath.Join(dir, "expected.json"), &exp)
			csvc := readCSVLog(t, filepath.Join(dir, "postgresql.log.2026-11-25-11.csv"))
			fs, rerrs, err := findings.Run(ctx, st, findings.Options{Params: corpusParams})
			if err != nil {
				t.Fatal(err)
			}
			if len(rerrs) != 0 {
				t.Fatalf("rule errors: %v", rerrs)
			}
			var mine []findings.Finding
			for _, f := range fs {
				if len(f.Clusters) == 1 && f.Clusters[0] == cluster {
					mine = append(mine, f)
				}
			}
			count := func(q string) int64 { return scalar(t, st, q, cluster) }
			n, rec := sumRule(mine, "privilege-change")
			if want := count(`SELECT count(*) FROM audit_events WHERE cluster = ? AND class = 'ROLE'`); n != csvc.roleStatements || rec != want {
				t.Errorf("privilege-change: %d statements, %d records; want %d statements, %d records", n, rec, csvc.roleStatements, want)
			}
			n, rec = sumRule(mine, "destructive-ddl")
			if want := count(`SELECT count(*) FROM audit_events WHERE cluster = ? AND command IN ('DROP TABLE', 'DROP SCHEMA', 'DROP DATABASE', 'TRUNCATE TABLE')`); n != csvc.destructiveStatements || rec != want {
				t.Errorf("destructive-ddl: %d statements, %d records; want %d statements, %d records", n, rec, csvc.destructiveStatements, want)
			}
			n, rec = sumRule(mine, "auth-failure-burst")
			if want := exp.Connections["password_authentication_failed"]; n != want || rec != 2*want {
				t.Errorf("auth-failure-burst: %d attempts, %d records; want %d attempts in %d records", n, rec, want, 2*want)
			}
			for _, f := range mine {
				if f.RuleID == "capture-silence" {
					t.Errorf("capture silence on the corpus: %+v", f)
				}
			}
		})
	}
	// The finding's filter lists its events in the events view.
	fs, _, err := findings.Run(ctx, st, findings.Options{Only: []string{"destructive-ddl"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		page, err := st.Page(ctx, f.Filter(), nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(page)) != f.Records {
			t.Errorf("%s: events view lists %d events, finding has %d records", f.Key, len(page), f.Records)
		}
		for _, r := range page {
			if !destructive[r.Command] {
				t.Errorf("%s: event %d is a %s", f.Key, r.EventID, r.Command)
			}
		}
	}
}
