package pgaudit

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

const (
	lnRecv  = "2026-11-25 11:42:17 UTC:127.0.0.1(45884):[unknown]@[unknown]:[12519]:LOG:  connection received: host=127.0.0.1 port=45884\n"
	lnAuth  = "2026-11-25 11:42:17 UTC:127.0.0.1(45884):app@orders:[12519]:LOG:  connection authorized: user=app database=orders application_name=orders-api SSL enabled (protocol=TLSv1.3, cipher=X, bits=256)\n"
	lnAudit = "2026-11-25 11:42:17 UTC:127.0.0.1(45884):app@orders:[12519]:LOG:  AUDIT: SESSION,1,1,WRITE,INSERT,,,\"INSERT INTO t VALUES ($1)\",\"a,b\",1\n"
	lnMulti = "2026-11-25 11:42:18 UTC:127.0.0.1(45884):app@orders:[12519]:LOG:  AUDIT: SESSION,2,1,WRITE,UPDATE,,,UPDATE t SET n = $1,\"\"\"windows line\r\n\tending\"\",7\",1\n"
	lnErr   = "2026-11-25 11:42:18 UTC:127.0.0.1(45884):app@orders:[12519]:ERROR:  duplicate key value violates unique constraint \"k\"\n" +
		"2026-11-25 11:42:18 UTC:127.0.0.1(45884):app@orders:[12519]:DETAIL:  Key (email)=(dup@example.com) already exists.\n" +
		"2026-11-25 11:42:18 UTC:127.0.0.1(45884):app@orders:[12519]:STATEMENT:  INSERT INTO customers\n\tVALUES (1);\n"
	lnDisc = "2026-11-25 11:42:19 UTC:127.0.0.1(45884):app@orders:[12519]:LOG:  disconnection: session time: 0:00:01.000 user=app database=orders host=127.0.0.1 port=45884\n"
)

func TestStderrSession(t *testing.T) {
	in := lnRecv + lnAuth + lnAudit + lnMulti + lnErr + lnDisc + strings.ReplaceAll(lnRecv+lnAudit, "11:42:17", "11:43:00")
	d := decodeBytes(t, "f", []byte(in), Options{Cluster: "c", Instance: "i"})
	if len(d.events) != 5 || len(d.messages) != 1 || d.stats.Rejects != 0 || d.stats.Records != 8 {
		t.Fatalf("events %d messages %d rejects %d records %d", len(d.events), len(d.messages), d.stats.Rejects, d.stats.Records)
	}
	conn, audit, multi, disc, again := d.events[0], d.events[1], d.events[2], d.events[3], d.events[4]
	const sid = "6b06c999.30e7"
	if conn.Class != model.ClassConnect || conn.Command != "CONNECT" || conn.ApplicationName != "orders-api" || conn.SessionID != sid {
		t.Errorf("connect = %+v", conn)
	}
	if audit.SessionID != sid || audit.RemoteHost != "127.0.0.1" || *audit.RemotePort != 45884 || *audit.PID != 12519 ||
		audit.ApplicationName != "orders-api" || audit.Ref() != "f:3" || audit.Instance != "i" || audit.Cluster != "c" ||
		audit.Statement != "INSERT INTO t VALUES ($1)" || strings.Join(audit.Params, "|") != "a|b" || *audit.RowCount != 1 {
		t.Errorf("audit = %s", dump(audit))
	}
	if got := strings.Join(multi.Params, "|"); got != "windows line\r\nending|7" || multi.Ref() != "f:4" {
		t.Errorf("CR or continuation lost: %q (%s)", got, multi.Ref())
	}
	if disc.Command != "DISCONNECT" || disc.SessionID != sid {
		t.Errorf("disconnect = %+v", disc)
	}
	if again.SessionID != "6b06c9c4.30e7" {
		t.Errorf("reused pid keeps session %s", again.SessionID)
	}
	m := d.messages[0]
	if m.Severity != "ERROR" || m.SessionID != sid || m.Detail != "Key (email)=(dup@example.com) already exists." ||
		m.Statement != "INSERT INTO customers\nVALUES (1);" || m.ObjectRef != "f:6" {
		t.Errorf("message = %+v", m)
	}
}

func TestStderrJunk(t *testing.T) {
	long := strings.Repeat("x", 70000)
	in := "t line of a download portion\n" + // partial first line
		"\tcontinuation without a record\n" +
		lnAudit +
		"2026-11-25 11:42:17 UTC:127.0.0.1(45884):app@orders:[12519]:LOG:  AUDIT: SESSION,3,1,READ,SELECT,,,SELECT 1\n" + // 8 fields
		"\x00\x01\x02binary\xff\xfe\n" +
		"[Your log message was truncated]\n" +
		"2026-11-25 11:42:17 UTC:127.0.0.1(45884):app@orders:[12519]:LOG:  AUDIT: SESSION,4,1,WRITE,INSERT,,,INSERT $1," + long + ",1\n" +
		"2026-11-25 11:42:17 UTC:127.0.0.1(45884):app@orders:[12519]:HINT:  orphan hint is attached, not rejected\n" +
		"2026-11-25 11:42:17 UTC:127.0.0.1(45884):app@orders:[12519]:LOG:  AUDIT: SESSION,5,1,READ,SELECT,,,SELECT 1,<no"
	d := decodeBytes(t, "f", []byte(in), Options{})
	if len(d.events) != 2 || d.stats.Events != 2 {
		t.Fatalf("events = %d, want 2: %v", len(d.events), d.rejects)
	}
	if p := d.events[1].Params; len(p) != 1 || len(p[0]) != 70000 {
		t.Errorf("70 KB parameter lost")
	}
	wantRejects := map[int64]string{1: model.ReasonParse, 2: model.ReasonParse, 4: model.ReasonParse, 5: model.ReasonParse, 6: model.ReasonParse, 9: model.ReasonTruncated}
	if len(d.rejects) != len(wantRejects) || d.stats.Rejects != int64(len(wantRejects)) {
		t.Fatalf("rejects = %+v", d.rejects)
	}
	for _, r := range d.rejects {
		if wantRejects[r.Offset] != r.Reason || r.Detail == "" {
			t.Errorf("unexpected reject %+v", r)
		}
	}
}

func TestNoMatch(t *testing.T) {
	for _, tt := range []struct{ name, in, format, hint string }{
		{"stderr", "hello\nworld\n", "", "--line-prefix"},
		{"forced prefix", lnAudit, FormatStderr, "--line-prefix"},
		{"csvlog", "a,b\n", FormatCSVLog, "--format"},
		{"jsonlog", "{]\n", FormatJSONLog, "--format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opt := Options{Format: tt.format}
			if tt.name == "forced prefix" {
				opt.LinePrefix = "%m [%p] "
			}
			d := decodeBytes(t, "f", []byte(tt.in), opt)
			last := d.rejects[len(d.rejects)-1]
			if len(d.events) != 0 || last.Reason != model.ReasonNoMatch || !strings.Contains(last.Detail, tt.hint) {
				t.Errorf("rejects = %+v", d.rejects)
			}
		})
	}
	if d := decodeBytes(t, "empty", nil, Options{}); len(d.rejects) != 0 {
		t.Errorf("empty object rejected: %+v", d.rejects)
	}
}

func TestForcedPrefixAndFormat(t *testing.T) {
	in := "2026-11-25 11:42:14.489 UTC [12] bob@orders LOG:  AUDIT: OBJECT,1,1,READ,SELECT,TABLE,public.t,SELECT 1,<none>\n"
	d := decodeBytes(t, "f", []byte(in), Options{LinePrefix: "%m [%p] %q%u@%d ", Format: FormatStderr})
	if len(d.events) != 1 || d.events[0].UserName != "bob" || d.events[0].LogTime.Nanosecond() != 489e6 || d.events[0].RowCount != nil {
		t.Fatalf("events = %+v rejects %+v", d.events, d.rejects)
	}
	if _, err := Decode(context.Background(), "f", strings.NewReader(in), Options{Format: "xml"}, func(*model.Batch) error { return nil }); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := Decode(context.Background(), "f", strings.NewReader(in), Options{LinePrefix: "%Z"}, func(*model.Batch) error { return nil }); err == nil {
		t.Error("bad prefix accepted")
	}
}

func TestDetectFormat(t *testing.T) {
	for in, want := range map[string]string{
		`{"timestamp":"2026-11-25 11:42:14.489 UTC"}`:                          FormatJSONLog,
		"2026-11-25 11:42:14.489 UTC,,,12453,,6b06c996.30a5,1,,":               FormatCSVLog,
		"2026-11-25T11:42:17.000Z 2026-11-25 11:42:17 UTC::@:[1]:LOG:  x":      FormatCloudWatch,
		"2026-11-25 11:42:17 UTC::@:[1]:LOG:  x":                               FormatStderr,
		"partial line\n2026-11-25 11:42:14.489 UTC,,,12453,,6b06c996.30a5,1,,": FormatCSVLog,
		"": FormatStderr,
	} {
		if got := DetectFormat([]byte(in)); got != want {
			t.Errorf("DetectFormat(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCSVLogPG13(t *testing.T) {
	// 23 columns: no backend_type, leader_pid, query_id.
	row := `2026-11-25 11:42:17.204 UTC,"etl","inventory",12488,"[local]",6b06c999.30c8,18,"SELECT",2026-11-25 11:42:15 UTC,4/5,0,LOG,00000,"AUDIT: SESSION,9,1,READ,SELECT,,,""SELECT 1,
  2"",<none>,3",,,,,,,,,"etl-nightly"` + "\n"
	d := decodeBytes(t, "f", []byte(row+"short,row\n"), Options{})
	if len(d.events) != 1 || len(d.rejects) != 1 {
		t.Fatalf("events %+v rejects %+v", d.events, d.rejects)
	}
	e := d.events[0]
	if e.Statement != "SELECT 1,\n  2" || e.RemoteHost != "[local]" || e.RemotePort != nil || e.ApplicationName != "etl-nightly" || e.SessionID != "6b06c999.30c8" {
		t.Errorf("event = %s", dump(e))
	}
	if d.rejects[0].Offset != 3 {
		t.Errorf("reject line = %d, want 3", d.rejects[0].Offset)
	}
}

func TestJSONLog(t *testing.T) {
	in := `{"timestamp":"2026-11-25 11:42:17.546 UTC","user":"app","dbname":"orders","pid":12519,"remote_host":"127.0.0.1","remote_port":45884,"session_id":"6b06c999.30e7","error_severity":"LOG","message":"AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1","application_name":"api","unknown_key":[1]}` + "\n" +
		"not json\n" +
		`{"timestamp":"2026-11-25 11:42:17.546 UTC","pid":1,"error_severity":"FATAL","message":"role \"ghost\" does not exist"}` + "\n"
	d := decodeBytes(t, "f", []byte(in), Options{})
	if len(d.events) != 2 || len(d.rejects) != 1 || len(d.messages) != 1 || d.rejects[0].Offset != 2 {
		t.Fatalf("events %d rejects %+v messages %d", len(d.events), d.rejects, len(d.messages))
	}
	if e := d.events[0]; *e.RemotePort != 45884 || e.ApplicationName != "api" || e.LogTime.Nanosecond() != 546e6 {
		t.Errorf("event = %s", dump(e))
	}
	if e := d.events[1]; e.UserName != "ghost" || e.ErrorMessage == "" || e.Class != model.ClassConnect {
		t.Errorf("auth failure = %s", dump(e))
	}
}

func TestBatchingAndErrors(t *testing.T) {
	data := seedFile(t, "")
	var batches, events int
	st, err := Decode(context.Background(), "f", bytes.NewReader(data), Options{BatchSize: 100}, func(b *model.Batch) error {
		batches++
		events += len(b.Events)
		if b.Len() > 100 {
			t.Errorf("batch of %d rows", b.Len())
		}
		return nil
	})
	if err != nil || int64(events) != st.Events || batches < 10 {
		t.Errorf("batches %d events %d stats %+v err %v", batches, events, st, err)
	}
	boom := errors.New("boom")
	if _, err := Decode(context.Background(), "f", bytes.NewReader(data), Options{}, func(*model.Batch) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("emit error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Decode(ctx, "f", bytes.NewReader(data), Options{}, func(*model.Batch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled decode err = %v", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	if _, err := Decode(context.Background(), "f", bytes.NewReader(gz.Bytes()[:gz.Len()/2]), Options{}, func(*model.Batch) error { return nil }); err == nil {
		t.Error("truncated gzip decoded without error")
	}
}

// fuzzDecode runs Decode on arbitrary input and checks the invariants that
// hold for any input: no panic, no error, rows counted as emitted.
func fuzzDecode(t *testing.T, in []byte, opt Options) {
	var events, rejects int64
	st, err := Decode(context.Background(), "fuzz", bytes.NewReader(in), opt, func(b *model.Batch) error {
		events += int64(len(b.Events))
		rejects += int64(len(b.Rejects))
		return nil
	})
	if err != nil {
		if opt.Format == "" && len(in) >= 2 && (in[0] == 0x1f || in[0] == 0x28) {
			return // compressed-looking input may fail to decompress
		}
		t.Fatalf("Decode: %v", err)
	}
	if events != st.Events || rejects > st.Rejects+1 {
		t.Fatalf("emitted %d events %d rejects, stats %+v", events, rejects, st)
	}
}

func FuzzDecodeStderr(f *testing.F) {
	for _, c := range corpusChunks(f, seedFile(f, ""), 2048) {
		f.Add(c)
	}
	f.Add([]byte(lnRecv + lnAuth + lnMulti + lnErr + lnDisc))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzDecode(t, in, Options{Format: FormatStderr, BatchSize: 7}) })
}

func FuzzDecodeCSVLog(f *testing.F) {
	for _, c := range corpusChunks(f, seedFile(f, ".csv"), 2048) {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzDecode(t, in, Options{Format: FormatCSVLog, BatchSize: 7}) })
}

func FuzzDecodeJSONLog(f *testing.F) {
	for _, c := range corpusChunks(f, seedFile(f, ".json"), 2048) {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzDecode(t, in, Options{Format: FormatJSONLog, BatchSize: 7}) })
}

func FuzzDecodeCloudWatch(f *testing.F) {
	for _, c := range corpusChunks(f, seedFile(f, ""), 2048) {
		var b bytes.Buffer
		for _, l := range bytes.SplitAfter(c, []byte("\n")) {
			if len(l) > 0 && l[0] != '\t' {
				b.WriteString("2026-11-25T11:42:17.000Z ")
			}
			b.Write(l)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzDecode(t, in, Options{Format: FormatCloudWatch, BatchSize: 7}) })
}

func FuzzDecodeAuto(f *testing.F) {
	f.Add(seedFile(f, "")[:4096])
	f.Add(seedFile(f, ".csv")[:4096])
	f.Add(seedFile(f, ".json")[:4096])
	f.Fuzz(func(t *testing.T, in []byte) { fuzzDecode(t, in, Options{}) })
}
