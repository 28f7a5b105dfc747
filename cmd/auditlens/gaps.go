package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/internal/textsafe"
	"github.com/auditlens/auditlens/store"
)

type gapsFlags struct {
	cluster, since, until, format string
	heartbeat                     time.Duration
	heartbeatFactor               int
	merge                         time.Duration
	includeInternal               bool
}

func (a *app) gapsCommand() *cobra.Command {
	var f gapsFlags
	cmd := &cobra.Command{
		Use:   "gaps [--cluster X] [--since T] [--until T] [--format table|json]",
		Short: "Reconcile DAS against pgAudit: what each capture path lost, and when",
		Long: `Matches the statement records of DAS and pgAudit of each cluster on session id, statement
id, substatement id, class and command (counted, since one statement can write several
records), and reports matched records, records missing in DAS and missing in pgAudit, the
loss windows (runs of missing records that no matched record interrupts), heartbeat gaps
(no DAS record or heartbeat from an instance for longer than 3 heartbeat intervals) and each
source's coverage. Connections, rows without statement ids and rdsadmin housekeeping take no
part. Exit code 4 when any record is missing; a cluster with no DAS source only reports.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runGaps(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "", "only this cluster (default: every cluster)")
	fl.StringVar(&f.since, "since", "", "from this time (2026-11-24T10:00, RFC 3339, or an age like 2h)")
	fl.StringVar(&f.until, "until", "", "up to this time (exclusive)")
	fl.StringVar(&f.format, "format", "table", "output format: table or json")
	fl.DurationVar(&f.heartbeat, "heartbeat-interval", 10*time.Second, "DAS heartbeat interval")
	fl.IntVar(&f.heartbeatFactor, "heartbeat-factor", 3, "a heartbeat gap is longer than this many intervals")
	fl.DurationVar(&f.merge, "merge", 0, "join loss windows closer than this (0: only overlapping ones)")
	fl.BoolVar(&f.includeInternal, "include-internal", false, "reconcile RDS housekeeping (rdsadmin) records too")
	return cmd
}

func (a *app) runGaps(cmd *cobra.Command, f gapsFlags) error {
	if f.format != "table" && f.format != "json" {
		return usageError("unknown --format %q: use table or json", f.format)
	}
	if f.heartbeat <= 0 || f.heartbeatFactor <= 0 {
		return usageError("--heartbeat-interval and --heartbeat-factor must be positive")
	}
	if f.merge < 0 {
		return usageError("--merge must not be negative")
	}
	now := time.Now()
	since, err := parseTimeFlag(f.since, now)
	if err != nil {
		return usageError("--since: %v", err)
	}
	until, err := parseTimeFlag(f.until, now)
	if err != nil {
		return usageError("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return usageError("--until must be after --since")
	}
	ctx := cmd.Context()
	st, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	gaps, err := st.Gaps(ctx, store.GapsOptions{Cluster: f.cluster, Since: since, Until: until,
		HeartbeatInterval: f.heartbeat, HeartbeatFactor: f.heartbeatFactor, WindowMerge: f.merge, IncludeInternal: f.includeInternal})
	if err != nil {
		return err
	}
	if f.cluster != "" && len(gaps) == 0 {
		return usageError("no events of cluster %q in the case file (or in the time range)", f.cluster)
	}
	if f.format == "json" {
		err = writeGapsJSON(a.stdout, gaps)
	} else {
		err = writeGapsTable(a.stdout, gaps)
	}
	if err != nil {
		return err
	}
	if lost := gapsLost(gaps); lost > 0 {
		// The report is on stdout; the exit code alone tells scripts.
		return withCode(exitQuarantined, nil)
	}
	return nil
}

// gapsLost counts the missing records that make the exit code 4.
func gapsLost(gaps []store.ClusterGaps) int64 {
	var n int64
	for _, g := range gaps {
		if !g.PgAuditOnly() {
			n += g.MissingInDAS + g.MissingInPgAudit
		}
	}
	return n
}

func writeGapsJSON(w io.Writer, gaps []store.ClusterGaps) error {
	if gaps == nil {
		gaps = []store.ClusterGaps{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(gaps); err != nil {
		return fmt.Errorf("write gaps: %w", err)
	}
	return nil
}

// writeGapsTable prints one line per cluster, then each cluster's windows and
// heartbeat gaps. Cluster names and instances come from logs: cleaned.
func writeGapsTable(w io.Writer, gaps []store.ClusterGaps) error {
	if len(gaps) == 0 {
		_, err := fmt.Fprintln(w, "no events in the case file for this selection")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cluster\tmode\tdas\tpgaudit\tmatched\tmissing in das\tmissing in pgaudit\tloss\twindows\theartbeat gaps\t")
	for _, g := range gaps {
		name := textsafe.Line(g.Cluster, 40)
		if g.PgAuditOnly() {
			fmt.Fprintf(tw, "%s\tno DAS\t-\t%d\t-\t-\t-\t-\t-\t-\t\n", name, g.PgAuditEvents)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.2f%%\t%d\t%d\t\n", name, textsafe.Line(g.Mode, 10), g.DASEvents,
			g.PgAuditEvents, g.Matched, g.MissingInDAS, g.MissingInPgAudit, 100*g.LossRate, len(g.Windows), len(g.HeartbeatGaps))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write gaps: %w", err)
	}
	for _, g := range gaps {
		if g.PgAuditOnly() || (len(g.Windows) == 0 && len(g.HeartbeatGaps) == 0) {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", textsafe.Line(g.Cluster, 40))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if len(g.Windows) > 0 {
			fmt.Fprintln(tw, "  loss window\tstart\tend\tduration\tmissing in das\tmissing in pgaudit")
			for i, win := range g.Windows {
				fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\t%d\n", i+1, fmtGapTime(win.Start), fmtGapTime(win.End),
					win.End.Sub(win.Start).Round(time.Millisecond), win.MissingInDAS, win.MissingInPgAudit)
			}
		}
		if len(g.HeartbeatGaps) > 0 {
			fmt.Fprintln(tw, "  heartbeat gap\tstart\tend\tduration\tinstance\t")
			for i, h := range g.HeartbeatGaps {
				fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t\n", i+1, fmtGapTime(h.Start), fmtGapTime(h.End),
					h.End.Sub(h.Start).Round(time.Millisecond), textsafe.Line(h.Instance, 40))
			}
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write gaps: %w", err)
		}
	}
	return nil
}

func fmtGapTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000000Z")
}
