package pgaudit

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// truncMarker is what `aws rds download-db-log-file-portion` leaves where it
// cut a message.
const truncMarker = "[Your log message was truncated]"

// part is which text a TAB continuation line extends.
type part int

const (
	partNone part = iota
	partMsg
	partDetail
	partStmt
	partOther // HINT, CONTEXT, QUERY, LOCATION: read but not kept
)

// stderrReader assembles stderr (and CloudWatch export) lines into records:
// a prefixed line, its TAB continuation lines and the DETAIL/STATEMENT/…
// lines that follow it. A record is handed on when the next one starts.
type stderrReader struct {
	s          *sink
	p          *Prefix
	cloudwatch bool
	m          prefixMatch

	pending bool
	rec     record
	lr      *lineReader
	msg     []byte
	msgStr  string // the message, when it was final at its first line
	msgDone bool
	detail  []byte
	stmt    []byte
	cur     part

	lastTS []byte
	lastT  time.Time
}

func (r *stderrReader) run(in io.Reader) error {
	lr := newLineReader(in)
	r.lr = lr
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		r.s.stats.Lines++
		if lr.n&4095 == 0 {
			if err := r.s.ctx.Err(); err != nil {
				return err
			}
		}
		if lr.partial {
			// A log line always ends with '\n': this one was cut (a download
			// portion, a file still being written). Its record is incomplete.
			if r.pending && len(line) > 0 && line[0] == '\t' {
				r.pending = false
				if err := r.s.reject(r.rec.line, model.ReasonTruncated, fmt.Sprintf("record cut at line %d: truncated last line", lr.n)); err != nil {
					return err
				}
				break
			}
			if err := r.flushPending(); err != nil {
				return err
			}
			if r.p.match(r.stripCloudWatch(line), &r.m) && isSecondary(r.m.sev) {
				break // a cut DETAIL/STATEMENT line of a record already handed on
			}
			if err := r.s.reject(lr.n, model.ReasonTruncated, "truncated last line (no newline at end of file)"); err != nil {
				return err
			}
			break
		}
		if lr.tooLong {
			r.cur = partNone
			if err := r.s.reject(lr.n, model.ReasonParse, fmt.Sprintf("line longer than %d bytes", maxLine)); err != nil {
				return err
			}
			continue
		}
		if err := r.line(line, lr.n); err != nil {
			return err
		}
	}
	return r.flushPending()
}

// stripCloudWatch removes the ISO timestamp a CloudWatch export puts before
// each event's first line.
func (r *stderrReader) stripCloudWatch(line []byte) []byte {
	if !r.cloudwatch || len(line) == 0 || line[0] == '\t' {
		return line
	}
	if n, _, ok := scanISO(line); ok && n < len(line) && line[n] == ' ' {
		return line[n+1:]
	}
	return line
}

func (r *stderrReader) line(line []byte, n int64) error {
	var cwTime time.Time
	if r.cloudwatch && len(line) > 0 && line[0] != '\t' {
		k, t, ok := scanISO(line)
		if !ok || k >= len(line) || line[k] != ' ' {
			r.cur = partNone
			return r.junk(line, n, "line does not start with an ISO-8601 timestamp (CloudWatch export)")
		}
		cwTime, line = t, line[k+1:]
	}
	if len(line) > 0 && line[0] == '\t' {
		return r.continuation(line[1:], n)
	}
	if !r.p.match(line, &r.m) {
		r.cur = partNone
		if bytes.Contains(line, []byte(truncMarker)) {
			return r.s.reject(n, model.ReasonParse, "message truncated by download-db-log-file-portion")
		}
		return r.junk(line, n, "line does not match log_line_prefix "+quote(r.p.spec))
	}
	if isSecondary(r.m.sev) {
		return r.secondary(line, n)
	}
	if err := r.flushPending(); err != nil {
		return err
	}
	r.startRecord(line, n, cwTime)
	return nil
}

func (r *stderrReader) junk(line []byte, n int64, why string) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil // blank lines carry nothing
	}
	return r.s.reject(n, model.ReasonParse, why+": "+quote(string(clip(line, 80))))
}

func (r *stderrReader) continuation(text []byte, n int64) error {
	var buf *[]byte
	switch r.cur {
	case partMsg:
		if r.msgDone {
			r.msg, r.msgDone = append(r.msg[:0], r.msgStr...), false
		}
		buf = &r.msg
	case partDetail:
		buf = &r.detail
	case partStmt:
		buf = &r.stmt
	case partOther:
		return nil
	default:
		return r.s.reject(n, model.ReasonParse, "continuation line without a record before it")
	}
	if len(*buf)+len(text) > maxLine {
		return nil
	}
	*buf = append(*buf, '\n')
	*buf = append(*buf, text...)
	return nil
}

func (r *stderrReader) secondary(line []byte, n int64) error {
	if !r.pending {
		r.cur = partOther
		return r.s.reject(n, model.ReasonParse, r.m.sev+" line without a record before it")
	}
	if v, ok := r.field(fPID, line, r.p.padded); ok && r.rec.hasPID {
		if p, ok := atoiN(v); ok && p != int(r.rec.pid) {
			r.cur = partOther
			return r.s.reject(n, model.ReasonParse, r.m.sev+" line of another process than the record before it")
		}
	}
	text := line[r.m.msgStart:]
	switch r.m.sev {
	case "DETAIL":
		r.detail = append(r.detail[:0], text...)
		r.cur = partDetail
	case "STATEMENT":
		r.stmt = append(r.stmt[:0], text...)
		r.cur = partStmt
	default:
		r.cur = partOther
	}
	return nil
}

func (r *stderrReader) field(k byte, line []byte, pad bool) ([]byte, bool) {
	sp := r.m.spans[k]
	if !r.p.Has(k) || sp.s < 0 {
		return nil, false
	}
	v := line[sp.s:sp.e]
	if pad {
		v = bytes.TrimSpace(v)
	}
	return v, true
}

func (r *stderrReader) startRecord(line []byte, n int64, cwTime time.Time) {
	s := r.s
	r.pending = true
	r.rec = record{line: n, sev: r.m.sev}
	rec := &r.rec
	padded := r.p.padded
	if v, ok := r.field(fTime, line, padded); ok {
		rec.t = r.time(v)
	} else if v, ok := r.field(fTimeMs, line, padded); ok {
		rec.t = r.time(v)
	} else if v, ok := r.field(fEpoch, line, padded); ok {
		rec.t, _ = parseEpoch(v)
	}
	if rec.t.IsZero() {
		rec.t = cwTime
	}
	if v, ok := r.field(fUser, line, padded); ok {
		rec.user, rec.hasUser = s.str(v), true
	}
	if v, ok := r.field(fDatabase, line, padded); ok {
		rec.db, rec.hasDB = s.str(v), true
	}
	if v, ok := r.field(fApp, line, padded); ok {
		rec.app, rec.hasApp = s.str(v), true
	}
	if v, ok := r.field(fHostPort, line, padded); ok {
		rec.hasHost = true
		if i := bytes.LastIndexByte(v, '('); i > 0 && v[len(v)-1] == ')' {
			rec.host = s.str(v[:i])
			rec.port, rec.hasPort = parsePort(string(v[i+1 : len(v)-1]))
		} else {
			rec.host = s.str(v)
		}
	} else if v, ok := r.field(fHost, line, padded); ok {
		rec.host, rec.hasHost = s.str(v), true
	}
	if v, ok := r.field(fPID, line, padded); ok {
		if p, ok := atoiN(v); ok && p <= 1<<31-1 {
			rec.pid, rec.hasPID = int32(p), true
		}
	}
	if v, ok := r.field(fSession, line, padded); ok && len(v) > 0 {
		rec.sid = s.str(v)
	}
	if v, ok := r.field(fStart, line, padded); ok && len(v) > 0 {
		rec.start, _ = parsePGTime(v)
	}
	if v, ok := r.field(fSQLState, line, padded); ok {
		rec.sqlState = s.str(v)
	}
	r.detail, r.stmt = r.detail[:0], r.stmt[:0]
	r.cur = partMsg
	// Most messages are one line: when the next line is already buffered and
	// is not a continuation, take the string now and skip a copy.
	if r.lr != nil && r.lr.br.Buffered() > 0 {
		if nb, _ := r.lr.br.Peek(1); len(nb) == 1 && nb[0] != '\t' {
			r.msgStr, r.msgDone = string(line[r.m.msgStart:]), true
			return
		}
	}
	r.msgDone = false
	r.msg = append(r.msg[:0], line[r.m.msgStart:]...)
}

// time parses a prefix timestamp; consecutive lines mostly share one.
func (r *stderrReader) time(v []byte) time.Time {
	if bytes.Equal(v, r.lastTS) {
		return r.lastT
	}
	t, ok := parsePGTime(v)
	if !ok {
		return time.Time{}
	}
	r.lastTS = append(r.lastTS[:0], v...)
	r.lastT = t
	return t
}

func (r *stderrReader) flushPending() error {
	if !r.pending {
		return nil
	}
	r.pending = false
	r.cur = partNone
	if r.msgDone {
		r.rec.msg = r.msgStr
	} else {
		r.rec.msg = string(r.msg)
	}
	if len(r.detail) > 0 {
		r.rec.detail = string(r.detail)
	}
	if len(r.stmt) > 0 {
		r.rec.stmt = string(r.stmt)
	}
	return r.s.handle(&r.rec)
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
