package pgaudit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// record is one log entry in a format-neutral shape: what a stderr line with
// its DETAIL/STATEMENT lines, a csvlog row or a jsonlog object says.
type record struct {
	line     int64 // line number of the record's first line, 1-based
	t        time.Time
	sev      string
	user, db string
	app      string
	host     string
	port     int32
	pid      int32
	sid      string    // session id given by the format (%c, csv, json); "" = derive
	start    time.Time // session start given by the format (%s, csv, json); zero = unknown
	sqlState string
	msg      string
	bad      string // why the record is rejected; set by readers that map fields late
	detail   string
	stmt     string

	hasPort, hasPID                 bool
	hasUser, hasDB, hasApp, hasHost bool // the format carries the field; else it comes from the session
}

// pidState is what earlier lines of a backend said about its session, for
// formats whose lines do not carry every field (the RDS prefix has no %a and
// no %c).
type pidState struct {
	sid         string
	user, db    string
	app         string
	appAtLogin  string
	host        string
	port        int32
	hasPort     bool
	startedHere bool // the session began with a "connection received" line
}

// nums holds the integer columns of one event so that its pointers cost a
// single allocation.
type nums struct {
	stmt, sub, rows int64
	pid, port       int32
}

// maxRejectsListed bounds the rejects handed to the writer per object: a file
// of garbage must not become a million reject rows. All are counted.
const maxRejectsListed = 200

// sink turns records into rows and hands them out in batches.
type sink struct {
	ctx               context.Context
	ref               string
	cluster, instance string
	emit              model.Emit
	batch             model.Batch
	batchSize         int
	stats             *Stats
	pids              map[int32]*pidState
	intern            map[string]string
	refBuf            []byte
	rejectsListed     int
	sessionsDerived   int64
	sessionsConnected int64
}

func newSink(ctx context.Context, ref string, opt Options, emit model.Emit, st *Stats) *sink {
	bs := opt.BatchSize
	if bs <= 0 {
		bs = 4096
	}
	return &sink{
		ctx: ctx, ref: ref, cluster: opt.Cluster, instance: opt.Instance,
		emit: emit, batchSize: bs, stats: st,
		pids:   make(map[int32]*pidState),
		intern: make(map[string]string),
		// Start small: most objects of a sync are small, and zeroing a full
		// batch of events per object cost more than decoding it. The batch is
		// reused, so a large file grows it once.
		batch: model.Batch{Events: make([]model.Event, 0, min(bs, 64))},
	}
}

// str returns b as a string, sharing one copy of values that repeat on every
// line (user, database, application, host).
func (s *sink) str(b []byte) string {
	if v, ok := s.intern[string(b)]; ok {
		return v
	}
	if len(s.intern) >= 4096 {
		clear(s.intern)
	}
	v := string(b)
	s.intern[v] = v
	return v
}

func (s *sink) objectRef(line int64) string {
	s.refBuf = append(s.refBuf[:0], s.ref...)
	s.refBuf = append(s.refBuf, ':')
	s.refBuf = strconv.AppendInt(s.refBuf, line, 10)
	return string(s.refBuf)
}

func (s *sink) flushIfFull() error {
	if s.batch.Len() >= s.batchSize {
		return s.flush()
	}
	return nil
}

func (s *sink) flush() error {
	if s.batch.Len() == 0 {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if err := s.emit(&s.batch); err != nil {
		return fmt.Errorf("emit batch of %s: %w", s.ref, err)
	}
	s.batch.Reset()
	return nil
}

// reject counts a line that could not be decoded and lists it while under the cap.
func (s *sink) reject(line int64, reason, detail string) error {
	s.stats.Rejects++
	if s.rejectsListed >= maxRejectsListed {
		return nil
	}
	s.rejectsListed++
	s.batch.Rejects = append(s.batch.Rejects, model.Reject{Offset: line, Reason: reason, Detail: detail})
	return s.flushIfFull()
}

// finish lists the summary rejects and emits the last batch.
func (s *sink) finish(noMatchDetail string) error {
	if s.stats.Rejects > int64(s.rejectsListed) {
		s.batch.Rejects = append(s.batch.Rejects, model.Reject{
			Offset: 0, Reason: model.ReasonParse,
			Detail: fmt.Sprintf("%d more rejected lines not listed", s.stats.Rejects-int64(s.rejectsListed)),
		})
	}
	if s.stats.Records == 0 && noMatchDetail != "" {
		s.stats.Rejects++
		s.batch.Rejects = append(s.batch.Rejects, model.Reject{Offset: 0, Reason: model.ReasonNoMatch, Detail: noMatchDetail})
	}
	return s.flush()
}

// session resolves the session of rec and fills the fields its format does
// not carry from what earlier lines of the same backend said.
func (s *sink) session(rec *record) *pidState {
	if !rec.hasPID {
		return nil
	}
	st := s.pids[rec.pid]
	received := strings.HasPrefix(rec.msg, "connection received:")
	if st == nil || received {
		st = &pidState{startedHere: received}
		if rec.sid == "" {
			// PostgreSQL's session id is hex(backend start epoch).hex(pid). The
			// start is the first line we see of the backend: "connection
			// received" is logged within milliseconds of the fork.
			start := rec.start
			if start.IsZero() {
				start = rec.t
			}
			st.sid = strconv.FormatInt(start.Unix(), 16) + "." + strconv.FormatInt(int64(rec.pid), 16)
			s.sessionsDerived++
			if received {
				s.sessionsConnected++
			}
		}
		s.pids[rec.pid] = st
	}
	if rec.sid == "" {
		rec.sid = st.sid
	}
	if !rec.hasUser {
		rec.user = st.user
	}
	if !rec.hasDB {
		rec.db = st.db
	}
	if !rec.hasApp {
		rec.app = st.app
	}
	if !rec.hasHost && st.host != "" {
		rec.host, rec.port, rec.hasPort = st.host, st.port, st.hasPort
	}
	return st
}

// handle turns one record into an event, a server message, both or nothing.
func (s *sink) handle(rec *record) error {
	if rec.bad != "" {
		return s.reject(rec.line, model.ReasonParse, rec.bad)
	}
	s.stats.Records++
	if rec.user == "[unknown]" {
		rec.user = ""
	}
	if rec.db == "[unknown]" {
		rec.db = ""
	}
	st := s.session(rec)
	msg := rec.msg
	switch {
	case strings.HasPrefix(msg, auditTag):
		a, err := ParseAudit(msg)
		if err != nil {
			return s.reject(rec.line, model.ReasonParse, fmt.Sprintf("malformed AUDIT record: %v", err))
		}
		if st != nil && !rec.hasApp && a.Class == "MISC" {
			if app, ok := trackApplicationName(a.Command, a.Statement, st.appAtLogin); ok {
				st.app = app
				rec.app = app
			}
		}
		num := &nums{stmt: a.StatementID, sub: a.SubstatementID, rows: a.Rows}
		ev := s.event(rec, num)
		ev.StatementID, ev.SubstatementID = &num.stmt, &num.sub
		if a.HasRows {
			ev.RowCount = &num.rows
		}
		ev.AuditType, ev.Class, ev.Command = a.AuditType, a.Class, a.Command
		ev.ObjectType, ev.ObjectName, ev.Statement, ev.Params = a.ObjectType, a.ObjectName, a.Statement, a.Params
		return s.addEvent(ev)
	case strings.HasPrefix(msg, "connection received:"):
		if st != nil {
			if h, p, ok := hostPortKV(msg); ok {
				st.host = s.str([]byte(h))
				st.port, st.hasPort = parsePort(p)
				if !rec.hasHost {
					rec.host, rec.port, rec.hasPort = st.host, st.port, st.hasPort
				}
			} else if rec.hasHost {
				st.host, st.port, st.hasPort = rec.host, rec.port, rec.hasPort
			}
		}
		return nil
	case strings.HasPrefix(msg, "connection authorized:"), strings.HasPrefix(msg, "replication connection authorized:"):
		user, db, app, hasApp := parseAuthorized(msg)
		if st != nil {
			if !rec.hasUser {
				rec.user = s.str([]byte(user))
			}
			if !rec.hasDB {
				rec.db = s.str([]byte(db))
			}
			st.user, st.db = rec.user, rec.db
			if hasApp {
				st.app = s.str([]byte(app))
				st.appAtLogin = st.app
			}
		}
		if rec.app == "" && hasApp {
			// csvlog and jsonlog log this line before the session's
			// application_name is set; the message has it.
			rec.app = s.str([]byte(app))
		}
		ev := s.event(rec, nil)
		ev.Class, ev.Command = model.ClassConnect, "CONNECT"
		return s.addEvent(ev)
	case strings.HasPrefix(msg, "disconnection:"):
		if !rec.hasHost && rec.host == "" {
			if h, p, ok := hostPortKV(msg); ok {
				rec.host = s.str([]byte(h))
				rec.port, rec.hasPort = parsePort(p)
			}
		}
		ev := s.event(rec, nil)
		ev.Class, ev.Command = model.ClassConnect, "DISCONNECT"
		if rec.hasPID {
			delete(s.pids, rec.pid)
		}
		return s.addEvent(ev)
	}
	switch rec.sev {
	case "ERROR", "FATAL", "PANIC", "WARNING":
	default:
		return nil
	}
	if rec.sev == "FATAL" {
		if user, ok := authFailure(msg); ok {
			if user != "" && rec.user == "" {
				rec.user = user
			}
			if rec.app == "" && st != nil {
				rec.app = st.app // as the stderr log knows it from "connection authorized"
			}
			ev := s.event(rec, nil)
			ev.Class, ev.Command, ev.ErrorMessage = model.ClassConnect, "CONNECT", msg
			if err := s.addEvent(ev); err != nil {
				return err
			}
		}
	}
	m := model.ServerMessage{
		Cluster: s.cluster, Instance: s.instance, LogTime: rec.t, Severity: rec.sev,
		SessionID: rec.sid, UserName: rec.user, DatabaseName: rec.db, RemoteHost: rec.host,
		SQLState: rec.sqlState, Message: msg, Detail: rec.detail, Statement: rec.stmt,
		ObjectRef: s.objectRef(rec.line),
	}
	if rec.hasPID {
		m.PID = model.Int32(rec.pid)
	}
	if (rec.sev == "FATAL" || rec.sev == "PANIC") && rec.hasPID {
		// The backend exits: a later line with this pid is another session.
		delete(s.pids, rec.pid)
	}
	s.stats.Messages++
	s.batch.Messages = append(s.batch.Messages, m)
	return s.flushIfFull()
}

// event builds the common part of an event; n, when given, receives the
// integer columns (one allocation for all of an event's pointers).
func (s *sink) event(rec *record, n *nums) model.Event {
	ev := model.Event{
		Source: model.SourcePgAudit, Cluster: s.cluster, Instance: s.instance,
		LogTime: rec.t, SessionID: rec.sid,
		DatabaseName: rec.db, UserName: rec.user, ApplicationName: rec.app,
		RemoteHost: rec.host, ObjectRef: s.ref, RefLine: rec.line,
		Internal: model.IsInternalUser(rec.user), Raw: rec.msg,
	}
	if rec.hasPID || rec.hasPort {
		if n == nil {
			n = &nums{}
		}
		n.pid, n.port = rec.pid, rec.port
		if rec.hasPID {
			ev.PID = &n.pid
		}
		if rec.hasPort {
			ev.RemotePort = &n.port
		}
	}
	return ev
}

func (s *sink) addEvent(ev model.Event) error {
	s.stats.Events++
	s.batch.Events = append(s.batch.Events, ev)
	return s.flushIfFull()
}

// hostPortKV reads "host=H[ port=P]" from connection and disconnection messages.
func hostPortKV(msg string) (host, port string, ok bool) {
	i := strings.LastIndex(msg, "host=")
	if i < 0 {
		return "", "", false
	}
	rest := msg[i+len("host="):]
	if j := strings.Index(rest, " port="); j >= 0 {
		return rest[:j], strings.TrimSpace(rest[j+len(" port="):]), true
	}
	return strings.TrimSpace(rest), "", true
}

func parsePort(p string) (int32, bool) {
	v, ok := parseInt(p)
	if !ok || v > 65535 {
		return 0, false
	}
	return int32(v), true
}

// parseAuthorized reads "connection authorized: user=U database=D
// application_name=A[ SSL enabled (…)][ GSS (…)]". Names are not escaped, so
// the keys are searched in order and the trailers from the right.
func parseAuthorized(msg string) (user, db, app string, hasApp bool) {
	i := strings.Index(msg, "user=")
	if i < 0 {
		return "", "", "", false
	}
	rest := msg[i+len("user="):]
	j := strings.Index(rest, " database=")
	if j < 0 {
		return cutTrailers(rest), "", "", false
	}
	user, rest = rest[:j], rest[j+len(" database="):]
	if k := strings.Index(rest, " application_name="); k >= 0 {
		return user, rest[:k], cutTrailers(rest[k+len(" application_name="):]), true
	}
	return user, cutTrailers(rest), "", false
}

func cutTrailers(s string) string {
	for _, t := range [...]string{" SSL enabled (", " GSS (", " identity="} {
		if k := strings.LastIndex(s, t); k >= 0 {
			s = s[:k]
		}
	}
	return s
}

// authFailure recognises FATAL messages of a login that did not succeed and
// returns the user they name, if any.
func authFailure(msg string) (string, bool) {
	switch {
	case strings.Contains(msg, "authentication failed for user \""):
		i := strings.Index(msg, "for user \"")
		u := msg[i+len("for user \""):]
		if j := strings.LastIndexByte(u, '"'); j >= 0 {
			u = u[:j]
		}
		return u, true
	case strings.HasPrefix(msg, "role \"") && strings.HasSuffix(msg, "\" does not exist"):
		return msg[len("role \"") : len(msg)-len("\" does not exist")], true
	case strings.HasPrefix(msg, "database \"") && strings.HasSuffix(msg, "\" does not exist"),
		strings.HasPrefix(msg, "no pg_hba.conf entry for"),
		strings.HasPrefix(msg, "pg_hba.conf rejects connection"),
		strings.HasPrefix(msg, "permission denied for database"),
		strings.HasPrefix(msg, "too many connections for role"),
		strings.HasPrefix(msg, "sorry, too many clients already"),
		strings.HasSuffix(msg, "is not permitted to log in"):
		return "", true
	}
	return "", false
}

// trackApplicationName follows SET/RESET application_name for formats without
// the application name on each line, so rows carry the name the server would
// have logged. It returns false when the statement does not change it.
func trackApplicationName(command, stmt, atLogin string) (string, bool) {
	s := strings.TrimSpace(stmt)
	s = strings.TrimSuffix(s, ";")
	switch command {
	case "RESET":
		f := strings.Fields(strings.ToLower(s))
		if len(f) == 2 && (f[1] == "application_name" || f[1] == "all") {
			return atLogin, true
		}
		return "", false
	case "SET":
	default:
		return "", false
	}
	f := strings.Fields(s)
	if len(f) < 2 || !strings.EqualFold(f[0], "SET") {
		return "", false
	}
	rest := strings.TrimSpace(s[len("SET"):])
	if len(f) > 2 && strings.EqualFold(f[1], "SESSION") && !strings.EqualFold(f[2], "AUTHORIZATION") {
		rest = strings.TrimSpace(rest[len("SESSION"):])
	}
	const key = "application_name"
	if len(rest) < len(key) || !strings.EqualFold(rest[:len(key)], key) {
		return "", false
	}
	rest = strings.TrimSpace(rest[len(key):])
	switch {
	case strings.HasPrefix(rest, "="):
		rest = strings.TrimSpace(rest[1:])
	case len(rest) > 3 && strings.EqualFold(rest[:3], "TO "):
		rest = strings.TrimSpace(rest[3:])
	default:
		return "", false
	}
	if strings.EqualFold(rest, "DEFAULT") {
		return atLogin, true
	}
	if len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' {
		return strings.ReplaceAll(rest[1:len(rest)-1], "''", "'"), true
	}
	if strings.ContainsAny(rest, " ,'\"") {
		return "", false
	}
	return rest, true
}
