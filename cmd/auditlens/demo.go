package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/ingest"
	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/ingest/source/s3/s3test"
	"github.com/auditlens/auditlens/internal/config"
	"github.com/auditlens/auditlens/internal/demo"
	"github.com/auditlens/auditlens/internal/textsafe"
	"github.com/auditlens/auditlens/store"
)

// defaultDemoDB is the demo's case file when --db is not given. The demo never
// uses the config's db: it must not touch a real case.
const defaultDemoDB = "auditlens-demo.duckdb"

type demoFlags struct {
	events   int
	seed     uint64
	noTUI    bool
	progress bool
}

func (a *app) demoCommand() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo [--events N] [--db FILE] [--no-tui] [--seed S]",
		Short: "Generate a realistic case, sync it through the real pipeline and explore it",
		Long: `Generates three Aurora PostgreSQL clusters with about two and a half days of audited traffic:
orders-prod (Database Activity Stream in sync mode, and pgAudit logs), billing-prod (DAS in
async mode, which loses records under a load spike, and pgAudit logs) and inventory-prod
(pgAudit csvlog only). Hidden in the traffic: a burst of failed logins followed by a login from
a new host, a privilege escalation, bulk reads of a card table and a DROP TABLE at night.

The DAS objects are encrypted with the AWS Encryption SDK under data keys of an in-process fake
KMS, and served with the pgAudit logs by an in-process fake S3, both on 127.0.0.1: nothing
leaves the machine and no AWS account is needed. The sync is the real one (S3 listing and
reads, KMS Decrypt through the AWS SDK, decryption, decoding, the case file's writer).

The case file is ./` + defaultDemoDB + ` unless --db names another. An existing demo case
file is replaced without asking; any other existing file is refused.

With --no-tui the sync summary and the gaps summary (DAS against pgAudit per cluster) are
printed and the command exits: 0 when everything was ingested (the demo's async loss is
expected and does not change the exit code).`,
		Example: `  auditlens demo
  auditlens demo --no-tui --events 20000 --db /tmp/demo.duckdb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDemo(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.events, "events", 200_000, "about how many audit events the case file gets")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the generator: the same seed gives the same case")
	fl.BoolVar(&f.noTUI, "no-tui", false, "print the sync and gaps summaries and exit instead of opening the explorer")
	fl.BoolVar(&f.progress, "progress", true, "show progress on stderr")
	return cmd
}

func (a *app) runDemo(ctx context.Context, f demoFlags) error {
	if f.events < 1000 || f.events > 20_000_000 {
		return usageError("--events must be between 1000 and 20000000")
	}
	path := defaultDemoDB
	if a.dbPath != "" {
		path = expandHome(a.dbPath)
	}
	if err := replaceDemoCase(ctx, path); err != nil {
		return err
	}

	started := time.Now()
	if f.progress {
		fmt.Fprintf(a.stderr, "demo: generating about %d events (seed %d)…\n", f.events, f.seed)
	}
	ds, err := demo.Generate(ctx, demo.Options{Seed: f.seed, Events: f.events})
	if err != nil {
		return err
	}
	genTime := time.Since(started)
	if f.progress {
		fmt.Fprintf(a.stderr, "demo: %d objects, %s, generated in %s\n", len(ds.Objects), humanBytes(ds.Bytes()), genTime.Round(time.Millisecond))
	}

	s3srv, err := s3test.New(demo.Bucket)
	if err != nil {
		return err
	}
	defer s3srv.Close()
	for _, o := range ds.Objects {
		if err := s3srv.Put(o.Key, o.Data); err != nil {
			return err
		}
	}
	ds.Objects = nil // the fake S3 holds them now
	kms := httptest.NewServer(kmsfake.New(ds.Keys))
	defer kms.Close()
	restore := demoAWSEnv(kms.URL)
	defer restore()

	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := &config.Config{DB: path}
	b := newJobBuilder()
	var jobs []ingest.Job
	for _, src := range ds.Sources {
		sc := config.Source{Name: src.Name, Kind: src.Kind, URL: "s3://" + demo.Bucket + "/" + src.Prefix, Cluster: src.Cluster,
			ResourceID: src.ResourceID, Mode: src.Mode, Format: src.Format, Region: "us-east-1",
			Endpoint: s3srv.URL, PathStyle: true}
		if sc.Kind == "pgaudit" {
			sc.LinePrefix = "%t:%r:%u@%d:[%p]:"
		}
		job, err := b.build(ctx, sc)
		if err != nil {
			return err
		}
		if err := st.UpsertSource(ctx, sourceRow(sc)); err != nil {
			return err
		}
		jobs = append(jobs, job)
		cfg.Sources = append(cfg.Sources, sc)
	}
	syncStart := time.Now()
	if err := a.runJobs(ctx, st, jobs, ingest.Options{Command: "demo"}, "table", f.progress); err != nil {
		return err
	}
	syncTime := time.Since(syncStart)
	fmt.Fprintf(a.stdout, "\ndemo case %s: generated in %s, synced in %s\n", path, genTime.Round(time.Millisecond), syncTime.Round(time.Millisecond))

	if f.noTUI {
		if err := printDemoGaps(ctx, a, st); err != nil {
			return err
		}
		printDemoQuestions(a, path)
		return nil
	}
	// The fake S3 and KMS stay up while the explorer runs, so its sources
	// page can sync the demo sources again.
	return a.explore(ctx, st, cfg)
}

// replaceDemoCase removes path if it is a demo case file, so a re-run starts
// afresh; any other file is refused: --db may name a real case by mistake.
func replaceDemoCase(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	notDemo := usageError("%s exists and is not a demo case file; pass another --db", path)
	st, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return err
		}
		return notDemo
	}
	// A demo case holds demo runs only; an empty case file (a demo stopped
	// before its sync began) has no runs and no events.
	var other, demoRuns, events int64
	qerr := st.DB().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM sync_runs WHERE command IS DISTINCT FROM 'demo'),
		(SELECT count(*) FROM sync_runs WHERE command = 'demo'),
		(SELECT count(*) FROM events)`).Scan(&other, &demoRuns, &events)
	_ = st.Close()
	if qerr != nil || other > 0 || (demoRuns == 0 && events > 0) {
		return notDemo
	}
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replace demo case file: %w", err)
		}
	}
	return nil
}

// demoAWSEnv points the AWS SDK of this process at the fake KMS with dummy
// credentials, and keeps it away from the user's profiles, SSO and instance
// metadata: the real KMS client reads these variables, and a demo must never
// reach AWS. It returns a function that restores the previous values.
func demoAWSEnv(kmsURL string) (restore func()) {
	set := map[string]string{
		"AWS_ENDPOINT_URL_KMS":        kmsURL,
		"AWS_ACCESS_KEY_ID":           "AKIDAUDITLENSDEMO",
		"AWS_SECRET_ACCESS_KEY":       "demo-secret",
		"AWS_REGION":                  "us-east-1",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	}
	unset := []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"}
	type prev struct {
		v  string
		ok bool
	}
	saved := map[string]prev{}
	for k, v := range set {
		old, ok := os.LookupEnv(k)
		saved[k] = prev{old, ok}
		os.Setenv(k, v)
	}
	for _, k := range unset {
		old, ok := os.LookupEnv(k)
		saved[k] = prev{old, ok}
		os.Unsetenv(k)
	}
	return func() {
		for k, p := range saved {
			if p.ok {
				os.Setenv(k, p.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// printDemoGaps prints what each capture path recorded of each cluster.
func printDemoGaps(ctx context.Context, a *app, st *store.Store) error {
	gaps, err := st.Gaps(ctx, store.GapsOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "\ngaps: DAS against pgAudit, statement records")
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cluster\tmode\tdas\tpgaudit\tmatched\tmissing in das\tmissing in pgaudit\tloss windows\theartbeat gaps\tloss\t")
	for _, g := range gaps {
		if g.DASEvents == 0 && g.Matched == 0 {
			// pgAudit only: nothing to reconcile against.
			fmt.Fprintf(tw, "%s\tno DAS\t-\t%d\t-\t-\t-\t-\t-\t-\t\n", textsafe.Line(g.Cluster, 40), g.PgAuditEvents)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f%%\t\n", textsafe.Line(g.Cluster, 40), g.Mode, g.DASEvents, g.PgAuditEvents,
			g.Matched, g.MissingInDAS, g.MissingInPgAudit, len(g.Windows), len(g.HeartbeatGaps), 100*g.LossRate)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, g := range gaps {
		ws := slices.Clone(g.Windows)
		slices.SortFunc(ws, func(x, y store.GapWindow) int { return int(y.MissingInDAS - x.MissingInDAS) })
		for i, w := range ws {
			if i == 3 || g.DASEvents == 0 {
				break
			}
			if i == 0 {
				fmt.Fprintf(a.stdout, "%s: largest loss windows\n", g.Cluster)
			}
			fmt.Fprintf(a.stdout, "  %s – %s  %d records missing in DAS\n", w.Start.UTC().Format("2006-01-02 15:04:05"),
				w.End.UTC().Format("15:04:05"), w.MissingInDAS)
		}
	}
	return nil
}

func printDemoQuestions(a *app, path string) {
	fmt.Fprintf(a.stdout, `
Questions the case answers (README.md, "Walkthrough: the demo case"):
  - Who dropped sales.order_audit_trail on orders-prod, when, and from where?
  - How did that user get in, and what did the session before the drop change?
  - Who read billing.cards in bulk, and which of those reads did DAS async mode lose?
Open the explorer:  auditlens --db %s
Ask in SQL:         auditlens sql --db %s "SELECT user_name, remote_host, log_time FROM audit_events WHERE command = 'DROP TABLE'"
`, path, path)
}
