package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

// Raw records come back exactly from their compressed blocks: across block
// boundaries, for events without one, for objects written alone or in a
// group, and a quarantined object leaves no block behind.
func TestRawBlocks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	want := map[int64]string{}
	mk := func(obj, n int) []model.Event {
		evs := make([]model.Event, n)
		for i := range evs {
			evs[i] = ev(i, "alice", "READ", "SELECT", "SELECT 1")
			evs[i].ObjectRef = fmt.Sprintf("o%d:%d", obj, i)
			switch i % 5 {
			case 0:
				evs[i].Raw = "" // no raw record
			case 1:
				evs[i].Raw = strings.Repeat(fmt.Sprintf("long record %d of object %d, ", i, obj), 200)
			default:
				evs[i].Raw = fmt.Sprintf("AUDIT: SESSION,%d,1,READ,SELECT,,,\"SELECT 'x\nline', 1\",<none>\x00\xff", i)
			}
		}
		return evs
	}
	record := func(rec ObjectRecord, evs []model.Event) {
		// Ids are consecutive from the object's first.
		var first int64
		if err := s.db.QueryRowContext(ctx, "SELECT min(event_id) FROM events WHERE object_id = ?", rec.ObjectID).Scan(&first); err != nil {
			t.Fatal(err)
		}
		for i, e := range evs {
			want[first+int64(i)] = validUTF8(e.Raw)
		}
	}
	// Alone, large enough for several blocks (each long record is ~6 KB).
	big := mk(1, 900)
	tx, err := s.BeginObject(ctx, ObjectMeta{Source: "t", URI: "/o1", Key: "/o1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(big); i += 100 { // several batches, some packed by the decoder's side
		b := &model.Batch{Events: append([]model.Event(nil), big[i:i+100]...)}
		if i%300 == 100 {
			if err := PackRaw(b); err != nil || b.PackedRaw == nil || b.Events[1].Raw != "" {
				t.Fatalf("PackRaw: %v", err)
			}
		}
		if err := tx.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := tx.Commit("sha")
	if err != nil {
		t.Fatal(err)
	}
	record(rec, big)
	// In a group, next to a quarantined object.
	g, err := s.BeginGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	small := mk(2, 7)
	otx := g.Object(ObjectMeta{Source: "t", URI: "/o2", Key: "/o2"})
	if err := otx.Append(&model.Batch{Events: small}); err != nil {
		t.Fatal(err)
	}
	rec2, err := otx.Commit("sha2")
	if err != nil {
		t.Fatal(err)
	}
	qtx := g.Object(ObjectMeta{Source: "t", URI: "/o3", Key: "/o3"})
	if err := qtx.Append(&model.Batch{Events: mk(3, 600)}); err != nil {
		t.Fatal(err)
	}
	qtx.Quarantine(model.ReasonRead, "cut off")
	if _, err := qtx.Commit("sha3"); err != nil {
		t.Fatal(err)
	}
	if err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	record(rec2, small)

	var blocks, quarantined int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*), count(*) FILTER (WHERE object_id = ?) FROM raw_blocks", qtx.ObjectID()).Scan(&blocks, &quarantined); err != nil {
		t.Fatal(err)
	}
	if blocks < 3 || quarantined != 0 {
		t.Errorf("raw_blocks: %d blocks, %d of the quarantined object", blocks, quarantined)
	}
	for id, w := range want {
		got, err := s.Raw(ctx, id)
		if err != nil || got != w {
			t.Fatalf("Raw(%d) = %.60q, %v; want %.60q", id, got, err, w)
		}
	}
	var inColumn int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE raw IS NOT NULL").Scan(&inColumn); err != nil || inColumn != 0 {
		t.Errorf("events.raw set on %d rows (%v)", inColumn, err)
	}
}

// A damaged block is reported, not mistaken for another record.
func TestRawRecordDamaged(t *testing.T) {
	enc, _, err := zstdCodec()
	if err != nil {
		t.Fatal(err)
	}
	var b rawBlock
	b.add(10, "first")
	b.add(11, "second")
	data := enc.EncodeAll(b.buf, nil)
	if got, err := rawRecord(rawCodec, data, 1); err != nil || got != "second" {
		t.Errorf("record 1 = %q, %v", got, err)
	}
	if _, err := rawRecord(rawCodec, data, 2); err == nil {
		t.Error("record past the end: no error")
	}
	if _, err := rawRecord(rawCodec, data[:len(data)/2], 0); err == nil {
		t.Error("truncated block: no error")
	}
	if _, err := rawRecord("lz4", data, 0); err == nil {
		t.Error("unknown codec: no error")
	}
}

// A case file from before raw_blocks opens read-only as it is (a forensic
// copy is never changed) and shows its raw records from events.raw; opened
// read-write it is migrated, and the old records still show.
func TestSchemaOneReadOnly(t *testing.T) {
	ctx := context.Background()
	s, p := openTemp(t)
	writeObject(t, s, "/old", []model.Event{ev(1, "alice", "READ", "SELECT", "SELECT 1")})
	for _, q := range []string{
		"DROP TABLE raw_blocks",
		"DELETE FROM schema_version WHERE version >= 2",
		"UPDATE events SET raw = 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>'",
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var id int64
	ro, err := Open(ctx, p, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a schema 1 case file: %v", err)
	}
	if err := ro.db.QueryRowContext(ctx, "SELECT min(event_id) FROM events").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if raw, err := ro.Raw(ctx, id); err != nil || raw != "AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>" {
		t.Errorf("raw from events.raw: %q, %v", raw, err)
	}
	var tables int
	_ = ro.db.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'raw_blocks'").Scan(&tables)
	_ = ro.Close()
	if tables != 0 {
		t.Error("a read-only open changed the case file")
	}
	rw, err := Open(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if raw, err := rw.Raw(ctx, id); err != nil || raw == "" {
		t.Errorf("raw after migration: %q, %v", raw, err)
	}
	var v int
	if err := rw.db.QueryRowContext(ctx, "SELECT max(version) FROM schema_version").Scan(&v); err != nil || v != SchemaVersion() {
		t.Errorf("schema after a read-write open: %d, %v", v, err)
	}
}

// A group whose raw records far exceed a small buffer pool still commits: each block is stored in small parts (large values once failed the
// commit with "failed to pin block"), and each record reads back exactly.
// With one DuckDB thread it runs within 32 MB; with the bulk settings (the
// feed on, small objects through the appender) within their 64 MB.
func TestRawBlocksOverBulkPool(t *testing.T) {
	t.Run("one-thread-32MB", func(t *testing.T) { rawBlocksOverPool(t, false, "32MB") })
	t.Run("bulk-64MB", func(t *testing.T) { rawBlocksOverPool(t, true, "64MB") })
}

func rawBlocksOverPool(t *testing.T, feed bool, pool string) {
	ctx := context.Background()
	s := openTuned(t)
	if s.feedOn.Load() != feed {
		if feed {
			t.Fatal("no feed under the bulk settings")
		}
		s.feedOn.Store(false)
		if _, err := s.db.ExecContext(ctx, "SET threads = 1"); err != nil {
			t.Fatal(err)
		}
	}
	// Tight enough that the raw records exceed it several times over.
	if err := s.SetMemoryLimit(ctx, pool); err != nil {
		t.Fatal(err)
	}
	g, err := s.BeginGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	noise := func(n int) string { // incompressible, like real JSON under zstd is not
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('!' + rnd.IntN(90))
		}
		return string(b)
	}
	var total int
	want := map[int]string{}
	for o := range 160 {
		tx := g.Object(ObjectMeta{Source: "t", URI: fmt.Sprint("/das/", o), Key: fmt.Sprint(o)})
		evs := make([]model.Event, 500)
		for i := range evs {
			evs[i] = ev(i, "alice", "READ", "SELECT", "SELECT 1")
			evs[i].Raw = noise(600)
			total += 600
			if i == 17 {
				want[o*500+i] = evs[i].Raw
			}
		}
		packAndCommit(t, tx, evs)
	}
	if err := g.Commit(); err != nil {
		t.Fatalf("commit of %d MB of raw records: %v", total>>20, err)
	}
	var biggest int64
	if err := s.db.QueryRowContext(ctx, "SELECT max(octet_length(data)) FROM raw_blocks").Scan(&biggest); err != nil || biggest > rawPartBytes {
		t.Errorf("largest part %d bytes (%v), want ≤ %d", biggest, err, rawPartBytes)
	}
	var first int64
	if err := s.db.QueryRowContext(ctx, "SELECT min(event_id) FROM events").Scan(&first); err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		if got, err := s.Raw(ctx, first+int64(k)); err != nil || got != w {
			t.Fatalf("raw of event %d: %.40q, %v", first+int64(k), got, err)
		}
	}
}

// Values larger than a DuckDB block (hostile 10 MB statements) are held in
// memory by the writing transaction until it commits, and again by any
// checkpoint that rewrites their row group: the writer raises the bulk
// writers' small memory limit for them for the rest of the run, so that both
// the group and the later groups (whose commits checkpoint) succeed.
func TestLargeValuesInBulkGroup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	// Put back before the last read, as the commands do.
	restore, err := s.TuneForBulkWrites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	limit := func() string {
		var v string
		if err := s.db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := limit()
	g, err := s.BeginGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for o := range bigCount() {
		tx := g.Object(ObjectMeta{Source: "t", URI: fmt.Sprint("/big/", o), Key: fmt.Sprint(o)})
		e := ev(o, "alice", "READ", "SELECT", "SELECT '"+strings.Repeat(fmt.Sprint(o%10), 10<<20)+"'")
		e.Raw = e.Statement
		packAndCommit(t, tx, []model.Event{e})
	}
	if err := g.Commit(); err != nil {
		t.Fatalf("commit of 12 × 10 MB statements: %v", err)
	}
	if after := limit(); after == before {
		t.Errorf("memory limit still %s after 12 large values", after)
	}
	// Later groups of ordinary events fill the WAL, and their commits
	// checkpoint the large values under the small limit.
	for k := range 3 {
		g, err := s.BeginGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx := g.Object(ObjectMeta{Source: "t", URI: fmt.Sprint("/small/", k), Key: fmt.Sprint("s", k)})
		evs := make([]model.Event, 60_000)
		for i := range evs {
			evs[i] = ev(i, "bob", "WRITE", "UPDATE", fmt.Sprintf("UPDATE t SET x = %d WHERE id = %d -- %s", i, k, strings.Repeat("y", 200)))
		}
		if err := tx.Append(&model.Batch{Events: evs}); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Commit("sha"); err != nil {
			t.Fatal(err)
		}
		if err := g.Commit(); err != nil {
			t.Fatalf("group %d after the large values: %v", k, err)
		}
	}
	restore() // as the commands do before they read or close
	var n, length int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*), min(length(statement)) FROM events WHERE user_name = 'alice'").Scan(&n, &length); err != nil || int(n) != bigCount() || length != 10<<20+9 {
		t.Errorf("%d events, shortest statement %d bytes (%v)", n, length, err)
	}
}

func bigCount() int {
	if n, err := strconv.Atoi(os.Getenv("AUDITLENS_TEST_BIG")); err == nil {
		return n
	}
	return 12
}

// packAndCommit packs evs' raw records as the sync's decoders do, then
// appends and commits them as tx's only batch.
func packAndCommit(t *testing.T, tx *ObjectTx, evs []model.Event) {
	t.Helper()
	b := &model.Batch{Events: evs}
	if err := PackRaw(b); err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(b); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit("sha"); err != nil {
		t.Fatal(err)
	}
}
