package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/ingest"
	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/internal/config"
)

type ingestFlags struct {
	kind, cluster, name, format, linePrefix, resourceID, mode, instance, region, profile string
	workers                                                                              int
	progress                                                                             bool
	summary                                                                              string
}

func (a *app) ingestCommand() *cobra.Command {
	var f ingestFlags
	cmd := &cobra.Command{
		Use:   "ingest --kind pgaudit|das --cluster NAME [flags] PATH... (or - for stdin)",
		Short: "Ingest local files or folders without a config (same pipeline as sync)",
		Long: `Ingests log files, folders or globs (pgAudit: stderr, csvlog, jsonlog, CloudWatch export
objects, gzip or zstd; DAS: Firehose objects) through the same pipeline as sync. "-" reads
one object from standard input. Files already ingested with the same content are skipped.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runIngest(cmd.Context(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "kind", "", "das or pgaudit (required)")
	fl.StringVar(&f.cluster, "cluster", "", "cluster name the rows belong to (required)")
	fl.StringVar(&f.name, "source-name", "", "source name recorded in the case file (default CLUSTER-KIND)")
	fl.StringVar(&f.format, "format", "auto", "pgaudit: auto, stderr, csvlog, jsonlog or cloudwatch")
	fl.StringVar(&f.linePrefix, "line-prefix", "", "pgaudit stderr: the server's log_line_prefix (default: detect)")
	fl.StringVar(&f.resourceID, "resource-id", "", "das: DbClusterResourceId (KMS encryption context); default from object names")
	fl.StringVar(&f.mode, "mode", "", "das: activity stream mode, sync or async")
	fl.StringVar(&f.instance, "instance", "", "pgaudit: instance the logs came from")
	fl.StringVar(&f.region, "region", "", "das: AWS region of the KMS key")
	fl.StringVar(&f.profile, "profile", "", "das: AWS profile")
	fl.IntVar(&f.workers, "workers", 0, "concurrent objects (default 4 × CPUs)")
	fl.BoolVar(&f.progress, "progress", true, "show progress on stderr")
	fl.StringVar(&f.summary, "summary", "table", "summary format: table or json")
	return cmd
}

func (a *app) runIngest(ctx context.Context, f ingestFlags, paths []string) error {
	if f.kind != "das" && f.kind != "pgaudit" {
		return usageError("--kind must be das or pgaudit")
	}
	if f.cluster == "" {
		return usageError("--cluster is required: the name of the cluster these logs belong to")
	}
	if f.mode != "" && f.mode != "sync" && f.mode != "async" {
		return usageError("--mode must be sync or async")
	}
	if f.name == "" {
		f.name = f.cluster + "-" + f.kind
	}
	st, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	b := newJobBuilder()
	var jobs []ingest.Job
	for i, p := range paths {
		sc := config.Source{Name: f.name, Kind: f.kind, URL: p, Cluster: f.cluster, ResourceID: f.resourceID, Mode: f.mode,
			Region: f.region, Profile: f.profile, Format: f.format, LinePrefix: f.linePrefix, Instance: f.instance}
		if p == "-" {
			spool, cleanup, err := spoolStdin(a.stdin)
			if err != nil {
				return err
			}
			defer cleanup()
			sc.URL = spool
		} else if _, err := os.Stat(p); err != nil && !hasGlob(p) {
			return usageError("%s: %v", p, err)
		}
		job, err := b.build(ctx, sc)
		if err != nil {
			return err
		}
		if p == "-" {
			job, err = stdinJob(job, sc.URL)
			if err != nil {
				return err
			}
		}
		if i == 0 {
			row := sourceRow(sc)
			row.URL = fmt.Sprint(paths)
			if err := st.UpsertSource(ctx, row); err != nil {
				return err
			}
		}
		jobs = append(jobs, job)
	}
	return a.runJobs(ctx, st, jobs, ingest.Options{Workers: f.workers, Command: "ingest"}, f.summary, f.progress)
}

func hasGlob(p string) bool {
	for _, c := range p {
		if c == '*' || c == '?' || c == '[' {
			return true
		}
	}
	return false
}

// spoolStdin copies standard input to a private temp file so it can be hashed,
// measured and retried like any object.
func spoolStdin(r io.Reader) (string, func(), error) {
	f, err := os.CreateTemp("", "auditlens-stdin-*")
	if err != nil {
		return "", nil, fmt.Errorf("spool stdin: %w", err)
	}
	cleanup := func() { _ = os.Remove(f.Name()) }
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		cleanup()
		return "", nil, fmt.Errorf("read stdin: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return f.Name(), cleanup, nil
}

// stdinJob names the spooled object by its content hash, so ingesting the same
// input twice is skipped like any unchanged object.
func stdinJob(job ingest.Job, path string) (ingest.Job, error) {
	b, err := os.Open(path)
	if err != nil {
		return job, err
	}
	defer b.Close()
	h := sha256.New()
	n, err := io.Copy(h, b)
	if err != nil {
		return job, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	l, err := local.New(filepath.Dir(path))
	if err != nil {
		return job, err
	}
	job.Source = l
	job.Only = []source.Object{{Key: filepath.Base(path), URI: "stdin:sha256:" + sum, Size: n, ETag: sum, LastModified: time.Now()}}
	return job, nil
}
