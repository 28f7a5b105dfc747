package das

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

type expectedFolder struct {
	ClusterResourceID string `json:"cluster_resource_id"`
	ClusterName       string `json:"cluster_name"`
	KMSKeyID          string `json:"kms_key_id"`
	Totals            struct {
		Objects      int `json:"objects"`
		OuterRecords int `json:"outer_records"`
		RecordEvents int `json:"record_events"`
		Heartbeats   int `json:"heartbeat_events"`
		Audit        int `json:"audit_record_events"`
		Errors       int `json:"error_record_events"`
		RDSAdmin     int `json:"rdsadmin_record_events"`
		WithError    int `json:"events_with_error_message"`
		DataKeysUsed int `json:"data_keys_used"`
	} `json:"totals"`
	Counts struct {
		ByClass        map[string]int `json:"by_class"`
		ByCommand      map[string]int `json:"by_command"`
		ByUser         map[string]int `json:"by_user"`
		ByDatabase     map[string]int `json:"by_database"`
		ByInstance     map[string]int `json:"by_instance"`
		ByClassCommand map[string]int `json:"by_class_command"`
	} `json:"counts"`
	Objects []struct {
		Key          string `json:"key"`
		Path         string `json:"path"`
		Compression  string `json:"compression"`
		OuterRecords int    `json:"outer_records"`
		RecordEvents int    `json:"record_events"`
		Heartbeats   int    `json:"heartbeats"`
		Records      []struct {
			InstanceID string `json:"instance_id"`
			Events     int    `json:"events"`
			Heartbeats int    `json:"heartbeats"`
		} `json:"records"`
	} `json:"objects"`
	Samples         []sample `json:"samples"`
	HeartbeatSample sample   `json:"heartbeat_sample"`
	ExtraSamples    []sample `json:"extra_samples"`
}

type sample struct {
	Object      string         `json:"object"`
	RecordIndex int            `json:"record_index"`
	EventIndex  int            `json:"event_index"`
	InstanceID  string         `json:"instance_id"`
	Event       map[string]any `json:"event"`
}

// objectResult is one decoded corpus object.
type objectResult struct {
	c       *collected
	st      Stats
	offsets []int64
}

func TestCorpus(t *testing.T) {
	for _, folder := range []string{"orders-prod", "billing-prod"} {
		t.Run(folder, func(t *testing.T) { testFolder(t, folder) })
	}
}

func testFolder(t *testing.T, folder string) {
	var exp expectedFolder
	readJSON(t, filepath.Join(corpusDir, folder, "expected.json"), &exp)
	fake, client := folderKMS(t, folder)
	d, err := NewDecoder(NewKMS(client))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Cluster: exp.ClusterName, ResourceID: exp.ClusterResourceID, Mode: "sync"}

	results := map[string]*objectResult{}
	var records, events, heartbeats int
	byClass, byCommand, byUser, byDB, byInstance, byClassCommand := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var audit, errorsN, rdsadmin, withError int
	for _, o := range exp.Objects {
		c, st := decodeFile(t, d, folder, strings.TrimPrefix(o.Path, "s3/"), opt)
		r := &objectResult{c: c, st: st, offsets: c.recordOffsets()}
		results[o.Key] = r
		if len(c.rejects) > 0 {
			t.Errorf("%s: rejects %+v", o.Key, c.rejects)
		}
		if st.Compression != o.Compression {
			t.Errorf("%s: compression %q, want %q", o.Key, st.Compression, o.Compression)
		}
		if int(st.Records) != o.OuterRecords || len(c.events) != o.RecordEvents || len(c.heartbeats) != o.Heartbeats {
			t.Errorf("%s: records/events/heartbeats %d/%d/%d, want %d/%d/%d", o.Key, st.Records, len(c.events),
				len(c.heartbeats), o.OuterRecords, o.RecordEvents, o.Heartbeats)
		}
		if st.UnknownVersions != 0 {
			t.Errorf("%s: %d unknown versions", o.Key, st.UnknownVersions)
		}
		// Per record: events, heartbeats and instance.
		perRecord := map[int64][2]int{}
		for _, e := range c.events {
			n := perRecord[refOffset(e.ObjectRef)]
			n[0]++
			perRecord[refOffset(e.ObjectRef)] = n
		}
		for _, h := range c.heartbeats {
			n := perRecord[refOffset(h.ObjectRef)]
			n[1]++
			perRecord[refOffset(h.ObjectRef)] = n
		}
		for i, rec := range o.Records {
			if i >= len(r.offsets) {
				t.Errorf("%s: record %d missing", o.Key, i)
				continue
			}
			if got := perRecord[r.offsets[i]]; got != [2]int{rec.Events, rec.Heartbeats} {
				t.Errorf("%s: record %d events/heartbeats %v, want %d/%d", o.Key, i, got, rec.Events, rec.Heartbeats)
			}
		}
		records += int(st.Records)
		events += len(c.events)
		heartbeats += len(c.heartbeats)
		for _, e := range c.events {
			var raw struct {
				Class *string `json:"class"`
			}
			_ = json.Unmarshal([]byte(e.Raw), &raw)
			streamClass := "(null)"
			if raw.Class != nil {
				streamClass = *raw.Class
			}
			command := e.Command
			if command == "" { // the corpus has no empty-string commands, only nulls
				command = "(null)"
			}
			byClass[streamClass]++
			byCommand[command]++
			byUser[e.UserName]++
			byDB[e.DatabaseName]++
			byInstance[e.Instance]++
			cc := command
			if cc == "(null)" {
				cc = "null"
			}
			byClassCommand[streamClass+"/"+cc]++
			connect := e.Command == "CONNECT" || e.Command == "DISCONNECT"
			if connect && e.Class != model.ClassConnect {
				t.Errorf("%s: %s has class %q", e.ObjectRef, e.Command, e.Class)
			}
			if e.ErrorMessage != "" {
				withError++
			}
			switch {
			case e.UserName == "rdsadmin":
				rdsadmin++
				if !e.Internal {
					t.Errorf("%s: rdsadmin not internal", e.ObjectRef)
				}
			case connect:
			case e.ErrorMessage != "":
				errorsN++
			default:
				audit++
			}
			if e.Cluster != exp.ClusterName || e.LogTime.IsZero() {
				t.Errorf("%s: cluster %q, log time %v", e.ObjectRef, e.Cluster, e.LogTime)
			}
		}
		for _, h := range c.heartbeats {
			if h.Cluster != exp.ClusterName || h.Instance == "" || h.ServerHost == "" || h.LogTime.IsZero() {
				t.Errorf("heartbeat %+v", h)
			}
		}
	}
	tot := exp.Totals
	check := func(name string, got, want int) {
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	check("objects", len(results), tot.Objects)
	check("outer records", records, tot.OuterRecords)
	check("record events", events, tot.RecordEvents)
	check("heartbeats", heartbeats, tot.Heartbeats)
	check("audit record events", audit, tot.Audit)
	check("error record events", errorsN, tot.Errors)
	check("rdsadmin record events", rdsadmin, tot.RDSAdmin)
	check("events with error message", withError, tot.WithError)
	check("KMS calls (decoder)", int(d.KMSCalls()), tot.DataKeysUsed)
	check("KMS Decrypt requests (fake)", int(fake.Calls("Decrypt")), tot.DataKeysUsed)
	for name, m := range map[string][2]map[string]int{
		"by_class":         {byClass, exp.Counts.ByClass},
		"by_command":       {byCommand, exp.Counts.ByCommand},
		"by_user":          {byUser, exp.Counts.ByUser},
		"by_database":      {byDB, exp.Counts.ByDatabase},
		"by_instance":      {byInstance, exp.Counts.ByInstance},
		"by_class_command": {byClassCommand, exp.Counts.ByClassCommand},
	} {
		if !maps.Equal(m[0], m[1]) {
			t.Errorf("%s:\n got %v\nwant %v", name, m[0], m[1])
		}
	}

	// Samples, field by field.
	find := func(s sample) (model.Event, bool) {
		r := results[s.Object]
		if r == nil || s.RecordIndex >= len(r.offsets) {
			return model.Event{}, false
		}
		off := r.offsets[s.RecordIndex]
		for _, e := range r.c.events {
			if refOffset(e.ObjectRef) == off && refIndex(e.ObjectRef) == s.EventIndex {
				return e, true
			}
		}
		return model.Event{}, false
	}
	for i, s := range append(slices.Clone(exp.Samples), exp.ExtraSamples...) {
		ev, ok := find(s)
		if !ok {
			t.Errorf("sample %d (%s record %d event %d) not found", i, s.Object, s.RecordIndex, s.EventIndex)
			continue
		}
		checkEvent(t, ev.ObjectRef, ev, s.Event, s.InstanceID)
	}
	hs := exp.HeartbeatSample
	r := results[hs.Object]
	var found bool
	for _, h := range r.c.heartbeats {
		if refOffset(h.ObjectRef) == r.offsets[hs.RecordIndex] && refIndex(h.ObjectRef) == hs.EventIndex {
			found = true
			lt, _ := time.Parse("2006-01-02 15:04:05.999999999-07", hs.Event["logTime"].(string))
			want := model.Heartbeat{Cluster: exp.ClusterName, Instance: hs.InstanceID, LogTime: lt.UTC(),
				ServerHost: hs.Event["serverHost"].(string), ObjectRef: h.ObjectRef}
			h.LogTime = h.LogTime.UTC()
			if !reflect.DeepEqual(h, want) {
				t.Errorf("heartbeat sample:\n got %+v\nwant %+v", h, want)
			}
		}
	}
	if !found {
		t.Errorf("heartbeat sample not found")
	}

	// Every event against the plaintext the vectors were made from.
	f, err := os.Open(filepath.Join(corpusDir, folder, "plaintext.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	var checked int
	for sc.Scan() {
		var line struct {
			Object string `json:"object"`
			Record int    `json:"record"`
			Inner  struct {
				ClusterID  string           `json:"clusterId"`
				InstanceID string           `json:"instanceId"`
				Events     []map[string]any `json:"databaseActivityEventList"`
			} `json:"inner"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		r := results[line.Object]
		if r == nil || line.Record >= len(r.offsets) {
			t.Errorf("plaintext %s record %d: not decoded", line.Object, line.Record)
			continue
		}
		off := r.offsets[line.Record]
		byIndex := map[int]model.Event{}
		hb := map[int]bool{}
		for _, e := range r.c.events {
			if refOffset(e.ObjectRef) == off {
				byIndex[refIndex(e.ObjectRef)] = e
			}
		}
		for _, h := range r.c.heartbeats {
			if refOffset(h.ObjectRef) == off {
				hb[refIndex(h.ObjectRef)] = true
			}
		}
		if len(byIndex)+len(hb) != len(line.Inner.Events) {
			t.Errorf("%s record %d: %d rows, want %d", line.Object, line.Record, len(byIndex)+len(hb), len(line.Inner.Events))
		}
		for i, raw := range line.Inner.Events {
			if raw["type"] == "heartbeat" {
				if !hb[i] {
					t.Errorf("%s record %d event %d: heartbeat missing", line.Object, line.Record, i)
				}
				continue
			}
			ev, ok := byIndex[i]
			if !ok {
				t.Errorf("%s record %d event %d: missing", line.Object, line.Record, i)
				continue
			}
			checkEvent(t, ev.ObjectRef, ev, raw, line.Inner.InstanceID)
			checked++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	check("events checked against plaintext", checked, tot.RecordEvents)
	t.Logf("%s: %d objects, %d records, %d events, %d heartbeats, %d KMS calls", folder, len(results), records, events, heartbeats, d.KMSCalls())
}
