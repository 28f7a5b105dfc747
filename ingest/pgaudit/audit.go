package pgaudit

import (
	"errors"
	"fmt"
	"strings"
)

// auditTag starts every pgAudit message.
const auditTag = "AUDIT: "

// PARAMETER markers that mean "no parameter list". The other markers
// (<previously logged>, <long param suppressed>) are values and kept as such.
const (
	paramNone      = "<none>"
	paramNotLogged = "<not logged>"
)

// Audit is one decoded pgAudit record:
// TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS].
type Audit struct {
	AuditType      string // SESSION | OBJECT
	StatementID    int64
	SubstatementID int64
	Class          string
	Command        string
	ObjectType     string
	ObjectName     string
	Statement      string
	// Params is PARAMETER decoded as the CSV list it is; nil for <none> and
	// <not logged>; []string{""} for an empty field (all parameters NULL).
	Params  []string
	HasRows bool // the record has the ROWS field (pgaudit.log_rows = on)
	Rows    int64
}

var errNotAudit = errors.New("message does not start with \"AUDIT: \"")

// ParseAudit decodes a pgAudit message ("AUDIT: SESSION,1,1,…"). Whether ROWS
// is present is decided only by the number of CSV fields (9 or 10): a lone
// integer PARAMETER looks exactly like ROWS. Strings are substrings of msg
// where no unquoting is needed, so keeping msg costs no extra memory.
func ParseAudit(msg string) (Audit, error) {
	var a Audit
	if !strings.HasPrefix(msg, auditTag) {
		return a, errNotAudit
	}
	var f [10]string
	n, err := splitFields(msg[len(auditTag):], f[:])
	if err != nil {
		return a, err
	}
	if n != 9 && n != 10 {
		return a, fmt.Errorf("AUDIT record has %d fields, want 9 or 10", n)
	}
	switch f[0] {
	case "SESSION", "OBJECT":
	default:
		return a, fmt.Errorf("AUDIT type %q is not SESSION or OBJECT", truncate(f[0], 40))
	}
	a.AuditType = f[0]
	var ok bool
	if a.StatementID, ok = parseInt(f[1]); !ok {
		return a, fmt.Errorf("AUDIT statement id %q is not a number", truncate(f[1], 40))
	}
	if a.SubstatementID, ok = parseInt(f[2]); !ok {
		return a, fmt.Errorf("AUDIT substatement id %q is not a number", truncate(f[2], 40))
	}
	a.Class, a.Command, a.ObjectType, a.ObjectName, a.Statement = f[3], f[4], f[5], f[6], f[7]
	if n == 10 {
		if a.Rows, ok = parseInt(f[9]); !ok {
			return a, fmt.Errorf("AUDIT rows %q is not a number", truncate(f[9], 40))
		}
		a.HasRows = true
	}
	switch p := f[8]; p {
	case paramNone, paramNotLogged:
	case "":
		a.Params = []string{""}
	default:
		a.Params = splitList(p)
	}
	return a, nil
}

// splitFields splits one CSV record (pgAudit quotes a field only when it has
// a comma, quote, CR or LF) into out and returns the number of fields. More
// fields than out holds is counted but not stored.
func splitFields(s string, out []string) (int, error) {
	n := 0
	i := 0
	for {
		var v string
		var err error
		v, i, err = nextField(s, i)
		if err != nil {
			return n, fmt.Errorf("AUDIT field %d: %w", n+1, err)
		}
		if n < len(out) {
			out[n] = v
		}
		n++
		if i >= len(s) {
			return n, nil
		}
		i++ // the comma
		if i == len(s) {
			// Trailing comma: one more, empty field.
			if n < len(out) {
				out[n] = ""
			}
			return n + 1, nil
		}
	}
}

var errQuote = errors.New("bad quoting")

// nextField reads the field starting at s[i] and returns it with the index
// of the comma after it (or len(s)).
func nextField(s string, i int) (string, int, error) {
	if i < len(s) && s[i] == '"' {
		start := i + 1
		j := start
		escaped := false
		for {
			k := strings.IndexByte(s[j:], '"')
			if k < 0 {
				return "", len(s), errQuote
			}
			j += k
			if j+1 < len(s) && s[j+1] == '"' {
				escaped = true
				j += 2
				continue
			}
			break
		}
		// s[j] is the closing quote.
		end := j + 1
		if end < len(s) && s[end] != ',' {
			return "", len(s), errQuote
		}
		v := s[start:j]
		if escaped {
			v = strings.ReplaceAll(v, `""`, `"`)
		}
		return v, end, nil
	}
	k := strings.IndexByte(s[i:], ',')
	if k < 0 {
		return s[i:], len(s), nil
	}
	return s[i : i+k], i + k, nil
}

// splitList decodes PARAMETER, a CSV list inside the CSV record. NULL and ”
// both appear as empty items. A list that is not valid CSV (cut off, or from
// a pgAudit that does not quote) is kept whole as one item so nothing is lost.
func splitList(p string) []string {
	out := make([]string, 0, strings.Count(p, ",")+1)
	i := 0
	for {
		v, next, err := nextField(p, i)
		if err != nil {
			return []string{p}
		}
		out = append(out, v)
		if next >= len(p) {
			return out
		}
		i = next + 1
		if i == len(p) {
			return append(out, "")
		}
	}
}

// parseInt parses a decimal int64 without allocating; pgAudit ids and ROWS
// are never negative.
func parseInt(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
