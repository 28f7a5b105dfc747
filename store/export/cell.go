package export

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// textOf renders a value for text formats (CSV, XLSX text cells, VARCHAR
// stand-ins). Times are UTC ISO-8601 with up to nanoseconds (a TIMESTAMP
// without zone has no Z); lists and structs are JSON; BLOBs are \x hex as in
// PostgreSQL. typ is DuckDB's type name when known.
func textOf(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int:
		return strconv.Itoa(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case float64:
		return formatFloat(x, 64)
	case float32:
		return formatFloat(float64(x), 32)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return formatTime(x, typ)
	case *big.Int:
		return x.String()
	case []any, map[string]any:
		return jsonText(x)
	case fmt.Stringer:
		return x.String()
	}
	return jsonText(v)
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func formatTime(t time.Time, typ string) string {
	switch typ {
	case "DATE":
		return t.UTC().Format("2006-01-02")
	case "TIME":
		return t.UTC().Format("15:04:05.999999")
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return t.UTC().Format("2006-01-02T15:04:05.999999999")
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// isTextValue reports whether a value is text that a spreadsheet could read as
// a formula. Numbers, times and booleans come from typed columns and cannot.
func isTextValue(v any) bool {
	_, ok := v.(string)
	return ok
}

// neutralize prefixes text that a spreadsheet would evaluate — it starts with
// =, +, -, @, TAB or CR — with an apostrophe, so it is shown as text (the
// OWASP CSV-injection rule). It reports whether it changed s.
func neutralize(s string) (string, bool) {
	if s == "" {
		return s, false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s, true
	}
	return s, false
}

// xlsxMaxChars is Excel's limit of characters (UTF-16 units) in one cell.
const xlsxMaxChars = 32767

// cutMarker ends a cell that was cut to Excel's limit.
const cutMarker = " …[cut by auditlens: %d characters in full; the CSV, JSONL and Parquet exports keep it whole]"

// xmlSafe makes s storable in an XLSX cell: invalid UTF-8 and characters XML
// 1.0 cannot hold (NUL and other C0 controls except TAB, LF, CR; U+FFFE/FFFF)
// become U+FFFD. It reports whether anything was replaced.
func xmlSafe(s string) (string, bool) {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !xmlChar(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s, false
	}
	b := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !xmlChar(r) {
			r = utf8.RuneError
		}
		b = append(b, r)
		i += n
	}
	return string(b), true
}

func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return true
}

// cutForExcel shortens s to Excel's cell limit, ending it with the marker. It
// reports whether it cut.
func cutForExcel(s string) (string, bool) {
	if len(s) <= xlsxMaxChars { // bytes >= UTF-16 units: short strings fit
		return s, false
	}
	units := 0
	for _, r := range s {
		units += utf16Len(r)
	}
	if units <= xlsxMaxChars {
		return s, false
	}
	marker := fmt.Sprintf(cutMarker, units)
	budget := xlsxMaxChars - utf8.RuneCountInString(marker)*2 // marker runes count at most 2 units
	used := 0
	end := 0
	for i, r := range s {
		if used+utf16Len(r) > budget {
			end = i
			break
		}
		used += utf16Len(r)
	}
	return s[:end] + marker, true
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}
