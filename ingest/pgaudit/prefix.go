package pgaudit

import (
	"bytes"
	"fmt"
	"strconv"
)

// Prefix field kinds: the escape letter of log_line_prefix.
const (
	fApp        = 'a' // application name
	fBackend    = 'b' // backend type
	fSession    = 'c' // session id
	fDatabase   = 'd'
	fSQLState   = 'e'
	fHost       = 'h' // remote host
	fTag        = 'i' // command tag
	fLineNum    = 'l' // session line number
	fTimeMs     = 'm' // timestamp with milliseconds
	fEpoch      = 'n' // epoch with milliseconds
	fPID        = 'p'
	fLeader     = 'P' // parallel group leader pid
	fQueryID    = 'Q'
	fHostPort   = 'r' // host(port)
	fStart      = 's' // session start time
	fTime       = 't' // timestamp, 1 s
	fUser       = 'u'
	fVXID       = 'v'
	fXID        = 'x'
	litToken    = 0
	maxTokens   = 64
	maxPrefixSz = 4096 // no prefix is longer: names are ≤ 63 bytes
)

type token struct {
	kind byte   // litToken or a field letter
	lit  []byte // for litToken
	pad  int    // %-10u / %10u padding width (absolute)
}

// Prefix is a compiled log_line_prefix. A Prefix is immutable and may be shared
// by goroutines; matching state lives in the caller's prefixMatch.
type Prefix struct {
	spec  string
	full  []token
	short []token // the tokens before %q (non-session processes stop there); nil without %q
	has   [128]bool
	kinds []byte // the field letters used, to reset spans cheaply
	// padded is set when any field has a width (%-10u): values then carry
	// spaces that are trimmed.
	padded bool
}

// String returns the log_line_prefix the Prefix was compiled from.
func (p *Prefix) String() string { return p.spec }

// Has reports whether the prefix carries the field with escape letter c.
func (p *Prefix) Has(c byte) bool { return c < 128 && p.has[c] }

// CompilePrefix compiles a PostgreSQL log_line_prefix. Supported escapes:
// %a %b %c %d %e %h %i %l %m %n %p %P %Q %r %s %t %u %v %x %q %% with
// optional padding (%-10u, %10u). Unknown escapes are an error, because a
// silently wrong prefix would misattribute users and databases.
func CompilePrefix(spec string) (*Prefix, error) {
	p := &Prefix{spec: spec}
	var lit []byte
	toks := &p.full
	flush := func() {
		if len(lit) > 0 {
			*toks = append(*toks, token{kind: litToken, lit: lit})
			lit = nil
		}
	}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c != '%' {
			lit = append(lit, c)
			continue
		}
		i++
		if i >= len(spec) {
			return nil, fmt.Errorf("compile log_line_prefix %q: trailing %%", spec)
		}
		pad := 0
		if spec[i] == '-' || (spec[i] >= '0' && spec[i] <= '9') {
			j := i
			if spec[j] == '-' {
				j++
			}
			k := j
			for k < len(spec) && spec[k] >= '0' && spec[k] <= '9' {
				k++
			}
			if k == j || k >= len(spec) {
				return nil, fmt.Errorf("compile log_line_prefix %q: bad padding at %d", spec, i)
			}
			n, err := strconv.Atoi(spec[j:k])
			if err != nil || n > 1000 {
				return nil, fmt.Errorf("compile log_line_prefix %q: bad padding at %d", spec, i)
			}
			pad = n
			i = k
		}
		switch c := spec[i]; c {
		case '%':
			lit = append(lit, '%')
		case 'q':
			flush()
			if p.short != nil {
				return nil, fmt.Errorf("compile log_line_prefix %q: more than one %%q", spec)
			}
			p.short = append([]token{}, p.full...)
		case fApp, fBackend, fSession, fDatabase, fSQLState, fHost, fTag, fLineNum, fTimeMs, fEpoch,
			fPID, fLeader, fQueryID, fHostPort, fStart, fTime, fUser, fVXID, fXID:
			flush()
			*toks = append(*toks, token{kind: c, pad: pad})
			p.padded = p.padded || pad > 0
			if !p.has[c] {
				p.kinds = append(p.kinds, c)
			}
			p.has[c] = true
		default:
			return nil, fmt.Errorf("compile log_line_prefix %q: unsupported escape %%%c", spec, c)
		}
	}
	flush()
	if len(p.full) > maxTokens {
		return nil, fmt.Errorf("compile log_line_prefix %q: too many escapes", spec)
	}
	return p, nil
}

// span is a field's position in the matched line; e == -1 when absent.
type span struct{ s, e int }

// prefixMatch holds the spans of one match; reused across lines.
type prefixMatch struct {
	spans    [128]span
	sev      string // severity word, e.g. "LOG"
	msgStart int    // index of the message after "SEV:  "
	budget   int    // backtracking steps left; bounds the work on hostile lines
}

// severities that can follow the prefix, with the ones that attach to the
// previous record (secondary) marked.
var severityWords = [...]string{
	"LOG", "ERROR", "FATAL", "PANIC", "WARNING", "NOTICE", "INFO", "DEBUG",
	"DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5",
	"DETAIL", "HINT", "QUERY", "CONTEXT", "STATEMENT", "LOCATION",
}

// isSecondary reports whether the severity word is a part of the previous
// record (DETAIL, HINT, …) rather than a record of its own.
func isSecondary(sev string) bool {
	switch sev {
	case "DETAIL", "HINT", "QUERY", "CONTEXT", "STATEMENT", "LOCATION":
		return true
	}
	return false
}

// match finds the earliest "SEVERITY:  " after which line[:sevStart] matches
// the prefix exactly. Because user and database names are not escaped, the
// severity is the anchor and the prefix fields are fitted between it and the
// start of the line.
func (p *Prefix) match(line []byte, m *prefixMatch) bool {
	limit := len(line)
	if limit > maxPrefixSz+16 {
		limit = maxPrefixSz + 16
	}
	// The work per line is bounded (anchors tried, backtracking steps) so a
	// hostile line costs at most a millisecond or two and is then rejected.
	m.budget = 2048
	from := 0
	for anchors := 0; anchors < 32 && m.budget > 0; anchors++ {
		i := bytes.Index(line[from:limit], []byte(":  "))
		if i < 0 {
			return false
		}
		i += from
		from = i + 1
		for _, w := range severityWords {
			if i < len(w) || string(line[i-len(w):i]) != w {
				continue
			}
			ps := i - len(w)
			if p.matchTokens(line[:ps], m) {
				m.sev = w
				m.msgStart = i + 3
				return true
			}
		}
	}
	return false
}

func (p *Prefix) matchTokens(pre []byte, m *prefixMatch) bool {
	for _, k := range p.kinds {
		m.spans[k] = span{-1, -1}
	}
	if matchFrom(p.full, pre, 0, m) {
		return true
	}
	if p.short != nil {
		for _, k := range p.kinds {
			m.spans[k] = span{-1, -1}
		}
		return matchFrom(p.short, pre, 0, m)
	}
	return false
}

// matchFrom matches toks against s[pos:], which must be consumed exactly.
// Fixed-shape fields (times, numbers, host(port)) are scanned; free-text
// fields (user, database, application) try every end from the right, so that
// the last valid split wins.
func matchFrom(toks []token, s []byte, pos int, m *prefixMatch) bool {
	m.budget--
	if m.budget < 0 {
		return false
	}
	if len(toks) == 0 {
		return pos == len(s)
	}
	t := toks[0]
	if t.kind == litToken {
		if !bytes.HasPrefix(s[pos:], t.lit) {
			return false
		}
		return matchFrom(toks[1:], s, pos+len(t.lit), m)
	}
	if t.pad == 0 {
		if n, fixed := scanField(t.kind, s[pos:]); fixed {
			if n >= 0 {
				m.spans[t.kind] = span{pos, pos + n}
				if matchFrom(toks[1:], s, pos+n, m) {
					return true
				}
			}
			if n != 0 && canBeEmpty(t.kind) {
				m.spans[t.kind] = span{pos, pos}
				return matchFrom(toks[1:], s, pos, m)
			}
			return false
		}
	}
	// Free text: try ends from the right.
	if len(toks) == 1 {
		m.spans[t.kind] = span{pos, len(s)}
		return true
	}
	next := toks[1]
	for end := len(s); end >= pos; end-- {
		if next.kind == litToken {
			hi := end + len(next.lit)
			if hi > len(s) {
				hi = len(s)
			}
			j := bytes.LastIndex(s[pos:hi], next.lit)
			if j < 0 {
				return false
			}
			end = pos + j
		}
		m.spans[t.kind] = span{pos, end}
		if matchFrom(toks[1:], s, end, m) {
			return true
		}
		if m.budget < 0 {
			return false
		}
	}
	return false
}

// canBeEmpty reports the fixed-shape fields that PostgreSQL prints as nothing
// in some processes (background workers have no remote host, no vxid, …).
func canBeEmpty(kind byte) bool {
	switch kind {
	case fHostPort, fVXID, fLeader, fSession, fLineNum, fXID, fSQLState, fQueryID, fStart:
		return true
	}
	return false
}

// scanField returns the length of the fixed-shape field at the start of s
// (-1 if it does not fit) and fixed=false for free-text fields.
func scanField(kind byte, s []byte) (n int, fixed bool) {
	switch kind {
	case fTime, fStart:
		return scanTimestamp(s, false), true
	case fTimeMs:
		return scanTimestamp(s, true), true
	case fEpoch:
		n := digits(s)
		if n == 0 {
			return -1, true
		}
		if n < len(s) && s[n] == '.' {
			n += 1 + digits(s[n+1:])
		}
		return n, true
	case fPID, fLineNum, fXID, fLeader:
		if n := digits(s); n > 0 {
			return n, true
		}
		return -1, true
	case fQueryID:
		i := 0
		if len(s) > 0 && s[0] == '-' {
			i = 1
		}
		if n := digits(s[i:]); n > 0 {
			return i + n, true
		}
		return -1, true
	case fSession:
		a := hexDigits(s)
		if a == 0 || a >= len(s) || s[a] != '.' {
			return -1, true
		}
		b := hexDigits(s[a+1:])
		if b == 0 {
			return -1, true
		}
		return a + 1 + b, true
	case fVXID:
		a := digits(s)
		if a == 0 || a >= len(s) || s[a] != '/' {
			return -1, true
		}
		b := digits(s[a+1:])
		if b == 0 {
			return -1, true
		}
		return a + 1 + b, true
	case fSQLState:
		if len(s) < 5 {
			return -1, true
		}
		for _, c := range s[:5] {
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				return -1, true
			}
		}
		return 5, true
	case fHostPort:
		if bytes.HasPrefix(s, []byte("[local]")) {
			return 7, true
		}
		// host(port): the host has no '(' and no space.
		i := 0
		for i < len(s) && s[i] != '(' && s[i] != ' ' {
			i++
		}
		if i == 0 || i >= len(s) || s[i] != '(' {
			return -1, true
		}
		d := digits(s[i+1:])
		if d == 0 || i+1+d >= len(s) || s[i+1+d] != ')' {
			return -1, true
		}
		return i + d + 2, true
	}
	return 0, false
}

func digits(s []byte) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func hexDigits(s []byte) int {
	n := 0
	for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] >= 'a' && s[n] <= 'f') {
		n++
	}
	return n
}

// scanTimestamp matches "YYYY-MM-DD HH:MM:SS[.mmm] ZONE" where ZONE is an
// abbreviation or numeric offset (log_timezone decides).
func scanTimestamp(s []byte, ms bool) int {
	const shape = "dddd-dd-dd dd:dd:dd"
	if len(s) < len(shape) {
		return -1
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == 'd' {
			if s[i] < '0' || s[i] > '9' {
				return -1
			}
		} else if s[i] != shape[i] {
			return -1
		}
	}
	n := len(shape)
	if ms {
		if n+4 > len(s) || s[n] != '.' || digits(s[n+1:n+4]) != 3 {
			return -1
		}
		n += 4
	}
	if n >= len(s) || s[n] != ' ' {
		return -1
	}
	n++
	z := 0
	for n+z < len(s) && isZoneChar(s[n+z]) {
		z++
	}
	if z == 0 {
		return -1
	}
	return n + z
}

func isZoneChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-'
}
