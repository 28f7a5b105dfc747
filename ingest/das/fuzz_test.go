package das

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// corpusObjects returns the raw bytes of every corpus object (seeds).
func corpusObjects(f *testing.F) [][]byte {
	var out [][]byte
	for _, folder := range []string{"orders-prod", "corrupt"} {
		root := filepath.Join(corpusDir, folder, "s3")
		_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil {
				out = append(out, b)
			}
			return nil
		})
	}
	return out
}

// FuzzFraming: any bytes frame without panic, every byte is accounted for
// once, offsets increase, and a complete frame starts with '{'.
func FuzzFraming(f *testing.F) {
	for _, b := range corpusObjects(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"type":"DatabaseActivityMonitoringRecords"`))
	f.Add([]byte(`}{"type" : "DatabaseActivityMonitoringRecords","x":"\"{"}{`))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFramer(bytes.NewReader(data))
		last := int64(-1)
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatalf("more frames than bytes")
			}
			fm, err := fr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if fm.Offset <= last || fm.Offset < 0 || fm.Offset > int64(len(data)) {
				t.Fatalf("offset %d after %d", fm.Offset, last)
			}
			last = fm.Offset
			if !bytes.Equal(fm.Raw, data[fm.Offset:fm.Offset+int64(len(fm.Raw))]) {
				t.Fatalf("frame bytes differ from the input at %d", fm.Offset)
			}
			if fm.Reason == "" {
				if fm.Raw[0] != '{' || fm.Raw[len(fm.Raw)-1] != '}' {
					t.Fatalf("complete frame %q", fm.Raw)
				}
				if _, err := parseOuter(fm.Raw); err != nil {
					fm = fr.resplit(fm)
				}
			}
		}
		if fr.off != int64(len(data)) {
			t.Fatalf("read %d of %d bytes", fr.off, len(data))
		}
	})
}

// FuzzDecodeObject runs the whole Decode (no KMS: keys always fail) on any
// bytes: no panic, no error, every record accounted for.
func FuzzDecodeObject(f *testing.F) {
	for _, b := range corpusObjects(f) {
		f.Add(b)
	}
	d, err := NewDecoder(refuseKeys{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows int64
		st, err := d.Decode(context.Background(), "ref", "aws-rds-das-cluster-X-1", bytes.NewReader(data), Options{},
			func(b *model.Batch) error { rows += int64(b.Len()); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if rows != st.Events+st.Heartbeats+st.Rejects || st.Rejects > st.Records {
			t.Fatalf("rows %d, stats %+v", rows, st)
		}
	})
}

type refuseKeys struct{}

func (refuseKeys) DecryptDataKey(context.Context, []byte, map[string]string) ([]byte, error) {
	return nil, &KeyError{Kind: KeyUnknown, Code: "InvalidCiphertextException", Final: true, Err: errors.New("no keys")}
}

// FuzzInnerRecord: any inner payload decodes without panic; the scanner
// accepts exactly what encoding/json accepts, every event of a record that
// parses becomes one row, and each event's fields equal what encoding/json
// decodes with the same lenient field types.
func FuzzInnerRecord(f *testing.F) {
	for _, in := range plaintextInners(f, "orders-prod")[:4] {
		f.Add(in)
	}
	f.Add([]byte(`{"databaseActivityEventList":[{"statementId":"1e3","pid":"x","remotePort":99999999999,"paramList":[null,1,{}],"logTime":"2026-02-30 00:00:00+00"}]}`))
	f.Add([]byte(`{"databaseActivityEventList":[null,1,"x",[]]}`))
	f.Add([]byte(`{"databaseActivityEventList":[{"commandText":"a\\"\\u00e9\\ud83d\\ude00\\ud800 \xff","paramList":["\\n",""]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st Stats
		o := &objectDecoder{ref: "r", st: &st, opt: Options{BatchSize: 1 << 30}, emit: func(*model.Batch) error { return nil }}
		if err := o.inner(0, data); err != nil {
			t.Fatal(err)
		}
		_, events, perr := parseInner(data, nil)
		isObject := bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
		if (perr == nil) != (json.Valid(data) && isObject) {
			t.Fatalf("scanner error %v, json.Valid %v", perr, json.Valid(data))
		}
		for _, e := range o.batch.Events {
			if !json.Valid([]byte(e.Raw)) {
				t.Fatalf("raw not JSON: %q", e.Raw)
			}
		}
		if perr != nil {
			return
		}
		var in struct {
			Events []json.RawMessage `json:"databaseActivityEventList"`
		}
		if json.Unmarshal(data, &in) != nil {
			return // e.g. the list is not an array, or a key matched case-insensitively
		}
		if len(in.Events) != len(events) {
			return // encoding/json matched a differently-cased key
		}
		for i, raw := range in.Events {
			if !bytes.Equal(raw, events[i].raw) {
				t.Fatalf("event %d raw %q, want %q", i, events[i].raw, raw)
			}
			var want wireEvent
			if json.Unmarshal(raw, &want) != nil || !events[i].isObject || caseFolded(raw) {
				continue
			}
			if !reflect.DeepEqual(events[i].ev, want) {
				t.Fatalf("event %d:\n got %+v\nwant %+v", i, events[i].ev, want)
			}
		}
		if st.Rejects == 0 && st.Events+st.Heartbeats != int64(len(events)) {
			t.Fatalf("%d rows for %d events", st.Events+st.Heartbeats, len(events))
		}
	})
}

// caseFolded reports whether an object has a key encoding/json would match
// case-insensitively (or after unescaping) to a field, which the scanner
// rightly does not.
func caseFolded(raw []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return true
	}
	var ev wireEvent
	for k := range m {
		q, _ := json.Marshal(k)
		if ev.field(q) == nil {
			for _, name := range []string{"type", "startTime", "logTime", "endTime", "statementId", "substatementId", "objectType",
				"command", "objectName", "databaseName", "dbUserName", "remoteHost", "remotePort", "sessionId", "rowCount",
				"commandText", "paramList", "pid", "clientApplication", "exitCode", "class", "serverHost", "errorMessage"} {
				if strings.EqualFold(k, name) {
					return true
				}
			}
		}
	}
	return false
}

// FuzzUnquote: the hand-written unquote agrees with encoding/json.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\\"b"`, `"\\u00e9"`, `"\\ud83d\\ude00"`, `"\\ud800x"`, "\"\xff\xfe\"", `"\\/\\b\\f"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		jerr := json.Unmarshal(b, &want)
		b = bytes.Trim(b, " \t\r\n") // the scanner hands over exact spans
		got, ok := unquote(b)
		if jerr == nil && len(b) > 0 && b[0] == '"' {
			if !ok || got != want {
				t.Fatalf("%q: %q %v, want %q", b, got, ok, want)
			}
		}
	})
}

// FuzzParseTimestamp: agrees with time.Parse on every input both accept.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-11-25 11:36:16.840719+00", "2026-11-25 11:36:16.8407+00", "2026-11-25 11:36:16+00",
		"2026-11-25T11:36:16Z", "2026-11-25T11:36:16.123456789-05:30", "2024-02-29 00:00:00+01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTimestamp(s)
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07", time.RFC3339Nano} {
			want, err := time.Parse(layout, s)
			if err == nil && ok && !got.Equal(want) {
				t.Fatalf("%q: %v, time.Parse %v", s, got, want)
			}
		}
	})
}

func TestParseTimestamp(t *testing.T) {
	for s, want := range map[string]string{
		"2026-11-25 11:36:16.840719+00": "2026-11-25T11:36:16.840719Z",
		"2026-11-25 11:36:16.8407+00":   "2026-11-25T11:36:16.8407Z",
		"2026-11-25 11:36:16+00":        "2026-11-25T11:36:16Z",
		"2026-11-25 11:36:16":           "2026-11-25T11:36:16Z",
		"2026-11-25T11:36:16.5Z":        "2026-11-25T11:36:16.5Z",
		"2026-11-25T11:36:16+02:00":     "2026-11-25T09:36:16Z",
		"2026-11-25 11:36:16-0530":      "2026-11-25T17:06:16Z",
	} {
		got, ok := parseTimestamp(s)
		w, _ := time.Parse(time.RFC3339Nano, want)
		if !ok || !got.Equal(w) {
			t.Errorf("%q: %v %v, want %v", s, got, ok, w)
		}
	}
	for _, s := range []string{"", "2026-11-25", "2026-13-01 00:00:00+00", "2026-02-30 00:00:00", "2026-11-25 11:36:16.+00",
		"2026-11-25 11:36:16+0", "2026-11-25 11:36:16 UTC", "x026-11-25 11:36:16"} {
		if _, ok := parseTimestamp(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}
