package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/ingest"
	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/internal/textsafe"
	"github.com/auditlens/auditlens/store"
)

func (a *app) verifyCommand() *cobra.Command {
	var remote bool
	var format string
	cmd := &cobra.Command{
		Use:   "verify [--remote]",
		Short: "Check the case file's provenance: the object hash chain and the rows of every object",
		Long: `Recomputes the hash chain over every ingested object (each link covers the previous link,
the object's SHA-256 and its row counts) and counts the events and heartbeats stored for each
object. Any difference names the object. Prints the chain head: record it elsewhere (a ticket,
an export manifest) to detect a rewritten chain later.

--remote also re-reads every object from its configured source (by version id where one was
recorded) and reports objects that changed or disappeared since they were ingested.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runVerify(cmd.Context(), remote, format)
		},
	}
	cmd.Flags().BoolVar(&remote, "remote", false, "also re-read every object from its source and compare its SHA-256")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

func (a *app) runVerify(ctx context.Context, remote bool, format string) error {
	st, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.VerifyChain(ctx)
	if err != nil {
		return err
	}
	var remoteRes []ingest.RemoteResult
	if remote {
		srcs, err := a.verifySources(ctx)
		if err != nil {
			return err
		}
		if remoteRes, err = ingest.VerifyRemote(ctx, st, srcs, 8); err != nil {
			return err
		}
	}
	bad := !rep.OK()
	counts := map[string]int{}
	for _, r := range remoteRes {
		counts[r.Status]++
		if r.Status != ingest.RemoteUnchanged {
			bad = true
		}
	}
	if format == "json" {
		type remoteRow struct {
			URI    string `json:"uri"`
			Status string `json:"status"`
			Detail string `json:"detail,omitempty"`
		}
		out := struct {
			OK       bool                 `json:"ok"`
			Objects  int64                `json:"objects"`
			Events   int64                `json:"events"`
			Head     string               `json:"chain_head"`
			Problems []store.ChainProblem `json:"problems"`
			Remote   []remoteRow          `json:"remote,omitempty"`
		}{OK: !bad, Objects: rep.Objects, Events: rep.Events, Head: rep.Head, Problems: rep.Problems}
		if out.Problems == nil {
			out.Problems = []store.ChainProblem{}
		}
		for _, r := range remoteRes {
			out.Remote = append(out.Remote, remoteRow{URI: r.Object.URI, Status: r.Status, Detail: r.Detail})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "objects: %d  events: %d  chain head: %s\n", rep.Objects, rep.Events, rep.Head)
		for _, p := range rep.Problems {
			fmt.Fprintf(a.stdout, "PROBLEM object %d %s: %s\n", p.ObjectID, textsafe.Line(p.URI, 300), p.Problem)
		}
		if rep.OK() {
			fmt.Fprintln(a.stdout, "chain and row counts: ok")
		}
		if remote {
			fmt.Fprintf(a.stdout, "remote: %d unchanged, %d changed, %d missing, %d unreadable\n",
				counts[ingest.RemoteUnchanged], counts[ingest.RemoteChanged], counts[ingest.RemoteMissing], counts[ingest.RemoteUnread])
			for _, r := range remoteRes {
				if r.Status != ingest.RemoteUnchanged {
					fmt.Fprintf(a.stdout, "%s %s: %s\n", r.Status, textsafe.Line(r.Object.URI, 300), textsafe.Line(r.Detail, 300))
				}
			}
		}
	}
	if bad {
		return withCode(exitVerify, fmt.Errorf("verification failed: the case file or its sources do not match what was recorded"))
	}
	return nil
}

// verifySources opens each configured source as it is, without the retry
// wrapper's length checks: a changed length is a finding here.
func (a *app) verifySources(ctx context.Context) (map[string]source.Source, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	out := map[string]source.Source{}
	for _, sc := range cfg.Sources {
		src, err := openSource(ctx, sc)
		if err != nil && !sc.IsS3() {
			// A single-file source whose file is gone: its folder still
			// answers, and Open then reports the object missing.
			src, err = local.New(filepath.Dir(expandHome(sc.URL)))
		}
		if err != nil {
			return nil, err
		}
		out[sc.Name] = src
	}
	return out, nil
}
