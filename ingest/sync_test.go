package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/ingest/das"
	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/ingest/source/s3/s3test"
	"github.com/auditlens/auditlens/store"
)

const corpus = "../testdata"

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "case.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func scalar(t *testing.T, st *store.Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestSyncPgAuditCorpus(t *testing.T) {
	ctx := context.Background()
	for _, cluster := range []string{"orders-prod", "billing-prod", "inventory-prod"} {
		t.Run(cluster, func(t *testing.T) {
			st := openStore(t)
			var exp struct {
				AuditRecordsTotal int64            `json:"audit_records_total"`
				Connections       map[string]int64 `json:"connections"`
				BySeverity        map[string]int64 `json:"by_error_severity"`
			}
			readJSON(t, filepath.Join(corpus, "pgaudit", cluster, "expected.json"), &exp)
			// Only the stderr log with the RDS name: the csv/json hold the same records.
			src, err := local.New(filepath.Join(corpus, "pgaudit", cluster, "postgresql.log.2026-11-25-11"))
			if err != nil {
				t.Fatal(err)
			}
			jobs := []Job{{Name: cluster + "-logs", Source: src, Decoder: PgAudit{Options: pgaudit.Options{Cluster: cluster}}}}
			var last Progress
			sum, err := Run(ctx, st, jobs, Options{Progress: func(p Progress) { last = p }})
			if err != nil {
				t.Fatal(err)
			}
			if !last.Done || last.ObjectsDone != 1 || last.Decoded != last.Events || last.Events == 0 {
				t.Errorf("final progress %+v", last)
			}
			if got := scalar(t, st, `SELECT count(*) FROM audit_events WHERE audit_type IS NOT NULL`); got != exp.AuditRecordsTotal {
				t.Errorf("audit records = %d, want %d", got, exp.AuditRecordsTotal)
			}
			if got := scalar(t, st, `SELECT count(*) FROM audit_events WHERE command = 'DISCONNECT'`); got != exp.Connections["disconnection"] {
				t.Errorf("disconnections = %d, want %d", got, exp.Connections["disconnection"])
			}
			if got := scalar(t, st, `SELECT count(*) FROM server_messages WHERE severity IN ('ERROR', 'FATAL')`); got != exp.BySeverity["ERROR"]+exp.BySeverity["FATAL"] {
				t.Errorf("server messages = %d, want %d", got, exp.BySeverity["ERROR"]+exp.BySeverity["FATAL"])
			}
			if dup := scalar(t, st, `SELECT count(*) - count(DISTINCT object_ref) FROM events`); dup != 0 {
				t.Errorf("%d duplicate object_ref", dup)
			}
			if tot := sum.Totals(); tot.New != 1 || tot.Events == 0 {
				t.Errorf("summary %+v", tot)
			}
			// A second run finds nothing new.
			sum, err = Run(ctx, st, jobs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tot := sum.Totals(); tot.New != 0 || tot.Skipped != 1 {
				t.Errorf("re-sync %+v", tot)
			}
		})
	}
}

// dasEnv serves a DAS corpus folder from the fake S3 and its keys from the fake KMS.
type dasEnv struct {
	s3  *s3test.Server
	kms *kmsfake.Server
	dec *das.Decoder
}

func newDASEnv(t *testing.T, folders ...string) *dasEnv {
	t.Helper()
	srv := s3test.Start(t, "das-bucket")
	table := map[string]kmsfake.Key{}
	for _, f := range folders {
		root := filepath.Join(corpus, "das", f, "s3")
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			return srv.Put(f+"/"+filepath.ToSlash(rel), b)
		})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kmsfake.LoadKeysJSON(filepath.Join(corpus, "das", f, "keys.json"))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range keys {
			table[k] = v
		}
	}
	fake := kmsfake.New(table)
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	// The real SDK client reaches the fake through the standard endpoint variable.
	t.Setenv("AWS_ENDPOINT_URL_KMS", hs.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	client, err := das.NewKMSClient(context.Background(), "us-east-1", "")
	if err != nil {
		t.Fatal(err)
	}
	dec, err := das.NewDecoder(das.NewKMS(client))
	if err != nil {
		t.Fatal(err)
	}
	return &dasEnv{s3: srv, kms: fake, dec: dec}
}

func (e *dasEnv) job(t *testing.T, folder, cluster, resourceID, mode string) Job {
	t.Helper()
	src, err := e.s3.Source(context.Background(), folder+"/")
	if err != nil {
		t.Fatal(err)
	}
	return Job{Name: cluster + "-das", Source: source.Retrying(src, source.RetryPolicy{}),
		Decoder: DAS{Decoder: e.dec, Options: das.Options{Cluster: cluster, ResourceID: resourceID, Mode: mode}}}
}

func TestSyncDASFromS3WithFaults(t *testing.T) {
	ctx := context.Background()
	env := newDASEnv(t, "orders-prod", "billing-prod")
	var want int64
	var wantHB int64
	var jobs []Job
	for _, c := range []struct{ folder, mode string }{{"orders-prod", "sync"}, {"billing-prod", "async"}} {
		var exp struct {
			ResourceID string `json:"cluster_resource_id"`
		}
		readJSON(t, filepath.Join(corpus, "das", c.folder, "expected.json"), &exp)
		var tot struct {
			Totals map[string]int64 `json:"totals"`
		}
		readJSON(t, filepath.Join(corpus, "das", c.folder, "expected.json"), &tot)
		want += tot.Totals["record_events"]
		wantHB += tot.Totals["heartbeat_events"]
		jobs = append(jobs, env.job(t, c.folder, c.folder, exp.ResourceID, c.mode))
	}
	// Every kind of fault on object reads: 503 SlowDown, reset mid-body,
	// truncated body, slow response.
	env.s3.SetFaults(s3test.Faults{Rate: 0.5, Seed: 7, Only: s3test.GetObjects})
	st := openStore(t)
	sum, err := Run(ctx, st, jobs, Options{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if tot := sum.Totals(); tot.Failed != 0 || tot.Quarantined != 0 || tot.Rejects != 0 {
		t.Fatalf("faults leaked into the result: %+v %+v", tot, sum.Sources[0].Problems)
	}
	if got := scalar(t, st, `SELECT count(*) FROM events`); got != want {
		t.Errorf("events = %d, want %d", got, want)
	}
	if got := scalar(t, st, `SELECT count(*) FROM heartbeats`); got != wantHB {
		t.Errorf("heartbeats = %d, want %d", got, wantHB)
	}
	if dup := scalar(t, st, `SELECT count(*) - count(DISTINCT object_ref) FROM events`); dup != 0 {
		t.Errorf("%d duplicate object_ref", dup)
	}
	// Each DAS event keeps its own JSON as the raw record: its session and
	// statement are the event's. (An error record's command is null, so the
	// command cannot tell.)
	for ref, raw := range rawByRef(t, st) {
		var ev struct {
			Class       string `json:"class"`
			SessionID   string `json:"sessionId"`
			CommandText string `json:"commandText"`
		}
		if err := json.Unmarshal([]byte(raw), &ev); err != nil || ev.Class == "" {
			t.Fatalf("%s: raw %.80q is not a DAS event (%v)", ref, raw, err)
		}
		var session, stmt sql.NullString
		if err := st.DB().QueryRowContext(ctx, `SELECT session_id, statement FROM events WHERE object_ref = ?`, ref).Scan(&session, &stmt); err != nil {
			t.Fatal(err)
		}
		if session.String != ev.SessionID || stmt.String != ev.CommandText {
			t.Fatalf("%s: raw record of another event: session %q / %q, statement %.60q / %.60q", ref, ev.SessionID, session.String, ev.CommandText, stmt.String)
		}
	}
	if s := env.s3.Stats(); len(s.Injected) < 3 {
		t.Errorf("too few kinds of fault injected: %+v", s)
	}
	sum, err = Run(ctx, st, jobs, Options{})
	if err != nil || sum.Totals().New != 0 {
		t.Errorf("re-sync: %+v %v", sum.Totals(), err)
	}
}

func TestSyncDASCorruptObjects(t *testing.T) {
	ctx := context.Background()
	env := newDASEnv(t, "corrupt")
	var exp struct {
		ResourceID string `json:"cluster_resource_id"`
		Totals     map[string]int64
	}
	readJSON(t, filepath.Join(corpus, "das", "corrupt", "expected.json"), &exp)
	st := openStore(t)
	sum, err := Run(ctx, st, []Job{env.job(t, "corrupt", "corrupt-test", exp.ResourceID, "sync")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tot := sum.Totals()
	if tot.New != exp.Totals["objects"] || tot.Events != exp.Totals["good_record_events"] || tot.Rejects != exp.Totals["rejected_records"] {
		t.Errorf("corrupt totals %+v, want %v", tot, exp.Totals)
	}
	if got := scalar(t, st, `SELECT count(*) FROM heartbeats`); got != exp.Totals["good_heartbeats"] {
		t.Errorf("heartbeats = %d", got)
	}
	if sum.Clean() {
		t.Error("summary of corrupt objects says clean")
	}
	var reasons []string
	rows, _ := st.DB().Query(`SELECT DISTINCT reason FROM rejects ORDER BY 1`)
	for rows.Next() {
		var r string
		_ = rows.Scan(&r)
		reasons = append(reasons, r)
	}
	rows.Close()
	if got := strings.Join(reasons, ","); got != "base64,decrypt-auth,gzip,json,kms-context,kms-unknown-key,truncated" {
		t.Errorf("reject reasons %s", got)
	}
}

// TestSyncLargeObjectStreams makes one object larger than the buffer so the
// writer streams it, and checks nothing is lost or doubled.
func TestSyncLargeObjectStreams(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(corpus, "pgaudit", "orders-prod", "postgresql.log.2026-11-25-11")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "postgresql.log.2026-11-25-11"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	ls, _ := local.New(dir)
	st := openStore(t)
	_, err = Run(ctx, st, []Job{{Name: "x", Source: ls, Decoder: PgAudit{Options: pgaudit.Options{Cluster: "c", BatchSize: 100}}}},
		Options{BufferRows: 150})
	if err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t)
	_, err = Run(ctx, st2, []Job{{Name: "x", Source: ls, Decoder: PgAudit{Options: pgaudit.Options{Cluster: "c"}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, c := scalar(t, st, `SELECT count(*) FROM events`), scalar(t, st2, `SELECT count(*) FROM events`)
	if a != c || a == 0 {
		t.Errorf("streamed %d events, buffered %d", a, c)
	}
	// The raw records, packed on the decoding side either way, are the log's
	// messages, the same whichever way the object went.
	streamed, buffered := rawByRef(t, st), rawByRef(t, st2)
	if len(streamed) == 0 || len(streamed) != len(buffered) {
		t.Fatalf("raw records: %d streamed, %d buffered", len(streamed), len(buffered))
	}
	for ref, raw := range streamed {
		first, _, _ := strings.Cut(raw, "\n") // continuation lines lose their TAB
		if raw != buffered[ref] || first == "" || !strings.Contains(string(b), first) {
			t.Fatalf("%s: raw %.80q (buffered %.80q) is not a message of the log", ref, raw, buffered[ref])
		}
	}
}

// rawByRef returns the raw record of every 7th event, by object_ref.
func rawByRef(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := st.DB().QueryContext(ctx, `SELECT event_id, object_ref FROM events WHERE event_id % 7 = 0`)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]string{}
	for rows.Next() {
		var id int64
		var ref string
		if err := rows.Scan(&id, &ref); err != nil {
			t.Fatal(err)
		}
		ids[id] = ref
	}
	rows.Close()
	out := map[string]string{}
	for id, ref := range ids {
		raw, err := st.Raw(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out[ref] = raw
	}
	return out
}
