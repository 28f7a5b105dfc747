package demo

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// logLine is one log entry of a backend, before formatting.
type logLine struct {
	at   time.Time
	seq  int // order among entries with the same time: session index, then entry index
	sev  string
	msg  string
	s    *session
	tag  string // csvlog command_tag
	st   *stmt  // the statement of an AUDIT or ERROR entry
	hba  bool   // FATAL of a failed login: add the pg_hba DETAIL
	vxid bool
}

const sslTrailer = " SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"

const hbaDetail = `Connection matched pg_hba.conf line 12: "host    all    all    0.0.0.0/0    scram-sha-256"`

// renderLogs writes the cluster's PostgreSQL logs: one file per instance and
// hour, as RDS names them, stderr with the RDS prefix (or csvlog).
func renderLogs(c *cluster, st *ClusterStats) ([]Object, error) {
	byFile := map[string][]logLine{}
	seq := 0
	for _, s := range c.sessions {
		st.Sessions++
		if s.internal {
			st.InternalSessions++
			continue // rdsadmin never reaches the customer's log
		}
		add := func(l logLine) {
			l.s, l.seq = s, seq
			seq++
			name := fmt.Sprintf("%s/logs/%s/postgresql.log.%s", c.name, c.instances[s.inst].id, l.at.UTC().Format("2006-01-02-15"))
			if c.csvlog {
				name += ".csv"
			}
			byFile[name] = append(byFile[name], l)
		}
		add(logLine{at: s.start, sev: "LOG", msg: fmt.Sprintf("connection received: host=%s port=%d", s.host, s.port)})
		if s.authFail != "" {
			add(logLine{at: s.authAt, sev: "FATAL", msg: s.authFail, tag: "authentication", hba: true})
			st.PgAuditEvents++
			continue
		}
		msg := fmt.Sprintf("connection authorized: user=%s database=%s", s.user, s.db)
		if s.app != "" {
			msg += " application_name=" + s.app
		}
		add(logLine{at: s.authAt, sev: "LOG", msg: msg + sslTrailer, tag: "authentication", vxid: true})
		st.PgAuditEvents += 2
		for i := range s.stmts {
			x := &s.stmts[i]
			if x.auditType == "" {
				add(logLine{at: x.at, sev: "ERROR", msg: x.errMsg, tag: x.command, st: x, vxid: true})
				continue
			}
			add(logLine{at: x.at, sev: "LOG", msg: "AUDIT: " + auditPayload(x), tag: x.command, st: x, vxid: true})
			st.PgAuditEvents++
			if x.auditType == "SESSION" {
				st.Statements++
			}
		}
		add(logLine{at: s.end, sev: "LOG", tag: "idle", msg: fmt.Sprintf("disconnection: session time: %s user=%s database=%s host=%s port=%d",
			sessionTime(s.end.Sub(s.start)), s.user, s.db, s.host, s.port)})
	}
	names := make([]string, 0, len(byFile))
	for n := range byFile {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Object, 0, len(names))
	for _, n := range names {
		lines := byFile[n]
		sort.Slice(lines, func(i, j int) bool {
			if !lines[i].at.Equal(lines[j].at) {
				return lines[i].at.Before(lines[j].at)
			}
			return lines[i].seq < lines[j].seq
		})
		var buf bytes.Buffer
		if c.csvlog {
			writeCSVLog(&buf, lines)
		} else {
			writeStderr(&buf, lines)
		}
		out = append(out, Object{Key: n, Data: buf.Bytes()})
	}
	st.LogFiles = len(out)
	return out, nil
}

func sessionTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}

// auditPayload is pgAudit's record: TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,
// COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER,ROWS, each field CSV
// quoted only when needed, PARAMETER a CSV list quoted again as one field.
func auditPayload(x *stmt) string {
	var b strings.Builder
	b.WriteString(x.auditType)
	b.WriteByte(',')
	b.WriteString(strconv.FormatInt(x.id, 10))
	b.WriteByte(',')
	b.WriteString(strconv.FormatInt(x.sub, 10))
	for _, f := range []string{x.class, x.command, x.objType, x.objName, x.text} {
		b.WriteByte(',')
		b.WriteString(pgauditCSV(f))
	}
	b.WriteByte(',')
	if x.params == nil {
		b.WriteString("<none>")
	} else {
		parts := make([]string, len(x.params))
		for i, p := range x.params {
			parts[i] = pgauditCSV(p)
		}
		b.WriteString(pgauditCSV(strings.Join(parts, ",")))
	}
	b.WriteByte(',')
	b.WriteString(strconv.FormatInt(x.rows, 10))
	return b.String()
}

// pgauditCSV quotes like pgAudit's append_valid_csv: only when the value holds
// a quote, a comma or a line break.
func pgauditCSV(s string) string {
	if !strings.ContainsAny(s, "\",\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// writeStderr writes lines with the RDS prefix %t:%r:%u@%d:[%p]:, a TAB
// after every embedded newline, and the DETAIL/STATEMENT lines PostgreSQL adds.
func writeStderr(buf *bytes.Buffer, lines []logLine) {
	for _, l := range lines {
		s := l.s
		prefix := l.at.UTC().Format("2006-01-02 15:04:05 UTC") + ":" + s.host + "(" + strconv.Itoa(s.port) + "):"
		if strings.HasPrefix(l.msg, "connection received:") {
			prefix += "[unknown]@[unknown]"
		} else {
			prefix += s.user + "@" + s.db
		}
		prefix += ":[" + strconv.Itoa(s.pid) + "]:"
		writeEntry(buf, prefix, l.sev, l.msg)
		if l.hba {
			writeEntry(buf, prefix, "DETAIL", hbaDetail)
		}
		if l.sev == "ERROR" && l.st != nil {
			writeEntry(buf, prefix, "STATEMENT", l.st.text)
		}
	}
}

func writeEntry(buf *bytes.Buffer, prefix, sev, msg string) {
	buf.WriteString(prefix)
	buf.WriteString(sev)
	buf.WriteString(":  ")
	buf.WriteString(strings.ReplaceAll(msg, "\n", "\n\t"))
	buf.WriteByte('\n')
}

// writeCSVLog writes PostgreSQL 15's 26-column csvlog.
func writeCSVLog(buf *bytes.Buffer, lines []logLine) {
	lineNum := map[*session]int{}
	for _, l := range lines {
		s := l.s
		lineNum[s]++
		received := strings.HasPrefix(l.msg, "connection received:")
		user, db, app, backend := s.user, s.db, s.app, "client backend"
		if received {
			user, db, app, backend = "", "", "", "not initialized"
		}
		if l.tag == "authentication" {
			app = ""
		}
		xid := "0"
		if l.st != nil && l.st.xid != 0 {
			xid = strconv.FormatInt(l.st.xid, 10)
		}
		vxid := ""
		if l.vxid {
			vxid = fmt.Sprintf("3/%d", s.pid%997+lineNum[s])
		}
		detail, query := "", ""
		if l.hba {
			detail = hbaDetail
		}
		if l.sev == "ERROR" && l.st != nil {
			query = l.st.text
		}
		state := "00000"
		switch {
		case l.hba:
			state = "28P01"
		case l.sev == "ERROR" && l.st != nil:
			state = l.st.sqlState
		}
		fields := []string{
			l.at.UTC().Format("2006-01-02 15:04:05.000 UTC"), csvQ(user), csvQ(db), strconv.Itoa(s.pid),
			csvQ(s.host + ":" + strconv.Itoa(s.port)), s.id(), strconv.Itoa(lineNum[s]), `"` + l.tag + `"`,
			s.start.UTC().Format("2006-01-02 15:04:05 UTC"), vxid, xid, l.sev, state, csvQ(l.msg), csvQ(detail),
			"", "", "", "", csvQ(query), "", "", `"` + strings.ReplaceAll(app, `"`, `""`) + `"`, csvQ(backend), "", "0",
		}
		buf.WriteString(strings.Join(fields, ","))
		buf.WriteByte('\n')
	}
}

// csvQ quotes a csvlog text column; an empty one stays empty (NULL).
func csvQ(s string) string {
	if s == "" {
		return ""
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
