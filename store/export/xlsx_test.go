package export

import (
	"bytes"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The workbook writer's text must read back unchanged in excelize, including
// what XML or the OOXML string escape (_xHHHH_) would otherwise alter, and
// long exports continue on further sheets, each with its header, frozen pane
// and autofilter.
func TestXLSXWriterSheetsAndEscapes(t *testing.T) {
	defer func(n int) { xlsxMaxRows = n }(xlsxMaxRows)
	xlsxMaxRows = 3
	texts := []string{"_x0041_ and _x005F_ and _xD800_ and _x12", " lead", "trail\t", "a\r\nb\rc\nd", `<&>"'`, "\ttab", "plain", ""}
	cols := []column{{"s", "VARCHAR"}, {"n", "BIGINT"}, {"f", "DOUBLE"}, {"b", "BOOLEAN"}}
	var vals [][]any
	for i, s := range texts {
		vals = append(vals, []any{s, int64(i), float64(i) + 0.5, i%2 == 0})
	}
	var buf bytes.Buffer
	alt := &Alterations{}
	xw := newXLSXWriter(&buf, t.TempDir(), false, alt)
	writeAll(t, xw, cols, vals)
	if alt.Sheets != 3 {
		t.Fatalf("%d sheets", alt.Sheets)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"export", "export 2", "export 3"}) {
		t.Fatalf("sheets %v", got)
	}
	i := 0
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], []string{"s", "n", "f", "b"}) {
			t.Fatalf("%s header %q", sheet, rows[0])
		}
		for _, r := range rows[1:] {
			if r[0] != texts[i] {
				t.Fatalf("%s: got %q want %q", sheet, r[0], texts[i])
			}
			i++
		}
		if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Fatalf("%s panes %+v %v", sheet, panes, err)
		}
	}
	if i != len(texts) {
		t.Fatalf("%d rows read back", i)
	}
	names := f.GetDefinedName()
	if len(names) != 3 || names[2].RefersTo != "'export 3'!$A$1:$D$3" {
		t.Fatalf("autofilters %+v", names)
	}
	if v, _ := f.GetCellValue("export", "C2", excelize.Options{RawCellValue: true}); v != "0.5" {
		t.Fatalf("float cell %q", v)
	}
	if v, _ := f.GetCellValue("export", "D2"); v != "TRUE" {
		t.Fatalf("bool cell %q", v)
	}
}
