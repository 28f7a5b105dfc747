package das

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/benchstat"

	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/store/model"
)

const (
	benchEventsPerRecord  = 200
	benchRecordsPerObject = 50
	benchKeyRotation      = 12 // records per data key, like DAS rotating keys
)

// benchObject builds a realistic Firehose object from the corpus events:
// 50 records of 200 events, the DAS suite, data keys rotating.
func benchObject(b *testing.B) (object []byte, client *kmsfake.Server, newDecoder func() *Decoder) {
	b.Helper()
	var events []json.RawMessage
	for _, in := range plaintextInners(b, "orders-prod") {
		var inner struct {
			Events []json.RawMessage `json:"databaseActivityEventList"`
		}
		if err := json.Unmarshal(in, &inner); err != nil {
			b.Fatal(err)
		}
		events = append(events, inner.Events...)
	}
	fake, kmsClient := fakeKMS(b, map[string]kmsfake.Key{})
	enc, err := NewEncoder()
	if err != nil {
		b.Fatal(err)
	}
	var records [][]byte
	var key, blob []byte
	next := 0
	for r := range benchRecordsPerObject {
		if r%benchKeyRotation == 0 {
			key, blob = dataKey(b, kmsClient, testResourceID)
		}
		batch := make([]json.RawMessage, benchEventsPerRecord)
		for i := range batch {
			batch[i] = events[next%len(events)]
			next++
		}
		inner, err := MarshalInner(testResourceID, "db-BENCHWRITER", batch)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := enc.EncodeRecord(context.Background(), key, blob, inner, EncodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		records = append(records, rec)
	}
	var obj bytes.Buffer
	if err := WriteObject(&obj, records, ObjectOptions{}); err != nil {
		b.Fatal(err)
	}
	return obj.Bytes(), fake, func() *Decoder {
		d, err := NewDecoder(NewKMS(kmsClient))
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
}

const benchKey = "das/aws-rds-das-" + testResourceID + "-1-2026-01-01-00-00-00-bench"

// BenchmarkDecode decodes one object per iteration with a fresh Decoder (a
// new run: the data keys are fetched again), on one goroutine.
func BenchmarkDecode(b *testing.B) {
	obj, _, newDecoder := benchObject(b)
	var total Stats
	var kmsCalls int64
	b.SetBytes(int64(len(obj)))
	b.ResetTimer()
	start := time.Now()
	cpu0 := benchstat.CPUTime()
	var paused time.Duration
	for b.Loop() {
		p := time.Now()
		b.StopTimer()
		d := newDecoder()
		b.StartTimer()
		paused += time.Since(p)
		st, err := d.Decode(context.Background(), "s3://b/"+benchKey, benchKey, bytes.NewReader(obj), Options{}, discard)
		if err != nil || st.Rejects != 0 {
			b.Fatalf("%v %+v", err, st)
		}
		addStats(&total, st)
		kmsCalls += st.KMSCalls
	}
	elapsed := time.Since(start) - paused
	reportStats(b, total, elapsed, benchstat.CPUTime()-cpu0)
	b.ReportMetric(float64(kmsCalls)/float64(b.N), "kms-calls/op")
}

// BenchmarkDecodeParallel decodes objects on GOMAXPROCS goroutines sharing one
// Decoder, as the sync pipeline does.
func BenchmarkDecodeParallel(b *testing.B) {
	obj, _, newDecoder := benchObject(b)
	d := newDecoder()
	var mu sync.Mutex
	var total Stats
	var failed atomic.Bool
	b.SetBytes(int64(len(obj)))
	b.ResetTimer()
	start := time.Now()
	cpu0 := benchstat.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st, err := d.Decode(context.Background(), "s3://b/"+benchKey, benchKey, bytes.NewReader(obj), Options{}, discard)
			if err != nil || st.Rejects != 0 {
				failed.Store(true)
			}
			mu.Lock()
			addStats(&total, st)
			mu.Unlock()
		}
	})
	elapsed := time.Since(start)
	if failed.Load() {
		b.Fatal("decode failed")
	}
	reportStats(b, total, elapsed, benchstat.CPUTime()-cpu0)
	b.ReportMetric(float64(d.KMSCalls()), "kms-calls/run")
}

func discard(*model.Batch) error { return nil }

func addStats(t *Stats, st Stats) {
	t.Events += st.Events + st.Heartbeats
	t.Stage.KMS += st.Stage.KMS
	t.Stage.Decrypt += st.Stage.Decrypt
	t.Stage.Gunzip += st.Stage.Gunzip
	t.Stage.JSON += st.Stage.JSON
}

// reportStats reports throughput and time per stage. events/cpu-s divides by
// the process's CPU time, which stays meaningful on a shared, loaded machine
// where wall-clock events/s does not.
func reportStats(b *testing.B, t Stats, elapsed, cpu time.Duration) {
	if t.Events == 0 {
		return
	}
	n := float64(t.Events)
	b.ReportMetric(n/elapsed.Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(float64(t.Stage.KMS.Nanoseconds())/n, "kms-ns/event")
	b.ReportMetric(float64(t.Stage.Decrypt.Nanoseconds())/n, "decrypt-ns/event")
	b.ReportMetric(float64(t.Stage.Gunzip.Nanoseconds())/n, "gunzip-ns/event")
	b.ReportMetric(float64(t.Stage.JSON.Nanoseconds())/n, "json-ns/event")
}
