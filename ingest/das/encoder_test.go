package das

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/store/model"
)

const testResourceID = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
const testKeyARN = "arn:aws:kms:us-east-1:111122223333:key/00000000-1111-2222-3333-444444444444"

// plaintextInners reads the inner records of a corpus folder.
func plaintextInners(t testing.TB, folder string) [][]byte {
	t.Helper()
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
	var out [][]byte
	for sc.Scan() {
		var line struct {
			Inner json.RawMessage `json:"inner"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line.Inner)
	}
	return out
}

// dataKey asks the fake KMS, through the real SDK client, for a data key bound
// to the resource id, as Aurora does.
func dataKey(t testing.TB, client *kms.Client, resourceID string) (plaintext, blob []byte) {
	t.Helper()
	out, err := client.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{
		KeyId:             aws.String(testKeyARN),
		NumberOfBytes:     aws.Int32(32),
		EncryptionContext: map[string]string{EncryptionContextKey: resourceID},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Plaintext, out.CiphertextBlob
}

func TestEncoderRoundTrip(t *testing.T) {
	inners := plaintextInners(t, "orders-prod")[:12]
	fake, client := fakeKMS(t, map[string]kmsfake.Key{})
	enc, err := NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	k1, b1 := dataKey(t, client, testResourceID)
	k2, b2 := dataKey(t, client, testResourceID)
	suites := []EncodeOptions{
		{}, {Suite: SuiteHKDF}, {Suite: SuiteCommit, FrameLength: 512}, {Suite: SuiteCommitSigned, FrameLength: 1024},
		{Suite: SuiteDAS, FrameLength: 256, Version: "1.4"},
	}
	var records [][]byte
	for i, in := range inners {
		key, blob := k1, b1
		if i%2 == 1 {
			key, blob = k2, b2
		}
		rec, err := enc.EncodeRecord(context.Background(), key, blob, in, suites[i%len(suites)])
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		records = append(records, rec)
	}
	for _, oo := range []ObjectOptions{{}, {Delimiter: "\n"}, {Gzip: true}, {Gzip: true, Delimiter: "\n"}} {
		var obj bytes.Buffer
		if err := WriteObject(&obj, records, oo); err != nil {
			t.Fatal(err)
		}
		d, err := NewDecoder(NewKMS(client))
		if err != nil {
			t.Fatal(err)
		}
		key := "das/aws-rds-das-" + testResourceID + "-1-2026-01-01-00-00-00-x"
		var c collected
		st, err := d.Decode(context.Background(), "s3://b/"+key, key, &obj, Options{}, c.emit)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.rejects) != 0 || st.Records != int64(len(records)) || d.KMSCalls() != 2 {
			t.Fatalf("%+v: rejects %+v, records %d, KMS calls %d", oo, c.rejects, st.Records, d.KMSCalls())
		}
		if want := map[bool]string{true: "gzip", false: "none"}[oo.Gzip]; st.Compression != want {
			t.Errorf("compression %q", st.Compression)
		}
		// Every event equals its source event.
		offsets := c.recordOffsets()
		for i, in := range inners {
			var inner struct {
				ClusterID  string           `json:"clusterId"`
				InstanceID string           `json:"instanceId"`
				Events     []map[string]any `json:"databaseActivityEventList"`
			}
			if err := json.Unmarshal(in, &inner); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range c.events {
				if refOffset(e.ObjectRef) != offsets[i] {
					continue
				}
				n++
				checkEvent(t, e.ObjectRef, e, inner.Events[refIndex(e.ObjectRef)], inner.InstanceID)
				if e.Cluster != inner.ClusterID {
					t.Errorf("cluster %q, want the inner clusterId %q", e.Cluster, inner.ClusterID)
				}
			}
			for _, h := range c.heartbeats {
				if refOffset(h.ObjectRef) == offsets[i] {
					n++
				}
			}
			if n != len(inner.Events) {
				t.Errorf("record %d: %d rows, want %d", i, n, len(inner.Events))
			}
		}
	}
	if fake.Calls("GenerateDataKey") != 2 {
		t.Errorf("GenerateDataKey calls %d", fake.Calls("GenerateDataKey"))
	}
}

// Records built here with defects are rejected with the right reason while
// their neighbours are kept; framing damage resyncs at the next record.
func TestDecodeDefects(t *testing.T) {
	_, client := fakeKMS(t, map[string]kmsfake.Key{})
	enc, err := NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	key, blob := dataKey(t, client, testResourceID)
	inner := plaintextInners(t, "orders-prod")[0] // 2 events
	good, err := enc.EncodeRecord(context.Background(), key, blob, inner, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rawJSON, err := enc.encrypt(context.Background(), key, inner, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notGzip, _ := OuterRecord("1.2", rawJSON, blob)
	var otherKey [32]byte
	wrongKey, err := enc.EncodeRecord(context.Background(), otherKey[:], blob, inner, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gzBad := func(body string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(body))
		zw.Close()
		ct, err := enc.encrypt(context.Background(), key, b.Bytes(), EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := OuterRecord("1.2", ct, blob)
		return rec
	}
	g := string(good)
	cases := []struct {
		name    string
		object  string
		events  int
		reasons []string
	}{
		{"good", g, 2, nil},
		{"whitespace around", "\n\n  " + g + " \r\n\t" + g + "\n\n", 4, nil},
		{"garbage between", g + "xx garbage" + g, 4, []string{model.ReasonFraming}},
		{"garbage at end", g + "]]", 2, []string{model.ReasonFraming}},
		{"broken then good", g[:len(g)/2] + g, 2, []string{model.ReasonFraming}},
		{"truncated", g + g[:len(g)-1], 2, []string{model.ReasonTruncated}},
		{"not an outer record", `{"type":"Other","version":"1.2"}` + g, 2, []string{model.ReasonFraming}},
		{"invalid JSON closed", `{"type":"DatabaseActivityMonitoringRecords",,}` + g, 2, []string{model.ReasonFraming}},
		{"bad key base64", strings.Replace(g, `"key":"`, `"key":"*`, 1), 0, []string{model.ReasonBase64}},
		{"base64 with newline", strings.Replace(g, `"databaseActivityEvents":"`, `"databaseActivityEvents":"\n`, 1), 0, []string{model.ReasonBase64}},
		{"wrong data key", string(wrongKey) + g, 2, []string{model.ReasonDecryptAuth}},
		{"not gzip", string(notGzip) + g, 2, []string{model.ReasonGzip}},
		{"bad json", string(gzBad(`{"type":"DatabaseActivityMonitoringRecord",`)) + g, 2, []string{model.ReasonJSON}},
		{"event not an object", string(gzBad(`{"type":"DatabaseActivityMonitoringRecord","databaseActivityEventList":[1,null,{"type":"record","logTime":"2026-01-01 00:00:00+00"}]}`)), 1,
			[]string{model.ReasonJSON, model.ReasonJSON}},
		{"empty", "", 0, nil},
		{"only whitespace", " \n", 0, nil},
	}
	d, err := NewDecoder(NewKMS(client))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c collected
			key := "aws-rds-das-" + testResourceID + "-1-x"
			_, err := d.Decode(context.Background(), "ref", key, strings.NewReader(tc.object), Options{BatchSize: 1}, c.emit)
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, r := range c.rejects {
				reasons = append(reasons, r.Reason)
			}
			if len(c.events) != tc.events || strings.Join(reasons, ",") != strings.Join(tc.reasons, ",") {
				t.Errorf("events %d, rejects %+v; want %d, %v", len(c.events), c.rejects, tc.events, tc.reasons)
			}
		})
	}
	if d.KMSCalls() != 1 {
		t.Errorf("KMS calls %d", d.KMSCalls())
	}
}

// Without a resource id in the name or the options the records cannot be
// decrypted; with one only in the options they can.
func TestResourceIDSources(t *testing.T) {
	_, client := fakeKMS(t, map[string]kmsfake.Key{})
	enc, _ := NewEncoder()
	key, blob := dataKey(t, client, testResourceID)
	rec, err := enc.EncodeRecord(context.Background(), key, blob, plaintextInners(t, "orders-prod")[0], EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := NewDecoder(NewKMS(client))
	for _, tc := range []struct {
		name, objectKey, configured, reason string
	}{
		{"name only", "aws-rds-das-" + testResourceID + "-1-2026", "", ""},
		{"config only", "part-0001.bin", testResourceID, ""},
		{"neither", "part-0001.bin", "", model.ReasonKMSContext},
		{"wrong config, no name", "part-0001.bin", "cluster-OTHER", model.ReasonKMSUnknownKey},
	} {
		var c collected
		if _, err := d.Decode(context.Background(), "r", tc.objectKey, bytes.NewReader(rec), Options{ResourceID: tc.configured}, c.emit); err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(c.rejects) > 0 {
			got = c.rejects[0].Reason
		}
		if got != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, got, tc.reason)
		}
	}
}

func TestResourceIDFromKey(t *testing.T) {
	for key, want := range map[string]string{
		"das/2026/11/25/11/aws-rds-das-cluster-6CLRJYDL4QHALWPH3GMV6GPTPF-1-2026-11-25-11-42-16-2b5210dd": "cluster-6CLRJYDL4QHALWPH3GMV6GPTPF",
		"aws-rds-das-db-ABC123-1-2026-01-01.gz":                                                           "db-ABC123",
		"aws-rds-das-cluster--1-2026":                                                                     "",
		"aws-rds-das-foo-1":                                                                               "",
		"other/cluster-ABC":                                                                               "",
		"aws-rds-das-cluster-AB%C-1":                                                                      "",
	} {
		if got := ResourceIDFromKey(key); got != want {
			t.Errorf("%q: %q, want %q", key, got, want)
		}
	}
}
