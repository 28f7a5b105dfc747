package pgaudit

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/auditlens/auditlens/store/model"
)

// jsonEntry is one jsonlog line (PostgreSQL 15+). Absent keys mean empty
// values: PostgreSQL omits keys that have no value.
type jsonEntry struct {
	Timestamp    string `json:"timestamp"`
	User         string `json:"user"`
	DBName       string `json:"dbname"`
	PID          *int64 `json:"pid"`
	RemoteHost   string `json:"remote_host"`
	RemotePort   *int64 `json:"remote_port"`
	SessionID    string `json:"session_id"`
	SessionStart string `json:"session_start"`
	Severity     string `json:"error_severity"`
	StateCode    string `json:"state_code"`
	Message      string `json:"message"`
	Detail       string `json:"detail"`
	Statement    string `json:"statement"`
	Application  string `json:"application_name"`
}

func readJSONLog(s *sink, in io.Reader) error {
	lr := newLineReader(in)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		s.stats.Lines++
		if lr.n&4095 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			continue
		}
		if lr.tooLong {
			if err := s.reject(lr.n, model.ReasonParse, fmt.Sprintf("jsonlog line longer than %d bytes", maxLine)); err != nil {
				return err
			}
			continue
		}
		var e jsonEntry
		if err := json.Unmarshal(line, &e); err != nil {
			reason := model.ReasonParse
			if lr.partial {
				reason = model.ReasonTruncated
			}
			if rerr := s.reject(lr.n, reason, "jsonlog: "+err.Error()); rerr != nil {
				return rerr
			}
			continue
		}
		t, ok := parsePGTime([]byte(e.Timestamp))
		if !ok {
			if err := s.reject(lr.n, model.ReasonParse, "jsonlog timestamp "+quote(truncate(e.Timestamp, 40))+" is not a timestamp"); err != nil {
				return err
			}
			continue
		}
		rec := record{
			line: lr.n, t: t, sev: s.str([]byte(e.Severity)),
			user: s.str([]byte(e.User)), db: s.str([]byte(e.DBName)),
			app: s.str([]byte(e.Application)), sid: s.str([]byte(e.SessionID)),
			host: s.str([]byte(e.RemoteHost)), sqlState: s.str([]byte(e.StateCode)),
			msg: e.Message, detail: e.Detail, stmt: e.Statement,
			hasUser: true, hasDB: true, hasApp: true, hasHost: true,
		}
		if e.PID != nil && *e.PID >= 0 && *e.PID <= 1<<31-1 {
			rec.pid, rec.hasPID = int32(*e.PID), true
		}
		if e.RemotePort != nil && *e.RemotePort >= 0 && *e.RemotePort <= 65535 {
			rec.port, rec.hasPort = int32(*e.RemotePort), true
		}
		rec.start, _ = parsePGTime([]byte(e.SessionStart))
		if err := s.handle(&rec); err != nil {
			return err
		}
	}
}
