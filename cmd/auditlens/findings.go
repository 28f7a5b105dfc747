package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/internal/textsafe"
	"github.com/auditlens/auditlens/store/findings"
)

type findingsFlags struct {
	since, until    string
	rules           []string
	rulesFile       string
	set             []string
	format          string
	events          int
	includeInternal bool
	list            bool
}

func (a *app) findingsCommand() *cobra.Command {
	var f findingsFlags
	cmd := &cobra.Command{
		Use:   "findings [--since T] [--rule ID] [--rules FILE] [--format table|json]",
		Short: "Run the findings rules: what in the case file deserves a look",
		Long: `Runs the findings rules against the case file (opened read-only) and lists, per finding,
the rule, severity, count, first and last time, users, databases, hosts and a few event ids.

Built-in rules: auth-failure-burst, privilege-change, destructive-ddl, off-hours-ddl,
bulk-read, new-client, capture-silence (--list describes them). --rules FILE adds rules
from a YAML file and overrides built-ins with the same id; its settings: section sets
working_hours, working_days, time_zone, sensitive_objects, bulk_rows and any rule
parameter (params:). --set NAME=VALUE sets one rule parameter for this run.

Exit codes: 0 no finding of severity high or above; 3 a finding of severity high or
critical exists; 1 a rule failed (the others still ran and are listed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runFindings(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "", "only events from this time on (2026-11-24T10:00, 2026-11-24, 2h, 7d)")
	fl.StringVar(&f.until, "until", "", "only events before this time")
	fl.StringSliceVar(&f.rules, "rule", nil, "run only these rules (by id; repeat or comma-separate)")
	fl.StringVar(&f.rulesFile, "rules", "", "YAML file with settings and rules of your own")
	fl.StringArrayVar(&f.set, "set", nil, "set a rule parameter, NAME=VALUE (repeatable), e.g. --set auth_failures=3")
	fl.StringVar(&f.format, "format", "table", "output format: table or json")
	fl.IntVar(&f.events, "events", 5, "event ids listed per finding")
	fl.BoolVar(&f.includeInternal, "include-internal", false, "let rules see RDS housekeeping users (rdsadmin, …)")
	fl.BoolVar(&f.list, "list", false, "describe the rules instead of running them")
	return cmd
}

func (a *app) runFindings(cmd *cobra.Command, f findingsFlags) error {
	if f.format != "table" && f.format != "json" {
		return usageError("unknown --format %q: use table or json", f.format)
	}
	if f.events < 0 {
		return usageError("--events must be 0 or more")
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
	params := map[string]any{}
	for _, kv := range f.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return usageError("--set %q: use NAME=VALUE", kv)
		}
		params[strings.TrimSpace(k)] = v
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	rulesFile := f.rulesFile
	if rulesFile == "" {
		rulesFile = cfg.Findings.Rules
	}
	rules, settings, err := findings.Load(expandHome(rulesFile))
	if err != nil {
		return withCode(exitUsage, err)
	}
	// The config's findings: settings, then the rules file's settings: over them.
	fc := cfg.Findings
	settings = findings.Settings{WorkingHours: fc.WorkingHours, WorkingDays: fc.WorkingDays, TimeZone: fc.TimeZone,
		SensitiveObjects: fc.SensitiveObjects, BulkRows: fc.BulkRows, Params: fc.Params}.Merge(settings)
	if f.list {
		return printRules(a.stdout, rules, f.format)
	}

	ctx := cmd.Context()
	st, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	keep := max(f.events, 1)
	fs, rerrs, err := findings.Run(ctx, st, findings.Options{
		Rules: rules, Only: f.rules, Since: since, Until: until,
		Settings: settings, Params: params, MaxEventIDs: keep, IncludeInternal: f.includeInternal,
	})
	if err != nil {
		return withCode(exitUsage, err)
	}
	for i := range fs {
		if len(fs[i].EventIDs) > f.events {
			fs[i].EventIDs = fs[i].EventIDs[:f.events]
		}
	}
	if f.format == "json" {
		err = printFindingsJSON(a.stdout, fs, rerrs)
	} else {
		err = printFindingsTable(a.stdout, fs)
	}
	if err != nil {
		return err
	}
	if len(rerrs) > 0 {
		for _, e := range rerrs {
			fmt.Fprintf(a.stderr, "auditlens: rule %s (%s): %s\n", e.RuleID, e.Origin, textsafe.Clean(e.Err.Error(), true))
		}
		return withCode(exitError, fmt.Errorf("%d of the rules failed; the findings above are incomplete", len(rerrs)))
	}
	if findings.Highest(fs).AtLeast(findings.High) {
		return withCode(exitFindings, nil)
	}
	return nil
}

func printFindingsTable(w io.Writer, fs []findings.Finding) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tRULE\tCOUNT\tFIRST (UTC)\tLAST (UTC)\tUSERS\tDATABASES\tHOSTS\tEVENTS\tFINDING")
	for _, f := range fs {
		ids := make([]string, len(f.EventIDs))
		for i, id := range f.EventIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		evs := strings.Join(ids, ",")
		if f.Records > int64(len(f.EventIDs)) {
			evs += fmt.Sprintf(" (of %d)", f.Records)
		}
		what := f.Key
		if f.Detail != "" {
			what += ": " + f.Detail
		}
		// A terminal is the reader: nothing from the case file may steer it.
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			f.Severity, f.RuleID, f.Count, f.First.UTC().Format(time.DateTime), f.Last.UTC().Format(time.DateTime),
			textsafe.Line(strings.Join(f.Users, ", "), 40), textsafe.Line(strings.Join(f.Databases, ", "), 30),
			textsafe.Line(strings.Join(f.Hosts, ", "), 30), evs, textsafe.Line(what, 120))
	}
	return tw.Flush()
}

type jsonRuleError struct {
	Rule   string `json:"rule"`
	Origin string `json:"origin"`
	Error  string `json:"error"`
}

func printFindingsJSON(w io.Writer, fs []findings.Finding, rerrs []findings.RuleError) error {
	out := struct {
		Highest    findings.Severity  `json:"highest"`
		Findings   []findings.Finding `json:"findings"`
		RuleErrors []jsonRuleError    `json:"rule_errors"`
	}{Highest: findings.Highest(fs), Findings: fs, RuleErrors: []jsonRuleError{}}
	if out.Findings == nil {
		out.Findings = []findings.Finding{}
	}
	for _, e := range rerrs {
		out.RuleErrors = append(out.RuleErrors, jsonRuleError{Rule: e.RuleID, Origin: e.Origin, Error: e.Err.Error()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func printRules(w io.Writer, rules []findings.Rule, format string) error {
	if format == "json" {
		type param struct {
			Type        findings.ParamType `json:"type"`
			Default     any                `json:"default"`
			Description string             `json:"description,omitempty"`
		}
		type rule struct {
			ID          string            `json:"id"`
			Title       string            `json:"title"`
			Severity    findings.Severity `json:"severity"`
			Origin      string            `json:"origin"`
			Description string            `json:"description"`
			Params      map[string]param  `json:"params,omitempty"`
		}
		out := make([]rule, 0, len(rules))
		for _, r := range rules {
			jr := rule{ID: r.ID, Title: r.Title, Severity: r.Severity, Origin: r.Origin, Description: r.Description}
			if len(r.Params) > 0 {
				jr.Params = map[string]param{}
				for k, p := range r.Params {
					jr.Params[k] = param{Type: p.Type, Default: p.Default, Description: p.Description}
				}
			}
			out = append(out, jr)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, r := range rules {
		fmt.Fprintf(w, "%s (%s, %s) — %s\n", r.ID, r.Severity, r.Origin, textsafe.Line(r.Title, 100))
		for _, line := range strings.Split(strings.TrimSpace(r.Description), "\n") {
			fmt.Fprintf(w, "    %s\n", textsafe.Clean(line, false))
		}
		for _, k := range slices.Sorted(maps.Keys(r.Params)) {
			p := r.Params[k]
			fmt.Fprintf(w, "    param %s (%s, default %v): %s\n", k, p.Type, p.Default, textsafe.Clean(p.Description, false))
		}
		fmt.Fprintln(w)
	}
	return nil
}
