package das

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/auditlens/auditlens/store/model"
)

// innerRecord is the decrypted, gunzipped payload of one outer record.
type innerRecord struct {
	Type       flexString
	ClusterID  flexString
	InstanceID flexString
	hasEvents  bool // databaseActivityEventList was present
}

// wireEvent is one element of databaseActivityEventList. Every field is lenient:
// the stream sends numbers as strings, nulls anywhere and undocumented fields.
type wireEvent struct {
	Type              flexString  `json:"type"`
	StartTime         flexString  `json:"startTime"`
	LogTime           flexString  `json:"logTime"`
	EndTime           flexString  `json:"endTime"`
	StatementID       flexInt     `json:"statementId"`
	SubstatementID    flexInt     `json:"substatementId"`
	ObjectType        flexString  `json:"objectType"`
	Command           flexString  `json:"command"`
	ObjectName        flexString  `json:"objectName"`
	DatabaseName      flexString  `json:"databaseName"`
	DBUserName        flexString  `json:"dbUserName"`
	RemoteHost        flexString  `json:"remoteHost"`
	RemotePort        flexInt     `json:"remotePort"`
	SessionID         flexString  `json:"sessionId"`
	RowCount          flexInt     `json:"rowCount"`
	CommandText       flexString  `json:"commandText"`
	ParamList         flexStrings `json:"paramList"`
	PID               flexInt     `json:"pid"`
	ClientApplication flexString  `json:"clientApplication"`
	ExitCode          flexInt     `json:"exitCode"`
	Class             flexString  `json:"class"`
	ServerHost        flexString  `json:"serverHost"`
	ErrorMessage      flexString  `json:"errorMessage"`
}

// flexString accepts a JSON string, null (→ unset), or a number/bool (kept as its text).
type flexString struct {
	V     string
	Valid bool
}

func (s *flexString) UnmarshalJSON(b []byte) error {
	*s = flexString{}
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if v, ok := unquote(b); ok {
			*s = flexString{V: v, Valid: true}
		}
	case 'n':
		// null: unset
	case '{', '[':
		// An object or array where a string belongs: keep it out of the typed
		// columns; the event's Raw still has it.
	default:
		*s = flexString{V: string(b), Valid: true}
	}
	return nil
}

// flexInt accepts a JSON number, a string holding a number, or null. Anything
// else is treated as absent rather than failing the whole record.
type flexInt struct {
	V     int64
	Valid bool
}

func (n *flexInt) UnmarshalJSON(b []byte) error {
	*n = flexInt{}
	if len(b) == 0 {
		return nil
	}
	if b[0] == '"' {
		s, ok := unquote(b)
		if !ok {
			return nil
		}
		b = []byte(s)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = flexInt{V: v, Valid: true}
		return nil
	}
	// "12.0" or 1e3: accept integral floats.
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && f == float64(int64(f)) {
		*n = flexInt{V: int64(f), Valid: true}
	}
	return nil
}

func (n flexInt) ptr64() *int64 {
	if !n.Valid {
		return nil
	}
	return model.Int64(n.V)
}

func (n flexInt) ptr32() *int32 {
	if !n.Valid || n.V < -1<<31 || n.V > 1<<31-1 {
		return nil
	}
	return model.Int32(int32(n.V))
}

// flexStrings is paramList: an array of lenient strings, or null.
type flexStrings struct {
	V     []string
	Valid bool
}

func (l *flexStrings) UnmarshalJSON(b []byte) error {
	*l = flexStrings{}
	sc := &scanner{b: b}
	if sc.peek() != '[' {
		return nil
	}
	sc.i++
	l.Valid = true
	if sc.peek() == ']' {
		return nil
	}
	var list []string
	for {
		v, err := sc.value(1)
		if err != nil {
			*l = flexStrings{}
			return nil
		}
		var f flexString
		_ = f.UnmarshalJSON(v)
		list = append(list, f.V)
		switch sc.peek() {
		case ',':
			sc.i++
		case ']':
			l.V = list
			return nil
		default:
			*l = flexStrings{}
			return nil
		}
	}
}

// isConnectCommand reports whether command is a connection row. rdsadmin's
// connections arrive with class MISC; the explorer keys on class CONNECT.
func isConnectCommand(command string) bool {
	return command == "CONNECT" || command == "DISCONNECT"
}

// eventTime picks the event's time: logTime, else endTime, else startTime.
func (e *wireEvent) eventTime() time.Time {
	for _, s := range []flexString{e.LogTime, e.EndTime, e.StartTime} {
		if !s.Valid {
			continue
		}
		if t, ok := parseTimestamp(s.V); ok {
			return t
		}
	}
	return time.Time{}
}

// unquote decodes a JSON string (quotes included) the way encoding/json does:
// escapes resolved, invalid UTF-8 and lone surrogates replaced by U+FFFD.
func unquote(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	b = b[1 : len(b)-1]
	plain := true
	for _, c := range b {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(b), true
	}
	if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		for _, c := range b {
			if c < 0x20 {
				return "", false
			}
		}
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			if i+1 >= len(b) {
				return "", false
			}
			switch b[i+1] {
			case '"', '\\', '/':
				out = append(out, b[i+1])
				i += 2
			case 'b':
				out = append(out, '\b')
				i += 2
			case 'f':
				out = append(out, '\f')
				i += 2
			case 'n':
				out = append(out, '\n')
				i += 2
			case 'r':
				out = append(out, '\r')
				i += 2
			case 't':
				out = append(out, '\t')
				i += 2
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2, ok2 = hex4(b, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", false
			}
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			i += size
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out), true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}
