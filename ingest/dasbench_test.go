package ingest

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/internal/benchstat"

	"github.com/auditlens/auditlens/ingest/das"
	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/s3/s3test"
	"github.com/auditlens/auditlens/internal/demo"
	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/model"
)

// BenchmarkSyncDAS syncs the DAS objects of a generated case (Firehose framing,
// ESDK 0x0378, rotating data keys) from the fake S3 with keys from the fake KMS
// through the real pipeline into a case file, and reports events/s end to end,
// the time per stage (KMS, decrypt, gunzip, JSON, append) and KMS calls.
// AUDITLENS_BENCH_DAS_EVENTS sets the size of the case (default 200,000 rows
// of DAS and pgAudit together; about half are DAS).
func BenchmarkSyncDAS(b *testing.B) {
	ctx := context.Background()
	n := 200_000
	if v := os.Getenv("AUDITLENS_BENCH_DAS_EVENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	ds, err := demo.Generate(ctx, demo.Options{Events: n})
	if err != nil {
		b.Fatal(err)
	}
	srv := s3test.Start(b, "bench")
	for _, o := range ds.Objects {
		if err := srv.Put(o.Key, o.Data); err != nil {
			b.Fatal(err)
		}
	}
	fake := kmsfake.New(ds.Keys)
	hs := httptest.NewServer(fake)
	defer hs.Close()
	b.Setenv("AWS_ENDPOINT_URL_KMS", hs.URL)
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDBENCH")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", filepath.Join(b.TempDir(), "none"))
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(b.TempDir(), "none"))

	for i := 0; i < b.N; i++ {
		client, err := das.NewKMSClient(ctx, "us-east-1", "")
		if err != nil {
			b.Fatal(err)
		}
		keys := das.NewKMS(client)
		dec, err := das.NewDecoder(keys)
		if err != nil {
			b.Fatal(err)
		}
		// Stage times: decode every DAS object once without writing.
		var stages das.StageTimes
		var decoded int64
		for _, src := range ds.Sources {
			if src.Kind != "das" {
				continue
			}
			for _, o := range ds.Objects {
				if !strings.HasPrefix(o.Key, src.Prefix) {
					continue
				}
				st, err := dec.Decode(ctx, "bench", o.Key, strings.NewReader(string(o.Data)),
					das.Options{Cluster: src.Cluster, ResourceID: src.ResourceID, Mode: src.Mode}, func(*model.Batch) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				stages.KMS += st.Stage.KMS
				stages.Decrypt += st.Stage.Decrypt
				stages.Gunzip += st.Stage.Gunzip
				stages.JSON += st.Stage.JSON
				decoded += st.Events + st.Heartbeats
			}
		}
		callsBefore := fake.Calls("Decrypt")

		// The whole pipeline with a fresh decoder (so KMS calls are counted per run).
		dec2, err := das.NewDecoder(das.NewKMS(client))
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "das.duckdb"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		// As the sync command runs.
		if _, err := st.TuneForBulkWrites(ctx); err != nil {
			b.Fatal(err)
		}
		benchstat.EnvSQL(b, st.DB())
		var jobs []Job
		for _, src := range ds.Sources {
			if src.Kind != "das" {
				continue
			}
			s3s, err := srv.Source(ctx, src.Prefix)
			if err != nil {
				b.Fatal(err)
			}
			jobs = append(jobs, Job{Name: src.Name, Source: source.Retrying(s3s, source.RetryPolicy{}),
				Decoder: DAS{Decoder: dec2, Options: das.Options{Cluster: src.Cluster, ResourceID: src.ResourceID, Mode: src.Mode}}})
		}
		// AUDITLENS_BENCH_CPUPROFILE=file profiles the pipeline alone.
		stopProfile := benchstat.EnvCPUProfile(b)
		cpu0 := benchstat.CPUTime()
		start := time.Now()
		sum, err := Run(ctx, st, jobs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		// Closing checkpoints what the WAL still holds: part of the work.
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		secs := time.Since(start).Seconds()
		stopProfile()
		cpu := (benchstat.CPUTime() - cpu0).Seconds()
		tot := sum.Totals()
		rows := tot.Events + tot.Heartbeats
		kmsCalls := fake.Calls("Decrypt") - callsBefore
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(decoded) }
		appendPer := float64(st.WriteTime().Microseconds()) / float64(rows)
		b.ReportMetric(float64(rows)/secs, "events/s")
		b.ReportMetric(float64(rows)/cpu, "events/cpu-s")
		b.ReportMetric(float64(kmsCalls), "kms-calls/run")
		b.Logf("DAS sync: %d objects, %d events + heartbeats in %.2fs = %.0f events/s (goal ≥ 40k on 2 cores), %.0f per CPU-second; KMS calls %d for %d data keys",
			tot.New, rows, secs, float64(rows)/secs, float64(rows)/cpu, kmsCalls, len(ds.Keys))
		b.Logf("stages per event: KMS %.1f µs, decrypt %.1f µs, gunzip %.1f µs, JSON %.1f µs (decode-only pass, one goroutine); append and commit %.1f µs (the writer, in the pipeline)",
			per(stages.KMS), per(stages.Decrypt), per(stages.Gunzip), per(stages.JSON), appendPer)
	}
}
