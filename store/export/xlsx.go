package export

import (
	"archive/zip"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"
)

// xlsxMaxRows is the number of data rows per sheet (Excel's 1,048,576 rows
// less the header); longer exports continue on further sheets.
var xlsxMaxRows = 1048575 // a variable so tests can split small exports

// xlsxWriter streams rows into an Excel workbook it writes itself: a zip of
// the SpreadsheetML parts, each sheet with a bold header row, the header
// frozen and an autofilter over the data. Numbers within ±2^53 are numbers;
// other values are text (times as ISO-8601 UTC text, so no precision or zone
// is lost to Excel's date serials). Text cells are inline strings, escaped as
// excelize escapes them, so excelize and Excel read back exactly the text
// written. (Writing through excelize's StreamWriter cost about five times as
// much CPU per cell, most of it in excelize itself.)
//
// Sheet XML is built on the caller's goroutine and compressed on another, so
// reading rows and deflating overlap on two cores.
type xlsxWriter struct {
	out     io.Writer
	neutral bool
	alt     *Alterations
	cols    []column
	refs    []string // column letters, "A", "B", …
	heads   []string // header cell texts, neutralised and made XML-safe
	sheets  []string // sheet names
	rows    []int    // data rows per sheet
	rowNum  int      // data rows on the current sheet
	buf     []byte   // sheet XML not yet handed to the compressor

	zw     *zip.Writer
	chunks chan xlsxChunk
	free   chan []byte
	done   chan error
	closed bool
}

// xlsxChunk is sheet XML for the compressor, or (name set) the start of a
// new zip entry.
type xlsxChunk struct {
	name string
	data []byte
}

const xlsxChunkSize = 1 << 20

func newXLSXWriter(out io.Writer, _ string, neutral bool, alt *Alterations) *xlsxWriter {
	x := &xlsxWriter{out: out, neutral: neutral, alt: alt}
	x.zw = zip.NewWriter(out)
	// Level 1 of klauspost's deflate is several times faster than
	// compress/flate's default and costs little in size on sheet XML.
	x.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	x.chunks = make(chan xlsxChunk, 4)
	x.free = make(chan []byte, 4)
	x.done = make(chan error, 1)
	go x.compress()
	return x
}

// compress writes chunks into zip entries until the channel closes.
func (x *xlsxWriter) compress() {
	var w io.Writer
	var err error
	for c := range x.chunks {
		if err != nil {
			continue // drain; the error is reported once
		}
		if c.name != "" {
			w, err = x.zw.CreateHeader(&zip.FileHeader{Name: c.name, Method: zip.Deflate, Modified: xlsxTime})
			continue
		}
		_, err = w.Write(c.data)
		select {
		case x.free <- c.data[:0]:
		default:
		}
	}
	x.done <- err
}

// xlsxTime is the modification time of every part (a fixed time keeps equal
// exports byte-identical).
var xlsxTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// send hands the buffered XML to the compressor.
func (x *xlsxWriter) send() {
	if len(x.buf) == 0 {
		return
	}
	x.chunks <- xlsxChunk{data: x.buf}
	select {
	case b := <-x.free:
		x.buf = b
	default:
		x.buf = make([]byte, 0, xlsxChunkSize+64<<10)
	}
}

// part writes a whole zip entry (through the compressor, in order).
func (x *xlsxWriter) part(name, content string) {
	x.send()
	x.chunks <- xlsxChunk{name: name}
	x.buf = append(x.buf, content...)
	x.send()
}

func (x *xlsxWriter) header(cols []column) error {
	x.cols = cols
	x.buf = make([]byte, 0, xlsxChunkSize+64<<10)
	for i, c := range cols {
		x.refs = append(x.refs, columnLetters(i+1))
		x.heads = append(x.heads, x.text(c.Name))
	}
	x.newSheet()
	return nil
}

func columnLetters(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

const xlsxNS = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

func (x *xlsxWriter) newSheet() {
	if len(x.sheets) > 0 {
		x.closeSheet()
	}
	name := "export"
	if n := len(x.sheets) + 1; n > 1 {
		name = fmt.Sprintf("export %d", n)
	}
	x.sheets = append(x.sheets, name)
	x.rowNum = 0
	x.send()
	x.chunks <- xlsxChunk{name: fmt.Sprintf("xl/worksheets/sheet%d.xml", len(x.sheets))}
	tab := ""
	if len(x.sheets) == 1 {
		tab = ` tabSelected="1"`
	}
	x.buf = append(x.buf, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n<worksheet "+xlsxNS+">"+
		`<sheetViews><sheetView`+tab+` workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>`+
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>`...)
	if n := len(x.cols); n > 0 {
		x.buf = append(x.buf, `<cols><col min="1" max="`...)
		x.buf = strconv.AppendInt(x.buf, int64(n), 10)
		x.buf = append(x.buf, `" width="20" customWidth="1"/></cols>`...)
	}
	x.buf = append(x.buf, `<sheetData><row r="1">`...)
	for i, h := range x.heads {
		x.buf = append(x.buf, `<c r="`...)
		x.buf = append(x.buf, x.refs[i]...)
		x.buf = append(x.buf, `1" s="1"`...)
		x.buf = appendInlineStr(x.buf, h)
	}
	x.buf = append(x.buf, `</row>`...)
}

// closeSheet ends the sheet's data and sets the autofilter over its rows.
func (x *xlsxWriter) closeSheet() {
	x.buf = append(x.buf, `</sheetData>`...)
	if len(x.cols) > 0 {
		x.buf = append(x.buf, `<autoFilter ref="`...)
		x.buf = append(x.buf, x.filterRange(x.rowNum, false)...)
		x.buf = append(x.buf, `"/>`...)
	}
	x.buf = append(x.buf, `<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`...)
	x.rows = append(x.rows, x.rowNum)
}

func (x *xlsxWriter) filterRange(rows int, absolute bool) string {
	last := x.refs[len(x.refs)-1]
	n := strconv.Itoa(rows + 1)
	if absolute {
		return "$A$1:$" + last + "$" + n
	}
	return "A1:" + last + n
}

func (x *xlsxWriter) text(s string) string {
	if x.neutral {
		var changed bool
		if s, changed = neutralize(s); changed {
			x.alt.NeutralizedCells++
		}
	}
	s, replaced := xmlSafe(s)
	if replaced {
		x.alt.ReplacedCharacterCells++
	}
	s, cut := cutForExcel(s)
	if cut {
		x.alt.CutCells++
	}
	return s
}

const maxExactFloat = 1 << 53

func (x *xlsxWriter) row(vals []any) error {
	if x.rowNum == xlsxMaxRows {
		x.newSheet()
	}
	x.rowNum++
	rowText := strconv.AppendInt(nil, int64(x.rowNum+1), 10)
	b := x.buf
	b = append(b, `<row r="`...)
	b = append(b, rowText...)
	b = append(b, `">`...)
	for i, v := range vals {
		if v == nil {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, x.refs[i]...)
		b = append(b, rowText...)
		b = append(b, '"')
		switch n := v.(type) {
		case int64:
			if n > -maxExactFloat && n < maxExactFloat {
				b = appendNumber(strconv.AppendInt(append(b, `><v>`...), n, 10))
			} else {
				b = appendInlineStr(b, strconv.FormatInt(n, 10))
			}
		case int32:
			b = appendNumber(strconv.AppendInt(append(b, `><v>`...), int64(n), 10))
		case int16:
			b = appendNumber(strconv.AppendInt(append(b, `><v>`...), int64(n), 10))
		case int8:
			b = appendNumber(strconv.AppendInt(append(b, `><v>`...), int64(n), 10))
		case uint8:
			b = appendNumber(strconv.AppendUint(append(b, `><v>`...), uint64(n), 10))
		case uint16:
			b = appendNumber(strconv.AppendUint(append(b, `><v>`...), uint64(n), 10))
		case uint32:
			b = appendNumber(strconv.AppendUint(append(b, `><v>`...), uint64(n), 10))
		case bool:
			if n {
				b = append(b, ` t="b"><v>1</v></c>`...)
			} else {
				b = append(b, ` t="b"><v>0</v></c>`...)
			}
		case float64:
			b = x.appendFloat(b, n, 64)
		case float32:
			b = x.appendFloat(b, float64(n), 32)
		case string:
			b = appendInlineStr(b, x.text(n))
		default:
			s, _ := xmlSafe(textOf(v, x.cols[i].Type))
			s, cut := cutForExcel(s)
			if cut {
				x.alt.CutCells++
			}
			b = appendInlineStr(b, s)
		}
	}
	b = append(b, `</row>`...)
	x.buf = b
	if len(b) >= xlsxChunkSize {
		x.send()
	}
	return nil
}

func appendNumber(b []byte) []byte { return append(b, `</v></c>`...) }

func (x *xlsxWriter) appendFloat(b []byte, f float64, bits int) []byte {
	s := formatFloat(f, bits)
	if s == "NaN" || strings.HasSuffix(s, "Infinity") {
		return appendInlineStr(b, s)
	}
	return appendNumber(strconv.AppendFloat(append(b, `><v>`...), f, 'f', -1, bits))
}

// appendInlineStr ends an opened <c …> element with the text s as an inline
// string. s is XML-safe; the escaping is excelize's: & < > " ' and CR TAB as
// references (a raw CR would be read back as LF), LF raw, _xHHHH_ sequences
// escaped as _x005F_xHHHH_, and xml:space="preserve" when s starts or ends
// with white space.
func appendInlineStr(b []byte, s string) []byte {
	b = append(b, ` t="inlineStr"><is><t`...)
	if s != "" {
		switch s[0] {
		case ' ', '\t', '\n', '\r':
			b = append(b, ` xml:space="preserve"`...)
		default:
			switch s[len(s)-1] {
			case ' ', '\t', '\n', '\r':
				b = append(b, ` xml:space="preserve"`...)
			}
		}
	}
	b = append(b, '>')
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '\t':
			esc = "&#x9;"
		case '\r':
			esc = "&#xD;"
		case '_':
			if isBstrEscape(s[i:]) {
				// Prefix the literal _xHHHH_ with _x005F (an escaped "_"),
				// and look for the next one after it.
				b = append(b, s[start:i]...)
				b = append(b, "_x005F"...)
				start = i
				i += 6
			}
			continue
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, `</t></is></c>`...)
}

// isBstrEscape reports whether s starts with _xHHHH_, which a reader may
// decode as an escaped character.
func isBstrEscape(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	_, err := strconv.ParseUint(s[2:6], 16, 16)
	return err == nil
}

func (x *xlsxWriter) finish() error {
	if x.closed {
		return nil
	}
	if len(x.sheets) == 0 {
		x.newSheet()
	}
	x.closeSheet()
	x.alt.Sheets = len(x.sheets)

	var ct, wb, rels strings.Builder
	ct.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`)
	wb.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n<workbook " + xlsxNS + `><bookViews><workbookView activeTab="0"/></bookViews><sheets>`)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	var names strings.Builder
	for i, name := range x.sheets {
		n := strconv.Itoa(i + 1)
		ct.WriteString(`<Override PartName="/xl/worksheets/sheet` + n + `.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`)
		wb.WriteString(`<sheet name="` + name + `" sheetId="` + n + `" r:id="rId` + n + `"/>`)
		rels.WriteString(`<Relationship Id="rId` + n + `" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet` + n + `.xml"/>`)
		if len(x.cols) > 0 {
			names.WriteString(`<definedName name="_xlnm._FilterDatabase" localSheetId="` + strconv.Itoa(i) + `" hidden="1">'` + name + `'!` +
				x.filterRange(x.rows[i], true) + `</definedName>`)
		}
	}
	ct.WriteString(`</Types>`)
	wb.WriteString(`</sheets>`)
	if names.Len() > 0 {
		wb.WriteString(`<definedNames>` + names.String() + `</definedNames>`)
	}
	wb.WriteString(`</workbook>`)
	rels.WriteString(`<Relationship Id="rId` + strconv.Itoa(len(x.sheets)+1) +
		`" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`)

	x.part("[Content_Types].xml", ct.String())
	x.part("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	x.part("xl/workbook.xml", wb.String())
	x.part("xl/_rels/workbook.xml.rels", rels.String())
	x.part("xl/styles.xml", xlsxStyles)
	return x.close()
}

// close stops the compressor and ends the zip; it is safe to call twice.
func (x *xlsxWriter) close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	x.send()
	close(x.chunks)
	err := <-x.done
	if cerr := x.zw.Close(); err == nil {
		err = cerr
	}
	return err
}

// xlsxStyles has the default cell format (0) and a bold one for the header (1).
const xlsxStyles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
	`<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
	`<fonts count="2"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>` +
	`<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`
