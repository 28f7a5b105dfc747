package export

import (
	"context"
	"fmt"
	"strings"
)

// A filter export to JSONL has DuckDB build each line, as for CSV (see
// sqlcsv.go): the same bytes jsonlWriter writes, one string per row read.
// TestSQLJSONLMatchesWriter compares the two.

// sqlJSONLDisabled forces the Go writer (tests compare the two).
var sqlJSONLDisabled = false

// jsonlLineQuery returns the query whose rows are t's JSONL lines (without
// the line break); ok is false when a column's type has no SQL rendering here.
func jsonlLineQuery(t *table) (q string, ok bool) {
	if t.side != nil || !t.objectIDs || sqlJSONLDisabled || len(t.cols) == 0 {
		return "", false
	}
	inner := make([]string, 0, len(t.cols)+2)
	fields := make([]string, 0, 2*len(t.cols)+1)
	for i, c := range t.cols {
		col := "src." + quoteIdent(c.Name)
		var expr string
		switch c.Type {
		case "VARCHAR":
			// to_json in the inner query, checked in the outer one.
			inner = append(inner, "CAST(to_json("+col+") AS VARCHAR) AS "+fmt.Sprintf("j%d", i), col+fmt.Sprintf(" AS s%d", i))
			fields = append(fields, quoteLiteral(jsonKey(i, c.Name)), "coalesce("+jsonStringSQL(fmt.Sprintf("j%d", i), fmt.Sprintf("s%d", i))+", 'null')")
			continue
		case "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "BOOLEAN":
			expr = "CAST(" + col + " AS VARCHAR)"
		case "TIMESTAMPTZ":
			e, _ := csvExpr(col, c.Type, false)
			expr = "'\"' || " + e + " || '\"'"
		case "VARCHAR[]":
			expr = "'[' || array_to_string(list_transform(" + col + ", x -> coalesce(" + jsonStringSQL("CAST(to_json(x) AS VARCHAR)", "x") +
				", 'null')), ',') || ']'"
		default:
			return "", false
		}
		f := fmt.Sprintf("f%d", i)
		inner = append(inner, "coalesce("+expr+", 'null') AS "+f)
		fields = append(fields, quoteLiteral(jsonKey(i, c.Name)), f)
	}
	fields = append(fields, "'}'")
	var keys []string
	if t.order != "" {
		keys = strings.Split(t.order, ", ")
		for i, k := range keys {
			inner = append(inner, "src."+k+fmt.Sprintf(" AS k%d", i))
			keys[i] = fmt.Sprintf("k%d", i)
		}
	}
	q = "SELECT concat(" + strings.Join(fields, ", ") + ") FROM (SELECT " + strings.Join(inner, ", ") +
		" FROM (SELECT * FROM " + t.ref + ") AS src)"
	if len(keys) > 0 {
		q += " ORDER BY " + strings.Join(keys, ", ")
	}
	return q, true
}

// jsonKey is the text before the i-th value of a JSONL object.
func jsonKey(i int, name string) string {
	prefix := ","
	if i == 0 {
		prefix = "{"
	}
	return prefix + string(appendJSONString(nil, name)) + ":"
}

// jsonStringSQL is appendJSONString's text of the VARCHAR s, given j, DuckDB's
// to_json(s). DuckDB's JSON writer escapes quote, backslash, LF, CR and TAB
// as appendJSONString does; it differs on other control characters (\b, \f,
// upper-case hex), DEL and U+2028/U+2029. Where j shows an escape of theirs
// (or a literal backslash that looks like one) or s holds one of the others,
// the slower jsonEscapeSQL renders it. NULL stays NULL.
func jsonStringSQL(j, s string) string {
	return "CASE WHEN NOT (contains(" + j + ", '\\u00') OR contains(" + j + ", '\\b') OR contains(" + j + ", '\\f') OR contains(" +
		s + ", chr(127)) OR contains(" + s + ", chr(8232)) OR contains(" + s + ", chr(8233))) THEN " + j +
		" ELSE '\"' || " + jsonEscapeSQL(s, false) + " || '\"' END"
}

// writeJSONLLines writes the lines of q.
func writeJSONLLines(ctx context.Context, t *table, q string, out stringWriter, total int64, progress Progress) error {
	var n int64
	return t.scanQuery(ctx, q, 1, func(row []any) error {
		line, _ := row[0].(string)
		if _, err := out.WriteString(line); err != nil {
			return err
		}
		if _, err := out.WriteString("\n"); err != nil {
			return err
		}
		n++
		if n%8192 == 0 {
			progress(n, total)
		}
		return nil
	})
}
