package export

import (
	"context"
	"fmt"
	"strings"
)

// A filter export to CSV has DuckDB build each record's text: the SELECT
// turns every row into one VARCHAR, exactly the bytes the Go csvWriter would
// write for it (neutralised VARCHARs, times as ISO-8601 UTC, lists as JSON,
// RFC 4180 quoting, NULL as an empty field and an empty string as ""). DuckDB
// evaluates that in parallel before it sorts, the sort carries one string per
// row instead of 25 values, and Go reads one value per row instead of boxing
// every cell. The Go writer remains for SQL exports, whose types are
// open-ended; TestSQLCSVMatchesWriter checks that both produce the same bytes.

// sqlCSVDisabled forces the Go writer (tests compare the two).
var sqlCSVDisabled = false

// neutralSQL is the SQL condition that neutralize changes the VARCHAR x (an
// IN list would be planned as a join; TAB and CR stand raw in the literals).
func neutralSQL(x string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, p := range []string{"=", "+", "-", "@", "\t", "\r"} {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("starts_with(" + x + ", '" + p + "')")
	}
	b.WriteString(")")
	return b.String()
}

// csvLineQuery returns the query whose rows are t's CSV records (without the
// line break) and, when neutralising, the count of neutralised cells in each;
// ok is false when a column's type has no SQL rendering here.
func csvLineQuery(t *table, req Request) (q string, ok bool) {
	if t.side != nil || !t.objectIDs || sqlCSVDisabled || len(t.cols) == 0 {
		return "", false
	}
	// The inner query renders each field's text (f0, f1, …) and keeps the sort
	// keys; the outer one quotes the fields and joins them into the record.
	inner := make([]string, 0, len(t.cols)+2)
	fields := make([]string, 0, 2*len(t.cols))
	var counts []string
	for i, c := range t.cols {
		col := "src." + quoteIdent(c.Name)
		expr, ok := csvExpr(col, c.Type, req.neutralize())
		if !ok {
			return "", false
		}
		f := fmt.Sprintf("f%d", i)
		inner = append(inner, expr+" AS "+f)
		if c.Type == "VARCHAR" || c.Type == "VARCHAR[]" {
			f = csvQuoteSQL(f)
		}
		if c.Type == "VARCHAR" && req.neutralize() {
			counts = append(counts, "CAST(coalesce("+neutralSQL(col)+", false) AS INTEGER)")
		}
		if i > 0 {
			fields = append(fields, "','")
		}
		fields = append(fields, f)
	}
	if req.neutralize() {
		if len(counts) == 0 {
			counts = []string{"0"}
		}
		inner = append(inner, strings.Join(counts, " + ")+" AS neutralized")
	}
	var keys []string
	if t.order != "" {
		keys = strings.Split(t.order, ", ")
		for i, k := range keys {
			inner = append(inner, "src."+k+fmt.Sprintf(" AS k%d", i))
			keys[i] = fmt.Sprintf("k%d", i)
		}
	}
	// concat skips NULLs: a NULL field is empty.
	q = "SELECT concat(" + strings.Join(fields, ", ") + ")"
	if req.neutralize() {
		q += ", neutralized"
	}
	q += " FROM (SELECT " + strings.Join(inner, ", ") + " FROM (SELECT * FROM " + t.ref + ") AS src)"
	if len(keys) > 0 {
		q += " ORDER BY " + strings.Join(keys, ", ")
	}
	return q, true
}

// csvQuoteSQL quotes a text field as csvWriter.field does: when it is empty
// or holds a quote, comma, CR or LF (NULL stays NULL).
func csvQuoteSQL(v string) string {
	// DuckDB evaluates the repeated expression once (common subexpressions).
	return "CASE WHEN " + v + " = '' OR contains(" + v + ", ',') OR contains(" + v + ", '\"') OR contains(" + v + ", chr(10)) OR contains(" +
		v + ", chr(13)) THEN '\"' || replace(" + v + ", '\"', '\"\"') || '\"' ELSE " + v + " END"
}

// csvExpr is the SQL text of one CSV field for a column of type typ.
func csvExpr(col, typ string, neutral bool) (string, bool) {
	switch typ {
	case "VARCHAR":
		if neutral {
			return "CASE WHEN " + neutralSQL(col) + " THEN '''' || " + col + " ELSE " + col + " END", true
		}
		return col, true
	case "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "BOOLEAN":
		// DuckDB's text of these is Go's strconv text (true/false for BOOLEAN).
		return col, true
	case "TIMESTAMPTZ":
		// time.RFC3339Nano of the UTC instant: fraction without trailing zeros.
		u := "(" + col + " AT TIME ZONE 'UTC')"
		frac := "(microsecond(" + u + ") % 1000000)"
		return "strftime(" + u + ", '%Y-%m-%dT%H:%M:%S') || CASE WHEN " + frac + " = 0 THEN '' ELSE '.' || rtrim(lpad(CAST(" +
			frac + " AS VARCHAR), 6, '0'), '0') END || 'Z'", true
	case "VARCHAR[]":
		// encoding/json's text of a []any of strings, escapes included.
		return "CASE WHEN " + col + " IS NULL THEN NULL ELSE '[' || array_to_string(list_transform(" + col +
			", x -> coalesce('\"' || " + jsonEscapeSQL("x", true) + " || '\"', 'null')), ',') || ']' END", true
	}
	return "", false
}

// jsonEscapeSQL escapes the VARCHAR expression x for a JSON string (without
// the quotes): backslash and quote, control characters (\n \r \t, others as
// lowercase \u00xx) and U+2028/U+2029 as \u escapes. With goJSON it escapes
// as encoding/json does (also \b \f, and < > & as \u escapes), otherwise as
// appendJSONString does (also DEL as \u007f).
func jsonEscapeSQL(x string, goJSON bool) string {
	repl := [][2]string{{`\`, `\\`}, {`"`, `\"`}, {"\u2028", `\u2028`}, {"\u2029", `\u2029`}}
	if goJSON {
		repl = append(repl, [][2]string{{"<", `\u003c`}, {">", `\u003e`}, {"&", `\u0026`}}...)
	}
	e := x
	for _, r := range repl {
		e = "replace(" + e + ", '" + r[0] + "', '" + r[1] + "')"
	}
	ctl := []int{0x7f}
	if goJSON {
		ctl = nil
	}
	for c := 0; c < 0x20; c++ {
		ctl = append(ctl, c)
	}
	for _, c := range ctl {
		esc := fmt.Sprintf(`\u%04x`, c)
		switch {
		case c == '\b' && goJSON:
			esc = `\b`
		case c == '\f' && goJSON:
			esc = `\f`
		case c == '\n':
			esc = `\n`
		case c == '\r':
			esc = `\r`
		case c == '\t':
			esc = `\t`
		}
		e = "replace(" + e + ", chr(" + fmt.Sprint(c) + "), '" + esc + "')"
	}
	return e
}

// writeCSVLines writes the header with w, then the records of q.
func writeCSVLines(ctx context.Context, t *table, q string, w *csvWriter, out stringWriter, total int64, progress Progress) error {
	if err := w.header(t.cols); err != nil {
		return err
	}
	ncols := 1
	if w.neutral {
		ncols = 2
	}
	var n int64
	err := t.scanQuery(ctx, q, ncols, func(row []any) error {
		line, _ := row[0].(string)
		if _, err := out.WriteString(line); err != nil {
			return err
		}
		if _, err := out.WriteString("\r\n"); err != nil {
			return err
		}
		if ncols == 2 {
			switch k := row[1].(type) {
			case int32:
				w.alt.NeutralizedCells += int64(k)
			case int64:
				w.alt.NeutralizedCells += k
			default:
				return fmt.Errorf("unexpected neutralised-cell count %T", row[1])
			}
		}
		n++
		if n%8192 == 0 {
			progress(n, total)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.finish()
}
