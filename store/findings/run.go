package findings

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/auditlens/auditlens/store"
)

// DefaultMaxEventIDs is how many event ids a finding carries by default.
const DefaultMaxEventIDs = 1000

// Options select the rules to run and set their parameters.
type Options struct {
	// Rules is the rule set; nil means Builtin(). Use Load or Merge to add a
	// user's rules.
	Rules []Rule
	// Only runs just the rules with these ids (an unknown id is an error).
	Only []string
	// Since and Until bound the events looked at (Until exclusive; zero
	// means unbounded). Rules see them as $since and $until.
	Since, Until time.Time
	// Settings and Params set rule parameters by name; Params wins. A name
	// in Params (or Settings.Params) that no rule declares is an error.
	Settings Settings
	Params   map[string]any
	// MaxEventIDs caps the event ids of one finding (default
	// DefaultMaxEventIDs); Finding.Records tells how many records there are.
	MaxEventIDs int
	// IncludeInternal lets rules see rows of RDS housekeeping users
	// (rdsadmin, …) ($include_internal).
	IncludeInternal bool
}

// Finding is one row of a rule's result: something for the investigator to
// look at.
type Finding struct {
	RuleID   string   `json:"rule"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// Key says what the finding is about ("orders-prod alice DROP TABLE").
	Key string `json:"key"`
	// Count is the number of occurrences: statements, login attempts,
	// sessions or silences, as the rule's description says.
	Count int64 `json:"count"`
	// Records is the number of audit records behind the finding (copies
	// from DAS and pgAudit, SESSION and OBJECT records each count).
	Records      int64     `json:"records"`
	First        time.Time `json:"first_time"`
	Last         time.Time `json:"last_time"`
	Clusters     []string  `json:"clusters,omitempty"`
	Users        []string  `json:"users,omitempty"`
	Databases    []string  `json:"databases,omitempty"`
	Hosts        []string  `json:"hosts,omitempty"`
	Applications []string  `json:"applications,omitempty"`
	Objects      []string  `json:"objects,omitempty"`
	// EventIDs are the events behind the finding, earliest first, at most
	// Options.MaxEventIDs of them.
	EventIDs []int64 `json:"event_ids"`
	Detail   string  `json:"detail,omitempty"`
	// Description is the rule's description (what it finds, why it matters).
	Description string `json:"-"`
}

// Truncated reports whether the finding has more records than event ids.
func (f Finding) Truncated() bool { return f.Records > int64(len(f.EventIDs)) }

// Filter is the events-view filter that lists the events behind the finding
// (internal users included: the rule chose these events).
func (f Finding) Filter() store.Filter {
	return store.Filter{EventIDs: slices.Clone(f.EventIDs), IncludeInternal: true}
}

// RuleError is a rule that could not run or returned a bad result. The other
// rules still ran.
type RuleError struct {
	RuleID string `json:"rule"`
	// Origin is "builtin" or the rules file the rule came from.
	Origin string `json:"origin"`
	Err    error  `json:"-"`
}

func (e RuleError) Error() string { return "rule " + e.RuleID + ": " + e.Err.Error() }

func (e RuleError) Unwrap() error { return e.Err }

// Highest is the highest severity among findings ("" when there are none).
func Highest(fs []Finding) Severity {
	var h Severity
	for _, f := range fs {
		if f.Severity.Rank() > h.Rank() {
			h = f.Severity
		}
	}
	return h
}

// Run runs the rules against the case file, one guarded read-only SELECT per
// rule (two at a time, each on its own connection), and returns the findings
// sorted by severity (highest first), rule and time. A rule that fails is
// reported in the RuleErrors and the others still run; the error is for what
// stops the whole run (bad options or settings, a cancelled context, a case
// file that cannot be read).
func Run(ctx context.Context, st *store.Store, opt Options) ([]Finding, []RuleError, error) {
	rules := opt.Rules
	if rules == nil {
		var err error
		if rules, err = Builtin(); err != nil {
			return nil, nil, err
		}
	}
	selected, err := selectRules(rules, opt.Only)
	if err != nil {
		return nil, nil, err
	}
	overrides, err := overrideParams(rules, opt)
	if err != nil {
		return nil, nil, err
	}
	maxIDs := opt.MaxEventIDs
	if maxIDs <= 0 {
		maxIDs = DefaultMaxEventIDs
	}
	base := map[string]any{
		"since":            time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		"until":            time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		"max_event_ids":    int64(maxIDs),
		"include_internal": opt.IncludeInternal,
	}
	if !opt.Since.IsZero() {
		base["since"] = opt.Since.UTC()
	}
	if !opt.Until.IsZero() {
		base["until"] = opt.Until.UTC()
	}

	// Two rules run at a time, each on its own connection: DuckDB spreads a
	// query over the cores while it scans, but a rule also has small serial
	// steps (windows, final aggregates, sending rows) that the other rule's
	// scan can overlap. More at once would only add memory.
	type result struct {
		fs   []Finding
		rerr *RuleError
	}
	results := make([]result, len(selected))
	workers := min(len(selected), 2)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := selected[i]
				params, err := ruleParams(r, base, overrides)
				if err == nil {
					var fs []Finding
					if fs, err = runRule(ctx, st, r, params, maxIDs); err == nil {
						results[i].fs = fs
						continue
					}
				}
				results[i].rerr = &RuleError{RuleID: r.ID, Origin: r.Origin, Err: err}
			}
		}()
	}
	for i := range selected {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var out []Finding
	var rerrs []RuleError
	for _, res := range results {
		if res.rerr != nil {
			rerrs = append(rerrs, *res.rerr)
			continue
		}
		out = append(out, res.fs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		if !a.First.Equal(b.First) {
			return a.First.Before(b.First)
		}
		return a.Key < b.Key
	})
	return out, rerrs, nil
}

func selectRules(rules []Rule, only []string) ([]Rule, error) {
	if len(only) == 0 {
		return rules, nil
	}
	var out []Rule
	for _, id := range only {
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.ID == id })
		if i < 0 {
			ids := make([]string, len(rules))
			for j, r := range rules {
				ids[j] = r.ID
			}
			return nil, fmt.Errorf("no rule %q (rules: %s)", id, strings.Join(ids, ", "))
		}
		if !slices.ContainsFunc(out, func(r Rule) bool { return r.ID == id }) {
			out = append(out, rules[i])
		}
	}
	return out, nil
}

// overrideParams merges settings and explicit params, and refuses an
// explicit name that no rule of the set declares (a typo would otherwise be
// silently ignored).
func overrideParams(rules []Rule, opt Options) (map[string]any, error) {
	p, err := opt.Settings.RuleParams()
	if err != nil {
		return nil, fmt.Errorf("findings settings: %w", err)
	}
	for k, v := range opt.Params {
		p[k] = v
	}
	explicit := make([]string, 0, len(opt.Params)+len(opt.Settings.Params))
	for k := range opt.Params {
		explicit = append(explicit, k)
	}
	for k := range opt.Settings.Params {
		explicit = append(explicit, k)
	}
	for _, k := range explicit {
		if slices.Contains(reserved, k) {
			return nil, fmt.Errorf("parameter %s is set by the engine (use the options)", k)
		}
		declared := slices.ContainsFunc(rules, func(r Rule) bool { _, ok := r.Params[k]; return ok })
		if !declared {
			return nil, fmt.Errorf("no rule has a parameter %q", k)
		}
	}
	return p, nil
}

func ruleParams(r Rule, base, overrides map[string]any) (map[string]any, error) {
	params := make(map[string]any, len(base)+len(r.Params))
	for k, v := range base {
		params[k] = v
	}
	for name, decl := range r.Params {
		raw, set := overrides[name]
		if !set {
			raw = decl.Default
		}
		v, err := convert(decl.Type, raw)
		if err != nil {
			src := "default"
			if set {
				src = "setting"
			}
			return nil, fmt.Errorf("parameter %s (%s): %w", name, src, err)
		}
		params[name] = v
	}
	return params, nil
}

// columns a rule's result may have, and which it must have.
var (
	requiredCols = []string{"group_key", "count", "first_time", "last_time", "event_ids"}
	optionalCols = []string{"records", "severity", "detail", "clusters", "users", "databases", "hosts", "applications", "objects"}
)

func runRule(ctx context.Context, st *store.Store, r Rule, params map[string]any, maxIDs int) ([]Finding, error) {
	var out []Finding
	idx := map[string]int{}
	err := st.QueryNamedReadOnly(ctx, r.SQL, params, func(cols []store.ResultColumn, row []any) error {
		if row == nil {
			for i, c := range cols {
				name := strings.ToLower(c.Name)
				if !slices.Contains(requiredCols, name) && !slices.Contains(optionalCols, name) {
					return fmt.Errorf("result column %q is not one a rule may return (%s, %s)", c.Name,
						strings.Join(requiredCols, ", "), strings.Join(optionalCols, ", "))
				}
				if _, dup := idx[name]; dup {
					return fmt.Errorf("result column %q appears twice", c.Name)
				}
				idx[name] = i
			}
			for _, c := range requiredCols {
				if _, ok := idx[c]; !ok {
					return fmt.Errorf("result has no %s column (required: %s)", c, strings.Join(requiredCols, ", "))
				}
			}
			return nil
		}
		f, err := decodeRow(r, idx, row, maxIDs)
		if err != nil {
			return fmt.Errorf("result row %d: %w", len(out)+1, err)
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

func decodeRow(r Rule, idx map[string]int, row []any, maxIDs int) (Finding, error) {
	f := Finding{RuleID: r.ID, Title: r.Title, Severity: r.Severity, Description: r.Description}
	col := func(name string) (any, bool) {
		i, ok := idx[name]
		if !ok || row[i] == nil {
			return nil, false
		}
		return row[i], true
	}
	var err error
	v, _ := col("group_key")
	if f.Key, err = asString(v); err != nil {
		return f, fmt.Errorf("group_key: %w", err)
	}
	v, _ = col("count")
	if f.Count, err = asInt(v); err != nil {
		return f, fmt.Errorf("count: %w", err)
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"first_time", &f.First}, {"last_time", &f.Last}} {
		v, ok := col(t.name)
		if !ok {
			continue
		}
		tm, isTime := v.(time.Time)
		if !isTime {
			return f, fmt.Errorf("%s: %T is not a timestamp", t.name, v)
		}
		*t.dst = tm.UTC()
	}
	if v, ok := col("event_ids"); ok {
		list, isList := v.([]any)
		if !isList {
			return f, fmt.Errorf("event_ids: %T is not a list", v)
		}
		for _, e := range list {
			if e == nil {
				continue
			}
			id, err := asInt(e)
			if err != nil {
				return f, fmt.Errorf("event_ids: %w", err)
			}
			f.EventIDs = append(f.EventIDs, id)
		}
	}
	if len(f.EventIDs) > maxIDs {
		f.EventIDs = f.EventIDs[:maxIDs]
	}
	f.Records = int64(len(f.EventIDs))
	if v, ok := col("records"); ok {
		if f.Records, err = asInt(v); err != nil {
			return f, fmt.Errorf("records: %w", err)
		}
	}
	if v, ok := col("severity"); ok {
		s, err := asString(v)
		if err != nil {
			return f, fmt.Errorf("severity: %w", err)
		}
		if f.Severity, err = ParseSeverity(s); err != nil {
			return f, fmt.Errorf("severity: %w", err)
		}
	}
	if v, ok := col("detail"); ok {
		if f.Detail, err = asString(v); err != nil {
			return f, fmt.Errorf("detail: %w", err)
		}
	}
	for _, l := range []struct {
		name string
		dst  *[]string
	}{{"clusters", &f.Clusters}, {"users", &f.Users}, {"databases", &f.Databases}, {"hosts", &f.Hosts},
		{"applications", &f.Applications}, {"objects", &f.Objects}} {
		v, ok := col(l.name)
		if !ok {
			continue
		}
		list, isList := v.([]any)
		if !isList {
			return f, fmt.Errorf("%s: %T is not a list", l.name, v)
		}
		for _, e := range list {
			if e == nil {
				continue
			}
			s, err := asString(e)
			if err != nil {
				return f, fmt.Errorf("%s: %w", l.name, err)
			}
			*l.dst = append(*l.dst, s)
		}
		sort.Strings(*l.dst)
	}
	return f, nil
}

func asString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("%T is not text", v)
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case *big.Int:
		if !x.IsInt64() {
			return 0, errors.New("number too large")
		}
		return x.Int64(), nil
	case float64:
		return int64(x), nil
	case interface{ Float64() float64 }:
		return int64(x.Float64()), nil
	}
	return 0, fmt.Errorf("%T is not a number", v)
}
