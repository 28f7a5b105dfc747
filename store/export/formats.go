package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

type stringWriter interface {
	io.Writer
	io.StringWriter
}

// csvWriter writes RFC 4180 CSV: fields with a quote, comma, CR or LF are
// quoted with quotes doubled, records end with CRLF, and field bytes are kept
// exactly (encoding/csv's writer would rewrite line breaks inside fields).
// NULL is an empty field; an empty string is "".
type csvWriter struct {
	w       stringWriter
	bom     bool
	neutral bool
	alt     *Alterations
	types   []string
}

func (c *csvWriter) header(cols []column) error {
	if c.bom {
		if _, err := c.w.WriteString("\uFEFF"); err != nil {
			return err
		}
	}
	c.types = make([]string, len(cols))
	vals := make([]any, len(cols))
	for i, col := range cols {
		c.types[i] = col.Type
		vals[i] = col.Name
	}
	return c.record(vals)
}

func (c *csvWriter) row(vals []any) error { return c.record(vals) }

func (c *csvWriter) record(vals []any) error {
	for i, v := range vals {
		if i > 0 {
			if _, err := c.w.WriteString(","); err != nil {
				return err
			}
		}
		if v == nil {
			continue
		}
		s := textOf(v, c.typ(i))
		if c.neutral && isTextValue(v) {
			var changed bool
			if s, changed = neutralize(s); changed {
				c.alt.NeutralizedCells++
			}
		}
		if err := c.field(s); err != nil {
			return err
		}
	}
	_, err := c.w.WriteString("\r\n")
	return err
}

func (c *csvWriter) typ(i int) string {
	if i < len(c.types) {
		return c.types[i]
	}
	return ""
}

func (c *csvWriter) field(s string) error {
	if s != "" && !strings.ContainsAny(s, "\",\r\n") {
		_, err := c.w.WriteString(s)
		return err
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(s, `"`, `""`))
	b.WriteByte('"')
	_, err := c.w.WriteString(b.String())
	return err
}

func (c *csvWriter) finish() error { return nil }

// jsonlWriter writes one JSON object per row, keys in column order. Numbers
// stay numbers (NaN and infinities become strings), times are ISO-8601 UTC
// strings, lists are arrays, invalid UTF-8 becomes U+FFFD.
type jsonlWriter struct {
	w     stringWriter
	keys  []string
	types []string
	buf   []byte
}

func (j *jsonlWriter) header(cols []column) error {
	for i, c := range cols {
		prefix := ","
		if i == 0 {
			prefix = "{"
		}
		j.keys = append(j.keys, prefix+string(appendJSONString(nil, c.Name))+":")
		j.types = append(j.types, c.Type)
	}
	return nil
}

func (j *jsonlWriter) row(vals []any) error {
	b := j.buf[:0]
	for i, v := range vals {
		b = append(b, j.keys[i]...)
		b = appendJSONValue(b, v, j.types[i])
	}
	if len(vals) == 0 {
		b = append(b, '{')
	}
	b = append(b, "}\n"...)
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonlWriter) finish() error { return nil }

func appendJSONValue(b []byte, v any, typ string) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case bool:
		return strconv.AppendBool(b, x)
	case float64, float32:
		s := textOf(x, typ)
		if s == "NaN" || strings.HasSuffix(s, "Infinity") {
			return appendJSONString(b, s)
		}
		return append(b, s...)
	case time.Time:
		return appendJSONString(b, formatTime(x, typ))
	case []any:
		elem := strings.TrimSuffix(typ, "[]")
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e, elem)
		}
		return append(b, ']')
	case map[string]any:
		return append(b, jsonText(x)...)
	}
	return appendJSONString(b, textOf(v, typ))
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// xlsxMaxRows is the number of data rows per sheet (Excel's 1,048,576 rows
// less the header); longer exports continue on further sheets.
const xlsxMaxRows = 1048575

// xlsxWriter streams rows into an Excel workbook with excelize: a bold header
// row, the header frozen, an autofilter over the data. Numbers within ±2^53
// are numbers; other values are text (times as ISO-8601 UTC text, so no
// precision or zone is lost to Excel's date serials).
type xlsxWriter struct {
	out     io.Writer
	file    *excelize.File
	sw      *excelize.StreamWriter
	neutral bool
	alt     *Alterations
	cols    []column
	header0 []any
	sheet   string
	sheets  int
	rowNum  int // data rows on the current sheet
	cells   []any
}

func newXLSXWriter(out io.Writer, tmpDir string, neutral bool, alt *Alterations) *xlsxWriter {
	// excelize spills large sheets to temp files; keep them next to the export
	// rather than in a shared /tmp. Close removes them.
	return &xlsxWriter{out: out, file: excelize.NewFile(excelize.Options{TmpDir: tmpDir}), neutral: neutral, alt: alt}
}

func (x *xlsxWriter) header(cols []column) error {
	x.cols = cols
	x.cells = make([]any, len(cols))
	style, err := x.file.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	x.header0 = make([]any, len(cols))
	for i, c := range cols {
		name := x.text(c.Name)
		x.header0[i] = excelize.Cell{StyleID: style, Value: name}
	}
	return x.newSheet()
}

func (x *xlsxWriter) newSheet() error {
	if x.sw != nil {
		if err := x.closeSheet(); err != nil {
			return err
		}
	}
	x.sheets++
	x.sheet = "export"
	if x.sheets == 1 {
		if err := x.file.SetSheetName("Sheet1", x.sheet); err != nil {
			return err
		}
	} else {
		x.sheet = fmt.Sprintf("export %d", x.sheets)
		if _, err := x.file.NewSheet(x.sheet); err != nil {
			return err
		}
	}
	sw, err := x.file.NewStreamWriter(x.sheet)
	if err != nil {
		return err
	}
	x.sw, x.rowNum = sw, 0
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	if n := len(x.cols); n > 0 {
		if err := sw.SetColWidth(1, n, 20); err != nil {
			return err
		}
	}
	return sw.SetRow("A1", x.header0)
}

// closeSheet sets the autofilter over the rows written and ends the sheet.
// The filter is set on the worksheet the stream writer flushes, so excelize
// writes it without reading the streamed rows back.
func (x *xlsxWriter) closeSheet() error {
	if n := len(x.cols); n > 0 {
		last, err := excelize.CoordinatesToCellName(n, x.rowNum+1)
		if err != nil {
			return err
		}
		if err := x.file.AutoFilter(x.sheet, "A1:"+last, nil); err != nil {
			return err
		}
	}
	err := x.sw.Flush()
	x.sw = nil
	return err
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
		if err := x.newSheet(); err != nil {
			return err
		}
	}
	for i, v := range vals {
		switch n := v.(type) {
		case nil:
			x.cells[i] = nil
		case int64:
			if n > -maxExactFloat && n < maxExactFloat {
				x.cells[i] = n
			} else {
				x.cells[i] = strconv.FormatInt(n, 10)
			}
		case int32, int16, int8, uint8, uint16, uint32, bool:
			x.cells[i] = n
		case float64:
			x.cells[i] = x.float(n, 64)
		case float32:
			x.cells[i] = x.float(float64(n), 32)
		case string:
			x.cells[i] = x.text(n)
		default:
			s, _ := xmlSafe(textOf(v, x.cols[i].Type))
			s, cut := cutForExcel(s)
			if cut {
				x.alt.CutCells++
			}
			x.cells[i] = s
		}
	}
	x.rowNum++
	cell, err := excelize.CoordinatesToCellName(1, x.rowNum+1)
	if err != nil {
		return err
	}
	return x.sw.SetRow(cell, x.cells)
}

func (x *xlsxWriter) float(f float64, bits int) any {
	s := formatFloat(f, bits)
	if s == "NaN" || strings.HasSuffix(s, "Infinity") {
		return s
	}
	return f
}

func (x *xlsxWriter) finish() error {
	defer x.file.Close()
	if x.sw != nil {
		if err := x.closeSheet(); err != nil {
			return err
		}
	}
	x.alt.Sheets = x.sheets
	_, err := x.file.WriteTo(x.out)
	return err
}
