package das

import (
	"bytes"
	"fmt"
)

// The inner record is decoded by a hand-written single-pass scanner: it
// validates the JSON, cuts each event's raw bytes and fills the lenient fields
// at once. encoding/json needed four passes over each event (validate, skip
// into RawMessage, validate again, decode with a skip per custom field) and
// was most of the decode time.

// maxDepth bounds nesting inside unknown fields (encoding/json allows 10000).
const maxDepth = 1000

type scanner struct {
	b []byte
	i int
}

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

func (s *scanner) fail(msg string) error { return &syntaxError{off: s.i, msg: msg} }

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\n', '\r', '\t':
			s.i++
		default:
			return
		}
	}
}

// expect consumes c after optional whitespace.
func (s *scanner) expect(c byte) error {
	s.ws()
	if s.i >= len(s.b) {
		return s.fail("unexpected end of JSON input")
	}
	if s.b[s.i] != c {
		return s.fail(fmt.Sprintf("invalid character %q, want %q", s.b[s.i], c))
	}
	s.i++
	return nil
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// str scans a string at s.i and returns its raw span, quotes included.
func (s *scanner) str() ([]byte, error) {
	start := s.i
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, s.fail("want a string")
	}
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start:s.i], nil
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return nil, s.fail("unexpected end of JSON input")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, s.fail("unexpected end of JSON input")
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return nil, s.fail("invalid \\u escape")
					}
				}
				s.i += 6
			default:
				return nil, s.fail("invalid escape")
			}
		case c < 0x20:
			return nil, s.fail("control character in string")
		default:
			s.i++
		}
	}
	return nil, s.fail("unexpected end of JSON input")
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// value scans any JSON value at s.i (after whitespace) and returns its span.
func (s *scanner) value(depth int) ([]byte, error) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, s.fail("unexpected end of JSON input")
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		if depth > maxDepth {
			return nil, s.fail("nesting too deep")
		}
		s.i++
		if s.peek() == '}' {
			s.i++
			return s.b[start:s.i], nil
		}
		for {
			s.ws()
			if _, err := s.str(); err != nil {
				return nil, err
			}
			if err := s.expect(':'); err != nil {
				return nil, err
			}
			if _, err := s.value(depth + 1); err != nil {
				return nil, err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return s.b[start:s.i], nil
			default:
				return nil, s.endFail("'}' or ','")
			}
		}
	case c == '[':
		if depth > maxDepth {
			return nil, s.fail("nesting too deep")
		}
		s.i++
		if s.peek() == ']' {
			s.i++
			return s.b[start:s.i], nil
		}
		for {
			if _, err := s.value(depth + 1); err != nil {
				return nil, err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return s.b[start:s.i], nil
			default:
				return nil, s.endFail("']' or ','")
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	default:
		return nil, s.fail(fmt.Sprintf("invalid character %q looking for a value", c))
	}
}

func (s *scanner) endFail(want string) error {
	if s.i >= len(s.b) {
		return s.fail("unexpected end of JSON input")
	}
	return s.fail(fmt.Sprintf("invalid character %q, want %s", s.b[s.i], want))
}

func (s *scanner) literal(lit string) ([]byte, error) {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return nil, s.fail("invalid literal")
	}
	s.i += len(lit)
	return s.b[s.i-len(lit) : s.i], nil
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() ([]byte, error) {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, s.fail("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, s.fail("invalid number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, s.fail("invalid number")
		}
	}
	return s.b[start:s.i], nil
}

// rawEvent is one element of databaseActivityEventList.
type rawEvent struct {
	raw      []byte
	ev       wireEvent
	isObject bool
}

// parseInner scans the inner record. Events reuses the caller's slice.
func parseInner(b []byte, events []rawEvent) (in innerRecord, out []rawEvent, err error) {
	s := &scanner{b: b}
	out = events[:0]
	if err := s.expect('{'); err != nil {
		return in, out, err
	}
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			s.ws()
			key, err := s.str()
			if err != nil {
				return in, out, err
			}
			if err := s.expect(':'); err != nil {
				return in, out, err
			}
			switch string(key) {
			case `"type"`, `"clusterId"`, `"instanceId"`:
				v, err := s.value(1)
				if err != nil {
					return in, out, err
				}
				var f flexString
				_ = f.UnmarshalJSON(v)
				switch string(key) {
				case `"type"`:
					in.Type = f
				case `"clusterId"`:
					in.ClusterID = f
				default:
					in.InstanceID = f
				}
			case `"databaseActivityEventList"`:
				out = out[:0]
				if out, err = s.eventList(out); err != nil {
					return in, out, err
				}
				in.hasEvents = true
			default:
				if _, err := s.value(1); err != nil {
					return in, out, err
				}
			}
			c := s.peek()
			if c == ',' {
				s.i++
				continue
			}
			if c == '}' {
				s.i++
				break
			}
			return in, out, s.endFail("'}' or ','")
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return in, out, s.fail("data after the inner record")
	}
	return in, out, nil
}

func (s *scanner) eventList(out []rawEvent) ([]rawEvent, error) {
	switch s.peek() {
	case 'n':
		_, err := s.literal("null")
		return out, err
	case '[':
		s.i++
	default:
		// Not a list: validate and ignore it.
		_, err := s.value(1)
		return out, err
	}
	if s.peek() == ']' {
		s.i++
		return out, nil
	}
	for {
		s.ws()
		start := s.i
		var re rawEvent
		if s.i < len(s.b) && s.b[s.i] == '{' {
			if err := s.event(&re.ev); err != nil {
				return out, err
			}
			re.isObject = true
		} else if _, err := s.value(2); err != nil {
			return out, err
		}
		re.raw = s.b[start:s.i]
		out = append(out, re)
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return out, nil
		default:
			return out, s.endFail("']' or ','")
		}
	}
}

// event scans one event object into ev; unknown fields are validated and skipped.
func (s *scanner) event(ev *wireEvent) error {
	s.i++ // '{'
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		v, err := s.value(2)
		if err != nil {
			return err
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			// "\u0074ype" is "type" to encoding/json and to the stream's producers.
			if k, ok := unquote(key); ok {
				key = []byte(`"` + k + `"`)
			}
		}
		if f := ev.field(key); f != nil {
			_ = f.UnmarshalJSON(v)
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.endFail("'}' or ','")
		}
	}
}

type jsonField interface{ UnmarshalJSON([]byte) error }

// field maps a raw (quoted) key to the field it fills, or nil.
func (e *wireEvent) field(key []byte) jsonField {
	switch string(key) {
	case `"type"`:
		return &e.Type
	case `"startTime"`:
		return &e.StartTime
	case `"logTime"`:
		return &e.LogTime
	case `"endTime"`:
		return &e.EndTime
	case `"statementId"`:
		return &e.StatementID
	case `"substatementId"`:
		return &e.SubstatementID
	case `"objectType"`:
		return &e.ObjectType
	case `"command"`:
		return &e.Command
	case `"objectName"`:
		return &e.ObjectName
	case `"databaseName"`:
		return &e.DatabaseName
	case `"dbUserName"`:
		return &e.DBUserName
	case `"remoteHost"`:
		return &e.RemoteHost
	case `"remotePort"`:
		return &e.RemotePort
	case `"sessionId"`:
		return &e.SessionID
	case `"rowCount"`:
		return &e.RowCount
	case `"commandText"`:
		return &e.CommandText
	case `"paramList"`:
		return &e.ParamList
	case `"pid"`:
		return &e.PID
	case `"clientApplication"`:
		return &e.ClientApplication
	case `"exitCode"`:
		return &e.ExitCode
	case `"class"`:
		return &e.Class
	case `"serverHost"`:
		return &e.ServerHost
	case `"errorMessage"`:
		return &e.ErrorMessage
	}
	return nil
}
