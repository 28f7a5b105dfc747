package filterbar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/auditlens/auditlens/store"
)

// Keys of the filter language, in the order Format writes them. Aliases map to
// these canonical names.
var fieldOrder = []string{"cluster", "source", "db", "user", "class", "cmd", "session", "obj", "since", "until"}

func canonicalKey(k string) string {
	switch strings.ToLower(k) {
	case "cluster":
		return "cluster"
	case "source", "src":
		return "source"
	case "db", "database":
		return "db"
	case "user", "u":
		return "user"
	case "class":
		return "class"
	case "cmd", "command":
		return "cmd"
	case "session", "sess":
		return "session"
	case "obj", "object":
		return "obj"
	case "since", "from":
		return "since"
	case "until", "to":
		return "until"
	}
	return ""
}

// FieldKeys are the canonical keys, for completion.
func FieldKeys() []string { return slices.Clone(fieldOrder) }

// DimOf is the facet dimension whose values complete a key ("" when none).
func DimOf(key string) store.Dim {
	switch canonicalKey(key) {
	case "cluster":
		return store.DimCluster
	case "source":
		return store.DimSource
	case "db":
		return store.DimDatabase
	case "user":
		return store.DimUser
	case "class":
		return store.DimClass
	case "cmd":
		return store.DimCommand
	}
	return ""
}

// KeyOf is the filter key of a facet dimension.
func KeyOf(d store.Dim) string {
	switch d {
	case store.DimCluster:
		return "cluster"
	case store.DimSource:
		return "source"
	case store.DimDatabase:
		return "db"
	case store.DimUser:
		return "user"
	case store.DimClass:
		return "class"
	case store.DimCommand:
		return "cmd"
	}
	return ""
}

// ParseError points at the token that could not be understood.
type ParseError struct {
	Pos int // byte offset in the input
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("filter: %s (at %d)", e.Msg, e.Pos) }

// token is one whitespace-separated word of the input: either key:values or
// free text (possibly quoted).
type token struct {
	pos    int
	key    string   // canonical key; "" for free text
	values []string // key values, or the one free-text chunk
}

// Parse turns a filter line into a store.Filter. Relative times (since:2h) are
// taken back from now; absolute times without a zone are in loc. Words that are
// not key:value pairs, and key:value pairs with unknown keys, are free text
// matched as one substring. A key with no value yet ("user:") restricts
// nothing, so a half-typed filter still applies.
func Parse(s string, now time.Time, loc *time.Location) (store.Filter, error) {
	var f store.Filter
	toks, err := tokenize(s)
	if err != nil {
		return f, err
	}
	var text []string
	for _, t := range toks {
		if t.key == "" {
			text = append(text, t.values...)
			continue
		}
		vals := t.values
		switch t.key {
		case "cluster":
			f.Clusters = appendUnique(f.Clusters, vals...)
		case "source":
			for _, v := range vals {
				f.Sources = appendUnique(f.Sources, strings.ToLower(v))
			}
		case "db":
			f.Databases = appendUnique(f.Databases, vals...)
		case "user":
			f.Users = appendUnique(f.Users, vals...)
		case "class":
			for _, v := range vals {
				f.Classes = appendUnique(f.Classes, strings.ToUpper(v))
			}
		case "cmd":
			for _, v := range vals {
				f.Commands = appendUnique(f.Commands, strings.ToUpper(v))
			}
		case "session":
			f.Sessions = appendUnique(f.Sessions, vals...)
		case "obj":
			if len(vals) > 0 {
				f.ObjectName = strings.Join(vals, ",")
			}
		case "since", "until":
			if len(vals) == 0 {
				continue
			}
			if len(vals) > 1 {
				return f, &ParseError{t.pos, t.key + " takes one time"}
			}
			tm, err := parseTime(vals[0], now, loc)
			if err != nil {
				return f, &ParseError{t.pos, t.key + ": " + err.Error()}
			}
			if t.key == "since" {
				f.Since = tm
			} else {
				f.Until = tm
			}
		}
	}
	f.Text = strings.Join(text, " ")
	return f, nil
}

func appendUnique(list []string, vals ...string) []string {
	for _, v := range vals {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		start := i
		if s[i] == '"' {
			v, n, err := quoted(s, i)
			if err != nil {
				return nil, err
			}
			i = n
			if v != "" {
				out = append(out, token{pos: start, values: []string{v}})
			}
			continue
		}
		// A bare word up to whitespace; a key:value word may hold quoted values
		// with spaces, so scan it value by value.
		j := i
		for j < len(s) && !isSpace(s[j]) && s[j] != ':' && s[j] != '"' {
			j++
		}
		if j < len(s) && s[j] == ':' && canonicalKey(s[i:j]) != "" {
			key := canonicalKey(s[i:j])
			vals, n, err := values(s, j+1)
			if err != nil {
				return nil, err
			}
			out = append(out, token{pos: start, key: key, values: vals})
			i = n
			continue
		}
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		out = append(out, token{pos: start, values: []string{s[i:j]}})
		i = j
	}
}

// values reads comma-separated values (bare or quoted) starting at i.
func values(s string, i int) ([]string, int, error) {
	var vals []string
	for {
		if i >= len(s) || isSpace(s[i]) {
			return vals, i, nil
		}
		var v string
		if s[i] == '"' {
			q, n, err := quoted(s, i)
			if err != nil {
				return nil, 0, err
			}
			v, i = q, n
		} else {
			j := i
			for j < len(s) && !isSpace(s[j]) && s[j] != ',' && s[j] != '"' {
				j++
			}
			v, i = s[i:j], j
		}
		if v != "" {
			vals = append(vals, v)
		}
		if i < len(s) && s[i] == ',' {
			i++
			continue
		}
		if i < len(s) && s[i] == '"' {
			// a quote glued to a bare value: read it as the next value
			continue
		}
		return vals, i, nil
	}
}

// quoted reads a "…" string at s[i] with \" and \\ escapes. An unclosed quote
// runs to the end: the user is still typing.
func quoted(s string, i int) (string, int, error) {
	var b strings.Builder
	i++ // opening quote
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i += 2
		case c == '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), i, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

var absLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15",
	"2006-01-02",
}

// parseTime reads 90s, 15m, 2h, 7d, 2w (before now) or an absolute time.
func parseTime(v string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, ok := parseAgo(v); ok {
		return now.Add(-d).UTC().Truncate(time.Second), nil
	}
	for _, l := range absLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration like 2h or 7d nor a time like 2026-11-24T10:00", v)
}

func parseAgo(v string) (time.Duration, bool) {
	if len(v) < 2 {
		return 0, false
	}
	unit := v[len(v)-1]
	n, err := strconv.ParseUint(v[:len(v)-1], 10, 31)
	if err != nil {
		return 0, false
	}
	mult := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[unit]
	if mult == 0 {
		return 0, false
	}
	d := time.Duration(n) * mult
	if d/mult != time.Duration(n) || d > 100*365*24*time.Hour {
		return 0, false
	}
	return d, true
}

// Format writes f back in the filter language, canonical keys in a fixed
// order, times absolute in loc. Parse(Format(f)) gives f back.
func Format(f store.Filter, loc *time.Location) string {
	var parts []string
	list := func(key string, vals []string) {
		if len(vals) == 0 {
			return
		}
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = quoteValue(v)
		}
		parts = append(parts, key+":"+strings.Join(q, ","))
	}
	list("cluster", f.Clusters)
	list("source", f.Sources)
	list("db", f.Databases)
	list("user", f.Users)
	list("class", f.Classes)
	list("cmd", f.Commands)
	list("session", f.Sessions)
	if f.ObjectName != "" {
		parts = append(parts, "obj:"+quoteValue(f.ObjectName))
	}
	if !f.Since.IsZero() {
		parts = append(parts, "since:"+formatTime(f.Since, loc))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "until:"+formatTime(f.Until, loc))
	}
	if f.Text != "" {
		parts = append(parts, quoteText(f.Text))
	}
	return strings.Join(parts, " ")
}

func formatTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Nanosecond() != 0 {
		return t.Format("2006-01-02T15:04:05.999999999Z07:00")
	}
	if loc == time.UTC {
		return t.Format("2006-01-02T15:04:05")
	}
	// Keep the offset so a DST fold cannot shift the time on the way back.
	return t.Format("2006-01-02T15:04:05Z07:00")
}

func quoteValue(v string) string {
	if v != "" && !strings.ContainsFunc(v, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == '"' || r == '\\'
	}) {
		return v
	}
	return quote(v)
}

// quoteText quotes free text when reading it back word by word would change
// it: several spaces, a quote, or a word that looks like key:value.
func quoteText(t string) string {
	words := strings.Fields(t)
	plain := strings.Join(words, " ") == t && !strings.ContainsAny(t, `"\`)
	for _, w := range words {
		if k, _, ok := strings.Cut(w, ":"); ok && canonicalKey(k) != "" {
			plain = false
		}
	}
	if plain {
		return t
	}
	return quote(t)
}

func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
