package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest/das"
	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/store/model"
)

// The generated case is shared by the tests: generating it is the slow part.
var shared struct {
	once sync.Once
	ds   *Dataset
	err  error
	took time.Duration
}

func dataset(t *testing.T) *Dataset {
	t.Helper()
	shared.once.Do(func() {
		start := time.Now()
		shared.ds, shared.err = Generate(context.Background(), Options{Seed: 42, Events: 20_000})
		shared.took = time.Since(start)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.ds
}

func TestDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the case three times")
	}
	a := dataset(t)
	b, err := Generate(context.Background(), Options{Seed: 42, Events: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest {
		t.Fatalf("same seed, different content: %s vs %s", a.Digest, b.Digest)
	}
	if len(a.Objects) != len(b.Objects) || fmt.Sprint(a.Stats) != fmt.Sprint(b.Stats) || fmt.Sprint(a.Incidents) != fmt.Sprint(b.Incidents) {
		t.Fatal("same seed, different objects, stats or incidents")
	}
	c, err := Generate(context.Background(), Options{Seed: 43, Events: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest == a.Digest {
		t.Fatal("another seed gave the same content")
	}
}

// decoded is what the real decoders make of the dataset, per cluster.
type decoded struct {
	pg, das    []model.Event
	heartbeats int
	alive      map[string][]time.Time // per instance: DAS events and heartbeats
	rejects    []string
}

// tableKMS answers data-key requests from the dataset's key table with KMS's
// rule for the encryption context, without HTTP (the CLI test covers that).
type tableKMS map[string]kmsfake.Key

func (k tableKMS) DecryptDataKey(_ context.Context, blob []byte, encCtx map[string]string) ([]byte, error) {
	key, ok := k[base64.StdEncoding.EncodeToString(blob)]
	if !ok || !maps.Equal(key.EncryptionContext, encCtx) {
		return nil, &das.KeyError{Kind: das.KeyUnknown, Code: "InvalidCiphertextException", Final: true, Err: fmt.Errorf("unknown key")}
	}
	return bytes.Clone(key.Plaintext), nil
}

func decodeAll(t *testing.T, ds *Dataset) map[string]*decoded {
	t.Helper()
	ctx := context.Background()
	dec, err := das.NewDecoder(tableKMS(ds.Keys))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*decoded{}
	for _, src := range ds.Sources {
		d := out[src.Cluster]
		if d == nil {
			d = &decoded{alive: map[string][]time.Time{}}
			out[src.Cluster] = d
		}
		emit := func(b *model.Batch) error {
			for _, e := range b.Events {
				e.Raw = ""
				if e.Source == model.SourceDAS {
					d.das = append(d.das, e)
					d.alive[e.Instance] = append(d.alive[e.Instance], e.LogTime)
				} else {
					d.pg = append(d.pg, e)
				}
			}
			d.heartbeats += len(b.Heartbeats)
			for _, h := range b.Heartbeats {
				d.alive[h.Instance] = append(d.alive[h.Instance], h.LogTime)
			}
			for _, r := range b.Rejects {
				d.rejects = append(d.rejects, fmt.Sprintf("%s: %s %s", src.Name, r.Reason, r.Detail))
			}
			return nil
		}
		for _, o := range ds.Objects {
			if !strings.HasPrefix(o.Key, src.Prefix) {
				continue
			}
			ref := "s3://" + Bucket + "/" + o.Key
			switch src.Kind {
			case "pgaudit":
				st, err := pgaudit.Decode(ctx, ref, bytes.NewReader(o.Data), pgaudit.Options{Cluster: src.Cluster}, emit)
				if err != nil {
					t.Fatal(err)
				}
				if want := pgaudit.FormatStderr; src.Cluster == "inventory-prod" && st.Format != pgaudit.FormatCSVLog || src.Cluster != "inventory-prod" && st.Format != want {
					t.Errorf("%s: format %s", o.Key, st.Format)
				}
			case "das":
				if _, err := dec.Decode(ctx, ref, o.Key, bytes.NewReader(o.Data), das.Options{Cluster: src.Cluster, Mode: src.Mode}, emit); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return out
}

// key is what gap analysis pairs a statement record on.
func key(e model.Event) string {
	return fmt.Sprintf("%s|%d|%d|%s|%s", e.SessionID, *e.StatementID, *e.SubstatementID, e.Class, e.Command)
}

// statements are the records gap analysis reconciles: statement ids set, no
// connections, no rdsadmin, and on the pgAudit side SESSION records.
func statements(evs []model.Event) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		if e.StatementID == nil || e.SubstatementID == nil || e.SessionID == "" || e.Internal ||
			e.Class == model.ClassConnect || e.Command == "CONNECT" || e.Command == "DISCONNECT" ||
			(e.Source == model.SourcePgAudit && e.AuditType != "SESSION") {
			continue
		}
		m[key(e)]++
	}
	return m
}

func TestDecodersAndReconciliation(t *testing.T) {
	ds := dataset(t)
	t.Logf("generated %d objects (%d bytes) in %v", len(ds.Objects), ds.Bytes(), shared.took)
	got := decodeAll(t, ds)
	for _, st := range ds.Stats {
		d := got[st.Cluster]
		t.Logf("%+v", st)
		if len(d.rejects) > 0 {
			t.Errorf("%s: %d rejects, first: %s", st.Cluster, len(d.rejects), d.rejects[0])
		}
		if len(d.pg) != st.PgAuditEvents {
			t.Errorf("%s: pgAudit events %d, generated %d", st.Cluster, len(d.pg), st.PgAuditEvents)
		}
		if len(d.das) != st.DASEvents || d.heartbeats != st.DASHeartbeats {
			t.Errorf("%s: DAS events %d heartbeats %d, generated %d and %d", st.Cluster, len(d.das), d.heartbeats, st.DASEvents, st.DASHeartbeats)
		}
		// The gap report flags 30 s without a sign of life from an instance:
		// only the async stream's losses may do that.
		for inst, ts := range d.alive {
			slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
			for i := 1; i < len(ts); i++ {
				if gap := ts[i].Sub(ts[i-1]); gap > 30*time.Second && !(st.Mode == "async" && inSpike(ds, ts[i])) {
					t.Errorf("%s %s: %v without events or heartbeats after %v", st.Cluster, inst, gap, ts[i-1])
					break
				}
			}
		}
		pg, dd := statements(d.pg), statements(d.das)
		nPG, nDAS, missing, extra := 0, 0, 0, 0
		for k, n := range pg {
			nPG += n
			missing += max(0, n-dd[k])
		}
		for k, n := range dd {
			nDAS += n
			extra += max(0, n-pg[k])
		}
		if nPG != st.Statements {
			t.Errorf("%s: %d pgAudit statements, generated %d", st.Cluster, nPG, st.Statements)
		}
		if extra != 0 {
			t.Errorf("%s: %d DAS statements have no pgAudit record: session ids or statement ids disagree", st.Cluster, extra)
		}
		switch st.Mode {
		case "sync":
			if missing != 0 {
				t.Errorf("%s (sync): %d statements missing in DAS", st.Cluster, missing)
			}
		case "async":
			if missing == 0 || missing != st.LostStatements {
				t.Errorf("%s (async): %d statements missing in DAS, generated loss %d", st.Cluster, missing, st.LostStatements)
			}
		default:
			if nDAS != 0 {
				t.Errorf("%s: DAS statements on a pgAudit-only cluster", st.Cluster)
			}
		}
	}
}

func inSpike(ds *Dataset, t time.Time) bool {
	for _, w := range ds.LossWindows {
		if !t.Before(w.Start) && !t.After(w.End.Add(30*time.Minute)) {
			return true
		}
	}
	return false
}

func TestStory(t *testing.T) {
	ds := dataset(t)
	got := decodeAll(t, ds)
	orders, billing := got["orders-prod"], got["billing-prod"]
	for name, evs := range map[string][]model.Event{"pgaudit": orders.pg, "das": orders.das} {
		var fails, drops, escal int
		var success bool
		for _, e := range evs {
			switch {
			case e.Command == "CONNECT" && e.RemoteHost == attacker && e.ErrorMessage != "":
				fails++
			case e.Command == "CONNECT" && e.RemoteHost == attacker:
				success = true
			case e.Command == "DROP TABLE" && e.ObjectName == droppedName:
				drops++
				if e.UserName != opsAdmin || e.LogTime.Hour() != 2 {
					t.Errorf("%s: drop by %s at %v", name, e.UserName, e.LogTime)
				}
			case e.Class == "ROLE" && e.UserName == opsAdmin:
				escal++
			}
		}
		if fails != 38 || !success || drops != 1 || escal != 4 {
			t.Errorf("%s: %d failed logins, success %v, %d drops, %d role statements", name, fails, success, drops, escal)
		}
	}
	pages := map[string]int{}
	for _, e := range billing.pg {
		if e.UserName == "j.miller" && e.AuditType == "SESSION" && e.RowCount != nil && *e.RowCount == 50000 {
			pages["pgaudit"]++
		}
	}
	for _, e := range billing.das {
		if e.UserName == "j.miller" && e.RowCount != nil && *e.RowCount == 50000 {
			pages["das"]++
		}
	}
	if pages["pgaudit"] != 12 || pages["das"] >= 12 || pages["das"] == 0 {
		t.Errorf("bulk reads of billing.cards: %v (want 12 in pgAudit, some but not all in DAS)", pages)
	}
	if len(ds.Incidents) < 6 {
		t.Errorf("incidents: %v", ds.Incidents)
	}
}
