package store

import (
	"regexp"
	"strings"
	"time"
)

// Filter narrows the events of the case file. Zero values mean "no restriction".
// Every value is bound as a query parameter: no filter value can change a query.
type Filter struct {
	Clusters  []string
	Sources   []string // das | pgaudit
	Databases []string
	Users     []string
	Classes   []string
	Commands  []string
	Sessions  []string
	// ObjectName matches object_name case-insensitively as a substring.
	ObjectName string
	// Text matches statement, object name and error message case-insensitively
	// as a substring (no pattern characters).
	Text  string
	Since time.Time // inclusive
	Until time.Time // exclusive
	// IncludeInternal shows rows of RDS housekeeping users (rdsadmin, …).
	IncludeInternal bool
	// EventIDs restricts to these events (findings drill-down).
	EventIDs []int64
}

// IsZero reports whether the filter restricts nothing except internal users.
func (f Filter) IsZero() bool {
	return len(f.Clusters)+len(f.Sources)+len(f.Databases)+len(f.Users)+len(f.Classes)+
		len(f.Commands)+len(f.Sessions)+len(f.EventIDs) == 0 &&
		f.ObjectName == "" && f.Text == "" && f.Since.IsZero() && f.Until.IsZero()
}

// where builds the WHERE clause (without the keyword; "true" when empty) and
// its arguments. skip names a dimension column left out (for facet counts).
func (f Filter) where(skip string) (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 || col == skip {
			return
		}
		var nonNull []string
		wantNull := false
		for _, v := range vals {
			if v == NullValue {
				wantNull = true
				continue
			}
			nonNull = append(nonNull, v)
		}
		var parts []string
		if len(nonNull) > 0 {
			parts = append(parts, col+" IN ("+placeholders(len(nonNull))+")")
			for _, v := range nonNull {
				args = append(args, v)
			}
		}
		if wantNull {
			parts = append(parts, col+" IS NULL")
		}
		conds = append(conds, "("+strings.Join(parts, " OR ")+")")
	}
	in("cluster", f.Clusters)
	in("source", f.Sources)
	in("database_name", f.Databases)
	in("user_name", f.Users)
	in("class", f.Classes)
	in("command", f.Commands)
	in("session_id", f.Sessions)
	if len(f.EventIDs) > 0 {
		conds = append(conds, "event_id IN ("+placeholders(len(f.EventIDs))+")")
		for _, id := range f.EventIDs {
			args = append(args, id)
		}
	}
	// Substring matches use a case-insensitive RE2 pattern of the quoted text:
	// on 10 M statements it measured 3–8× faster than ILIKE with an ESCAPE
	// clause, and the quoting keeps every character of the text literal.
	if f.ObjectName != "" {
		conds = append(conds, `regexp_matches(object_name, ?)`)
		args = append(args, literalPattern(f.ObjectName))
	}
	if f.Text != "" {
		pat := literalPattern(f.Text)
		if run := caselessRun(f.Text); len(run) >= 2 {
			// Every match holds the text's longest run of characters that have
			// no case (digits, punctuation) as it is: a plain substring test
			// on it, much cheaper than the pattern, goes first (a search for
			// tmp_42 over 10 M statements: ~40 % less time).
			conds = append(conds, `((contains(statement, ?) AND regexp_matches(statement, ?)) OR (contains(object_name, ?) AND regexp_matches(object_name, ?)) OR (contains(error_message, ?) AND regexp_matches(error_message, ?)))`)
			args = append(args, run, pat, run, pat, run, pat)
		} else {
			conds = append(conds, `(regexp_matches(statement, ?) OR regexp_matches(object_name, ?) OR regexp_matches(error_message, ?))`)
			args = append(args, pat, pat, pat)
		}
	}
	if !f.Since.IsZero() {
		conds = append(conds, "log_time >= ?")
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		conds = append(conds, "log_time < ?")
		args = append(args, f.Until.UTC())
	}
	if !f.IncludeInternal {
		conds = append(conds, "NOT internal")
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

// NullValue stands for SQL NULL in a filter list and in facet values.
const NullValue = "(null)"

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// literalPattern is a case-insensitive RE2 pattern matching s literally.
// caselessRun returns the longest run of s made of ASCII characters that are
// not letters: case-insensitive matching (RE2's (?i), Unicode simple case
// folding) leaves those as they are, so any match of s contains the run
// byte for byte.
func caselessRun(s string) string {
	best, start := "", -1
	for i := 0; i <= len(s); i++ {
		caseless := i < len(s) && s[i] < 0x80 && !('a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z')
		switch {
		case caseless && start < 0:
			start = i
		case !caseless && start >= 0:
			if i-start > len(best) {
				best = s[start:i]
			}
			start = -1
		}
	}
	return best
}

func literalPattern(s string) string {
	return "(?i)" + regexp.QuoteMeta(s)
}
