package export

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/model"
)

// TestSQLLinesMatchWriters checks that the CSV records and JSONL lines DuckDB
// builds are the same bytes, with the same manifest alterations, as the Go
// writers', for every option.
func TestSQLLinesMatchWriters(t *testing.T) {
	ctx := context.Background()
	p := caseFile(t)
	// More values whose text must match exactly: JSON escapes in params and
	// fractions of seconds.
	st, err := store.Open(ctx, p, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ctl strings.Builder
	for c := 0; c < 0x20; c++ {
		ctl.WriteByte(byte(c))
	}
	ctl.WriteString("\x7f <b>&amp; \u2028\u2029 \\ / \" é 😀")
	var evs []model.Event
	for i, frac := range []time.Duration{0, 100 * time.Millisecond, time.Microsecond, 123456 * time.Microsecond, 999999 * time.Microsecond} {
		evs = append(evs, model.Event{Source: model.SourcePgAudit, Cluster: "c,\"q\"", LogTime: time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC).Add(frac),
			Statement: fmt.Sprintf("s%d", i), Params: []string{ctl.String(), "", "=x", "a\r\nb"}, ObjectRef: "r", UserName: "@u",
			RowCount: model.Int64(-int64(i))})
	}
	evs = append(evs, model.Event{Source: model.SourcePgAudit, LogTime: time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600)),
		Params: []string{}, ObjectRef: "r2", Statement: "-"})
	tx, err := st.BeginObject(ctx, store.ObjectMeta{Source: "s", URI: "s3://b/extra", Key: "extra", ETag: "e", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(strings.Repeat("1", 64)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openStore(t, p, true)
	dir := t.TempDir()
	// The filter's columns all have a SQL rendering, so the comparison below
	// is between the two paths.
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, redact := range []Redaction{RedactNone, RedactParams, RedactLiterals} {
		tbl, err := materializeFilter(ctx, conn, store.Filter{}, redact)
		if err != nil {
			t.Fatal(err)
		}
		_, csvOK := csvLineQuery(tbl, Request{Format: CSV, Redact: redact})
		_, jsonlOK := jsonlLineQuery(tbl)
		tbl.close()
		if !csvOK || !jsonlOK {
			t.Fatalf("%s: no SQL rendering (csv %v, jsonl %v)", redact, csvOK, jsonlOK)
		}
	}
	conn.Close()
	for _, req := range []Request{
		{Redact: RedactNone, NoNeutralize: true, BOM: true},
		{Redact: RedactNone},
		{},
		{Redact: RedactLiterals},
		{Redact: RedactLiterals, NoNeutralize: true},
		{Filter: &store.Filter{Clusters: []string{"nothing"}}},
		{Format: JSONL},
		{Format: JSONL, Redact: RedactParams},
		{Format: JSONL, Redact: RedactLiterals},
		{Format: JSONL, Filter: &store.Filter{Clusters: []string{"nothing"}}},
	} {
		if req.Filter == nil {
			req.Filter = &store.Filter{}
		}
		if req.Format == "" {
			req.Format = CSV
		}
		name := fmt.Sprintf("%s-%s-%v-%v", req.Format, req.Redact, req.NoNeutralize, req.BOM)
		out := func(kind string) (Manifest, []byte) {
			t.Helper()
			req.Out = filepath.Join(dir, name+"-"+kind+"."+string(req.Format))
			sqlCSVDisabled, sqlJSONLDisabled = kind == "go", kind == "go"
			defer func() { sqlCSVDisabled, sqlJSONLDisabled = false, false }()
			m := run(t, st, req)
			b, err := os.ReadFile(req.Out)
			if err != nil {
				t.Fatal(err)
			}
			return m, b
		}
		mg, bg := out("go")
		mc, bc := out("copy")
		if !bytes.Equal(bg, bc) {
			lg, lc := bytes.Split(bg, []byte("\n")), bytes.Split(bc, []byte("\n"))
			for i := range min(len(lg), len(lc)) {
				if !bytes.Equal(lg[i], lc[i]) {
					t.Fatalf("%s: line %d differs:\n go   %.300q\n copy %.300q", name, i, lg[i], lc[i])
				}
			}
			t.Fatalf("%s: %d lines from go, %d from copy", name, len(lg), len(lc))
		}
		if mg.Alterations != mc.Alterations || mg.Rows != mc.Rows || mg.Files[0].SHA256 != mc.Files[0].SHA256 {
			t.Fatalf("%s: manifests differ: %+v %+v", name, mg, mc)
		}
	}
}
