package pgaudit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

const corpusDir = "../../testdata/pgaudit"

// expected is the part of expected.json the decoder must reproduce.
type expected struct {
	LogEntriesTotal       int64            `json:"log_entries_total"`
	BySeverity            map[string]int   `json:"by_error_severity"`
	AuditRecordsTotal     int              `json:"audit_records_total"`
	ByAuditType           map[string]int   `json:"by_audit_type"`
	ByClass               map[string]int   `json:"by_class"`
	ByTypeAndClass        map[string]int   `json:"by_type_and_class"`
	ByCommand             map[string]int   `json:"by_command"`
	ByDatabase            map[string]int   `json:"by_database"`
	ByUser                map[string]int   `json:"by_user"`
	ByObjectType          map[string]int   `json:"by_object_type"`
	RecordsWithParameters int              `json:"records_with_parameters"`
	RecordsNonEmptyParam  int              `json:"records_with_nonempty_parameter_field"`
	RecordsEmptyParam     int              `json:"records_with_empty_parameter_field"`
	RecordsWithObjectName int              `json:"records_with_object_name"`
	RowsSum               int64            `json:"rows_sum"`
	DistinctStatements    int              `json:"distinct_statements"`
	DistinctSubstatements int              `json:"distinct_substatements"`
	DistinctSessions      int              `json:"distinct_sessions_with_audit"`
	MaxSubstatementID     int64            `json:"max_substatement_id"`
	Connections           map[string]int   `json:"connections"`
	Samples               []expectedSample `json:"samples"`
}

type expectedSample struct {
	Rule           string    `json:"rule"`
	LogTime        string    `json:"log_time"`
	User           string    `json:"user"`
	DB             string    `json:"db"`
	PID            int32     `json:"pid"`
	ConnectionFrom string    `json:"connection_from"`
	Application    string    `json:"application_name"`
	SessionID      string    `json:"session_id"`
	AuditType      string    `json:"audit_type"`
	StatementID    int64     `json:"statement_id"`
	SubstatementID int64     `json:"substatement_id"`
	Class          string    `json:"class"`
	Command        string    `json:"command"`
	ObjectType     string    `json:"object_type"`
	ObjectName     string    `json:"object_name"`
	Statement      string    `json:"statement"`
	ParameterRaw   string    `json:"parameter_raw"`
	Parameter      *[]string `json:"parameter"`
	Rows           *int64    `json:"rows"`
}

type decoded struct {
	stats    Stats
	events   []model.Event
	messages []model.ServerMessage
	rejects  []model.Reject
}

func decodeBytes(t testing.TB, ref string, data []byte, opt Options) decoded {
	t.Helper()
	var d decoded
	st, err := Decode(context.Background(), ref, bytes.NewReader(data), opt, func(b *model.Batch) error {
		d.events = append(d.events, b.Events...)
		d.messages = append(d.messages, b.Messages...)
		d.rejects = append(d.rejects, b.Rejects...)
		return nil
	})
	if err != nil {
		t.Fatalf("Decode %s: %v", ref, err)
	}
	d.stats = st
	return d
}

func decodeFile(t testing.TB, path string, opt Options) decoded {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeBytes(t, path, data, opt)
}

func audits(evs []model.Event) []model.Event {
	var out []model.Event
	for _, e := range evs {
		if e.AuditType != "" {
			out = append(out, e)
		}
	}
	return out
}

// corpusFiles returns the stderr, csvlog and jsonlog files of a cluster folder
// and the Aurora-named copy of the stderr file ("" if there is none).
func corpusFiles(t testing.TB, cluster string) (stderr, csvlog, jsonlog, aurora string) {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(corpusDir, cluster, "postgresql.log.*"))
	if err != nil || len(all) == 0 {
		t.Fatalf("corpus %s: %v", cluster, err)
	}
	for _, f := range all {
		base := filepath.Base(f)
		switch {
		case strings.HasSuffix(base, ".csv"):
			csvlog = f
		case strings.HasSuffix(base, ".json"):
			jsonlog = f
		case len(base) == len("postgresql.log.2026-11-25-11"):
			stderr = f
		default:
			aurora = f
		}
	}
	return
}

var corpusClusters = []string{"orders-prod", "billing-prod", "inventory-prod"}

func loadExpected(t *testing.T, cluster string) expected {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, cluster, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCorpusCounts(t *testing.T) {
	for _, cluster := range corpusClusters {
		exp := loadExpected(t, cluster)
		stderr, csvlog, jsonlog, _ := corpusFiles(t, cluster)
		for _, f := range []struct{ format, path string }{{FormatStderr, stderr}, {FormatCSVLog, csvlog}, {FormatJSONLog, jsonlog}} {
			t.Run(cluster+"/"+f.format, func(t *testing.T) {
				d := decodeFile(t, f.path, Options{Cluster: cluster})
				if d.stats.Format != f.format {
					t.Errorf("detected format %q, want %q", d.stats.Format, f.format)
				}
				if f.format == FormatStderr && d.stats.LinePrefix != RDSPrefix {
					t.Errorf("detected prefix %q, want %q", d.stats.LinePrefix, RDSPrefix)
				}
				checkCounts(t, exp, d)
				checkSamples(t, exp, d, f.format == FormatStderr)
			})
		}
	}
}

func checkCounts(t *testing.T, exp expected, d decoded) {
	t.Helper()
	if d.stats.Rejects != 0 || len(d.rejects) != 0 {
		t.Errorf("rejects = %d %v, want none", d.stats.Rejects, d.rejects)
	}
	if d.stats.Records != exp.LogEntriesTotal {
		t.Errorf("records = %d, want log_entries_total %d", d.stats.Records, exp.LogEntriesTotal)
	}
	au := audits(d.events)
	if len(au) != exp.AuditRecordsTotal {
		t.Errorf("audit records = %d, want %d", len(au), exp.AuditRecordsTotal)
	}
	count := func(key func(model.Event) string) map[string]int {
		m := map[string]int{}
		for _, e := range au {
			m[key(e)]++
		}
		return m
	}
	for _, c := range []struct {
		name string
		want map[string]int
		key  func(model.Event) string
	}{
		{"by_audit_type", exp.ByAuditType, func(e model.Event) string { return e.AuditType }},
		{"by_class", exp.ByClass, func(e model.Event) string { return e.Class }},
		{"by_type_and_class", exp.ByTypeAndClass, func(e model.Event) string { return e.AuditType + "/" + e.Class }},
		{"by_command", exp.ByCommand, func(e model.Event) string { return e.Command }},
		{"by_database", exp.ByDatabase, func(e model.Event) string { return e.DatabaseName }},
		{"by_user", exp.ByUser, func(e model.Event) string { return e.UserName }},
		{"by_object_type", exp.ByObjectType, func(e model.Event) string { return e.ObjectType }},
	} {
		if got := count(c.key); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	var withParams, nonEmpty, empty, withName int
	var rows, maxSub int64
	stmts, subs, sessions := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range au {
		if e.Params != nil {
			withParams++
			if len(e.Params) == 1 && e.Params[0] == "" {
				empty++
			} else {
				nonEmpty++
			}
		}
		if e.ObjectName != "" {
			withName++
		}
		if e.RowCount != nil {
			rows += *e.RowCount
		}
		maxSub = max(maxSub, *e.SubstatementID)
		stmts[fmt.Sprint(e.SessionID, *e.StatementID)] = true
		subs[fmt.Sprint(e.SessionID, *e.StatementID, *e.SubstatementID)] = true
		sessions[e.SessionID] = true
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"records_with_parameters", int64(withParams), int64(exp.RecordsWithParameters)},
		{"records_with_nonempty_parameter_field", int64(nonEmpty), int64(exp.RecordsNonEmptyParam)},
		{"records_with_empty_parameter_field", int64(empty), int64(exp.RecordsEmptyParam)},
		{"records_with_object_name", int64(withName), int64(exp.RecordsWithObjectName)},
		{"rows_sum", rows, exp.RowsSum},
		{"max_substatement_id", maxSub, exp.MaxSubstatementID},
		{"distinct_statements", int64(len(stmts)), int64(exp.DistinctStatements)},
		{"distinct_substatements", int64(len(subs)), int64(exp.DistinctSubstatements)},
		{"distinct_sessions_with_audit", int64(len(sessions)), int64(exp.DistinctSessions)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	var connect, disconnect, failed, pwFailed int
	for _, e := range d.events {
		switch {
		case e.Class != model.ClassConnect:
		case e.Command == "DISCONNECT":
			disconnect++
		case e.ErrorMessage == "":
			connect++
		default:
			failed++
			if strings.HasPrefix(e.ErrorMessage, "password authentication failed") {
				pwFailed++
			}
		}
	}
	if connect != exp.Connections["connection_authorized"] || disconnect != exp.Connections["disconnection"] ||
		pwFailed != exp.Connections["password_authentication_failed"] || failed != exp.BySeverity["FATAL"] {
		t.Errorf("connect/disconnect/failed/password failed = %d/%d/%d/%d, want %d/%d/%d/%d", connect, disconnect, failed, pwFailed,
			exp.Connections["connection_authorized"], exp.Connections["disconnection"], exp.BySeverity["FATAL"], exp.Connections["password_authentication_failed"])
	}
	wantMsgs := exp.BySeverity["ERROR"] + exp.BySeverity["FATAL"] + exp.BySeverity["PANIC"] + exp.BySeverity["WARNING"]
	if len(d.messages) != wantMsgs || d.stats.Messages != int64(wantMsgs) {
		t.Errorf("server messages = %d, want %d", len(d.messages), wantMsgs)
	}
	for _, m := range d.messages {
		if m.SessionID == "" || m.PID == nil || m.ObjectRef == "" {
			t.Errorf("server message not linked to its session: %+v", m)
		}
		if strings.HasPrefix(m.Message, "duplicate key") && (m.Detail == "" || m.Statement == "") {
			t.Errorf("duplicate key error lost its DETAIL/STATEMENT: %+v", m)
		}
	}
}

func checkSamples(t *testing.T, exp expected, d decoded, secondsOnly bool) {
	t.Helper()
	if len(exp.Samples) != 10 {
		t.Fatalf("expected.json has %d samples, want 10", len(exp.Samples))
	}
	au := audits(d.events)
	for _, s := range exp.Samples {
		var got *model.Event
		for i := range au {
			e := &au[i]
			if e.SessionID == s.SessionID && *e.StatementID == s.StatementID && *e.SubstatementID == s.SubstatementID &&
				e.AuditType == s.AuditType && e.Command == s.Command && e.ObjectName == s.ObjectName && e.Statement == s.Statement {
				got = e
				break
			}
		}
		if got == nil {
			t.Errorf("sample %s: no event with session %s statement %d/%d %s %s", s.Rule, s.SessionID, s.StatementID, s.SubstatementID, s.AuditType, s.Command)
			continue
		}
		if got.ObjectRef == "" || got.RefLine <= 0 {
			t.Errorf("sample %s: object ref %q line %d, want the object's ref and the record's line", s.Rule, got.ObjectRef, got.RefLine)
		}
		want := model.Event{
			Source: model.SourcePgAudit, Cluster: got.Cluster, LogTime: mustTime(t, s.LogTime, secondsOnly),
			SessionID: s.SessionID, StatementID: &s.StatementID, SubstatementID: &s.SubstatementID,
			AuditType: s.AuditType, Class: s.Class, Command: s.Command, ObjectType: s.ObjectType, ObjectName: s.ObjectName,
			Statement: s.Statement, RowCount: s.Rows, DatabaseName: s.DB, UserName: s.User, ApplicationName: s.Application,
			PID: &s.PID, ObjectRef: got.ObjectRef, RefLine: got.RefLine, Raw: got.Raw,
		}
		if s.Parameter != nil {
			want.Params = *s.Parameter
		}
		want.RemoteHost, want.RemotePort, _ = func() (string, *int32, bool) {
			h, p, ok := splitConnFrom(s.ConnectionFrom)
			if !ok {
				return h, nil, false
			}
			return h, &p, true
		}()
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("sample %s:\n got %s\nwant %s", s.Rule, dump(*got), dump(want))
		}
		if !strings.HasSuffix(got.Raw, ","+s.ParameterRaw) && !strings.Contains(got.Raw, ","+csvQuote(s.ParameterRaw)+",") &&
			!strings.HasSuffix(got.Raw, ","+csvQuote(s.ParameterRaw)) && !strings.Contains(got.Raw, ","+s.ParameterRaw+",") {
			t.Errorf("sample %s: raw message %q does not carry PARAMETER %q", s.Rule, truncate(got.Raw, 200), truncate(s.ParameterRaw, 80))
		}
	}
}

func csvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func mustTime(t *testing.T, s string, secondsOnly bool) time.Time {
	t.Helper()
	v, ok := parsePGTime([]byte(s))
	if !ok {
		t.Fatalf("bad time %q", s)
	}
	if secondsOnly {
		v = v.Truncate(time.Second)
	}
	return v
}

func dump(e model.Event) string {
	b, _ := json.Marshal(e)
	return truncate(string(b), 2000)
}

// normalise drops what legitimately differs between formats of the same log:
// where the row came from, the sub-second part of the time (%t has 1 s) and
// the interleaving of sessions (each destination is written separately, so
// concurrent sessions interleave differently; within a session the order is
// the same).
func normalise(evs []model.Event) []model.Event {
	out := make([]model.Event, len(evs))
	for i, e := range evs {
		e.ObjectRef, e.RefLine = "", 0
		e.LogTime = e.LogTime.Truncate(time.Second)
		out[i] = e
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SessionID < out[j].SessionID })
	return out
}

// normaliseMessages does the same for server messages; stderr also appends
// the cursor position (" at character N") that csvlog keeps in its own column
// and has no SQLSTATE without %e.
func normaliseMessages(ms []model.ServerMessage) []model.ServerMessage {
	out := make([]model.ServerMessage, len(ms))
	for i, m := range ms {
		m.ObjectRef, m.SQLState = "", ""
		m.LogTime = m.LogTime.Truncate(time.Second)
		if k := strings.LastIndex(m.Message, " at character "); k > 0 {
			if _, ok := parseInt(m.Message[k+len(" at character "):]); ok {
				m.Message = m.Message[:k]
			}
		}
		out[i] = m
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SessionID < out[j].SessionID })
	return out
}

func diffEvents(t *testing.T, name string, a, b []model.Event) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d events vs %d", name, len(a), len(b))
	}
	bad := 0
	for i := 0; i < min(len(a), len(b)); i++ {
		// %t is read from the clock when the stderr line is formatted, apart
		// from csvlog's log_time, so the two can straddle a second boundary.
		if d := a[i].LogTime.Sub(b[i].LogTime); d >= -time.Second && d <= time.Second {
			b[i].LogTime = a[i].LogTime
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			bad++
			if bad <= 3 {
				t.Errorf("%s: event %d differs:\n%s\n%s", name, i, dump(a[i]), dump(b[i]))
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d events differ", name, bad)
	}
}

// TestCorpusFormatsAgree checks that stderr, csvlog and jsonlog of one run
// give the same events (audit and connection rows), that the derived session
// ids of the stderr log equal the csvlog's session_id, and that the Aurora-
// named copy decodes like the RDS one.
func TestCorpusFormatsAgree(t *testing.T) {
	for _, cluster := range corpusClusters {
		t.Run(cluster, func(t *testing.T) {
			stderr, csvlog, jsonlog, aurora := corpusFiles(t, cluster)
			ds := decodeFile(t, stderr, Options{Cluster: cluster})
			dc := decodeFile(t, csvlog, Options{Cluster: cluster})
			dj := decodeFile(t, jsonlog, Options{Cluster: cluster})
			es, ec, ej := normalise(ds.events), normalise(dc.events), normalise(dj.events)
			diffEvents(t, "stderr vs csvlog", es, ec)
			diffEvents(t, "jsonlog vs csvlog", ej, ec)

			diffMessages(t, "stderr vs csvlog", normaliseMessages(ds.messages), normaliseMessages(dc.messages))
			diffMessages(t, "jsonlog vs csvlog", normaliseMessages(dj.messages), normaliseMessages(dc.messages))

			// Session id derivation: every derived id must be the csvlog's
			// session_id of the same backend.
			csvSessions := map[string]int32{}
			for _, e := range dc.events {
				csvSessions[e.SessionID] = *e.PID
			}
			match, total := 0, 0
			sessions := map[string]bool{}
			for _, e := range ds.events {
				total++
				if pid, ok := csvSessions[e.SessionID]; ok && pid == *e.PID {
					match++
					sessions[e.SessionID] = true
				}
			}
			t.Logf("derived session ids: %d/%d events and %d/%d sessions with events match the csvlog; %d sessions derived, %d began with a connection line",
				match, total, len(sessions), len(csvSessions), ds.stats.SessionsDerived, ds.stats.SessionsConnected)
			if match != total || total == 0 || len(sessions) != len(csvSessions) {
				t.Errorf("derived session id match rate %d/%d, want 100%%", match, total)
			}

			if aurora != "" {
				da := decodeFile(t, aurora, Options{Cluster: cluster})
				diffEvents(t, "aurora vs rds name", normalise(da.events), es)
			}
		})
	}
}

func diffMessages(t *testing.T, name string, a, b []model.ServerMessage) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d server messages vs %d", name, len(a), len(b))
	}
	for i := 0; i < min(len(a), len(b)); i++ {
		if d := a[i].LogTime.Sub(b[i].LogTime); d >= -time.Second && d <= time.Second {
			b[i].LogTime = a[i].LogTime
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Errorf("%s: server message %d differs:\n%+v\n%+v", name, i, a[i], b[i])
		}
	}
}

// cloudWatchExport builds what a CloudWatch Logs export task writes for a
// stderr log: gzip, each event's first line led by an ISO-8601 timestamp,
// continuation lines raw.
func cloudWatchExport(t testing.TB, stderr []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	w := bufio.NewWriter(zw)
	for _, line := range bytes.SplitAfter(stderr, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] != '\t' {
			ts, ok := parsePGTime(line[:min(len(line), 23)])
			if !ok {
				t.Fatalf("no time in %q", line)
			}
			w.WriteString(ts.Format("2006-01-02T15:04:05.000Z") + " ")
		}
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCorpusCloudWatch(t *testing.T) {
	for _, cluster := range corpusClusters {
		t.Run(cluster, func(t *testing.T) {
			exp := loadExpected(t, cluster)
			stderr, _, _, _ := corpusFiles(t, cluster)
			raw, err := os.ReadFile(stderr)
			if err != nil {
				t.Fatal(err)
			}
			d := decodeBytes(t, "export/000000.gz", cloudWatchExport(t, raw), Options{Cluster: cluster})
			if d.stats.Format != FormatCloudWatch || d.stats.Compression != "gzip" || d.stats.LinePrefix != RDSPrefix {
				t.Errorf("stats = %+v, want cloudwatch, gzip, RDS prefix", d.stats)
			}
			checkCounts(t, exp, d)
			checkSamples(t, exp, d, true)
			ds := decodeBytes(t, stderr, raw, Options{Cluster: cluster})
			diffEvents(t, "cloudwatch vs stderr", normalise(d.events), normalise(ds.events))
		})
	}
}
