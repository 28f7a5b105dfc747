package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// DuckDB VARCHARs are valid UTF-8, but a writer must not produce a broken file
// from any Go string: check them directly with invalid UTF-8, NUL and controls.
func TestWritersWithRawStrings(t *testing.T) {
	cols := []column{{"s", "VARCHAR"}, {"n", "BIGINT"}, {"b", "BLOB"}}
	vals := [][]any{
		{"bad \xff\xfe utf-8", int64(-2), []byte{0xff, 0}},
		{"nul\x00 and \x01\x1b[0m", int64(1 << 60), nil},
		{"-1", nil, []byte("=x")},
	}

	var buf bytes.Buffer
	alt := &Alterations{}
	cw := &csvWriter{w: &buf, neutral: true, alt: alt}
	writeAll(t, cw, cols, vals)
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[1][0] != "bad \xff\xfe utf-8" || recs[2][0] != "nul\x00 and \x01\x1b[0m" || recs[3][0] != "'-1" ||
		recs[1][1] != "-2" || recs[1][2] != `\xff00` || recs[3][2] != `\x3d78` || alt.NeutralizedCells != 1 {
		t.Fatalf("csv: %q %+v", recs, alt)
	}

	buf.Reset()
	jw := &jsonlWriter{w: &buf}
	writeAll(t, jw, cols, vals)
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !json.Valid([]byte(line)) || !utf8.ValidString(line) {
			t.Fatalf("jsonl line not valid JSON/UTF-8: %q", line)
		}
	}
	if !strings.Contains(buf.String(), `"bad \ufffd\ufffd utf-8"`) || !strings.Contains(buf.String(), `nul\u0000 and \u0001\u001b[0m`) ||
		!strings.Contains(buf.String(), `"n":1152921504606846976`) {
		t.Fatalf("jsonl: %s", buf.String())
	}

	buf.Reset()
	alt = &Alterations{}
	xw := newXLSXWriter(&buf, t.TempDir(), true, alt)
	writeAll(t, xw, cols, vals)
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("export", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][0] != "bad \uFFFD\uFFFD utf-8" || rows[2][0] != "nul\uFFFD and \uFFFD\uFFFD[0m" || rows[3][0] != "'-1" ||
		rows[1][1] != "-2" || rows[2][1] != "1152921504606846976" || alt.ReplacedCharacterCells != 2 || alt.Sheets != 1 {
		t.Fatalf("xlsx: %q %+v", rows, alt)
	}
}

func writeAll(t *testing.T, w rowWriter, cols []column, vals [][]any) {
	t.Helper()
	if err := w.header(cols); err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		if err := w.row(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.finish(); err != nil {
		t.Fatal(err)
	}
}

func TestCutForExcel(t *testing.T) {
	s := strings.Repeat("😀", 20000) // 40,000 UTF-16 units
	c, cut := cutForExcel(s)
	units := 0
	for _, r := range c {
		units += utf16Len(r)
	}
	if !cut || units > xlsxMaxChars || !strings.Contains(c, "cut by auditlens: 40000 characters") || !utf8.ValidString(c) {
		t.Fatalf("cut %v, %d units", cut, units)
	}
	if c, cut := cutForExcel(strings.Repeat("a", xlsxMaxChars)); cut || len(c) != xlsxMaxChars {
		t.Fatal("a cell at the limit was cut")
	}
}

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{"=1": "'=1", "+1": "'+1", "-1": "'-1", "@a": "'@a", "\tx": "'\tx", "\rx": "'\rx",
		"a=1": "a=1", "": "", " =1": " =1", "'=1": "'=1"} {
		if got, _ := neutralize(in); got != want {
			t.Errorf("neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}
