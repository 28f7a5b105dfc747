package export

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
