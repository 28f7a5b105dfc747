package findings

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

//go:embed rules/*.yaml
var builtinFS embed.FS

// Severity ranks a finding. The zero value is invalid.
type Severity string

// Severities, lowest first.
const (
	Info     Severity = "info"
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Rank orders severities: info 1 … critical 5; 0 for an unknown value.
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 1
	case Low:
		return 2
	case Medium:
		return 3
	case High:
		return 4
	case Critical:
		return 5
	}
	return 0
}

// Valid reports whether s is one of the five severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// AtLeast reports whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.Rank() >= min.Rank() }

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if !v.Valid() {
		return "", fmt.Errorf("unknown severity %q: use info, low, medium, high or critical", s)
	}
	return v, nil
}

// ParamType is the type of a rule parameter; it decides how a value from
// YAML, the config or the command line is checked and bound.
type ParamType string

// Parameter types and what the SQL receives.
const (
	TypeInt      ParamType = "int"      // BIGINT
	TypeFloat    ParamType = "float"    // DOUBLE
	TypeBool     ParamType = "bool"     // BOOLEAN
	TypeString   ParamType = "string"   // VARCHAR
	TypeStrings  ParamType = "strings"  // VARCHAR[]
	TypeDuration ParamType = "duration" // INTERVAL ("90s", "5m", "2h", "7d")
	TypeTime     ParamType = "time"     // VARCHAR "HH:MM:SS"; cast with ::TIME
	TypeTimeZone ParamType = "timezone" // VARCHAR, an IANA zone name checked here
	TypeWeekdays ParamType = "weekdays" // BIGINT[] of ISO weekdays (1 = Monday); names or numbers
)

// Param declares one parameter of a rule.
type Param struct {
	Type        ParamType `yaml:"type"`
	Default     any       `yaml:"default"`
	Description string    `yaml:"description"`
}

// Rule is one findings rule.
type Rule struct {
	ID       string   `yaml:"id"`
	Title    string   `yaml:"title"`
	Severity Severity `yaml:"severity"`
	// Description says what the rule finds and why it matters.
	Description string           `yaml:"description"`
	Params      map[string]Param `yaml:"params"`
	SQL         string           `yaml:"sql"`
	// Disabled, in a user's rules file, turns off the rule with this id
	// (built-in or not); such an entry needs nothing but the id.
	Disabled bool `yaml:"disabled"`
	// Origin is where the rule came from: "builtin" or the rules file path.
	Origin string `yaml:"-"`
}

// File is a user's rules file: settings for the rules and rules of their own.
//
//	settings:
//	  working_hours: "08:00-19:00"
//	  time_zone: Europe/Paris
//	  sensitive_objects: [sales.customers, payroll]
//	rules:
//	  - id: after-hours-login
//	    title: …
//	    severity: low
//	    description: …
//	    sql: SELECT …
type File struct {
	Settings Settings `yaml:"settings"`
	Rules    []Rule   `yaml:"rules"`
}

// reserved names are bound by the engine for every rule.
var reserved = []string{"since", "until", "max_event_ids", "include_internal"}

var (
	idPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	paramPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
)

// Validate checks a rule's fields and its parameters' defaults.
func (r Rule) Validate() error {
	if !idPattern.MatchString(r.ID) {
		return fmt.Errorf("rule id %q: use lower-case letters, digits, '-', '_' or '.' (at most 64)", r.ID)
	}
	if r.Disabled {
		return nil
	}
	if strings.TrimSpace(r.Title) == "" {
		return fmt.Errorf("rule %s: title is empty", r.ID)
	}
	if !r.Severity.Valid() {
		return fmt.Errorf("rule %s: severity %q: use info, low, medium, high or critical", r.ID, r.Severity)
	}
	if strings.TrimSpace(r.Description) == "" {
		return fmt.Errorf("rule %s: description is empty (say what it finds and why it matters)", r.ID)
	}
	if strings.TrimSpace(r.SQL) == "" {
		return fmt.Errorf("rule %s: sql is empty", r.ID)
	}
	for name, p := range r.Params {
		if !paramPattern.MatchString(name) {
			return fmt.Errorf("rule %s: parameter name %q: use lower-case letters, digits and '_'", r.ID, name)
		}
		if slices.Contains(reserved, name) {
			return fmt.Errorf("rule %s: parameter $%s is bound by the engine and cannot be declared", r.ID, name)
		}
		if _, err := convert(p.Type, p.Default); err != nil {
			return fmt.Errorf("rule %s: parameter %s: default: %w", r.ID, name, err)
		}
	}
	return nil
}

// Builtin returns the rules embedded in the binary, sorted by id.
func Builtin() ([]Rule, error) {
	names, err := fs.Glob(builtinFS, "rules/*.yaml")
	if err != nil {
		return nil, err
	}
	rules := make([]Rule, 0, len(names))
	for _, n := range names {
		b, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var r Rule
		if err := yaml.UnmarshalWithOptions(b, &r, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("built-in rule %s: %s", n, yaml.FormatError(err, false, true))
		}
		r.Origin = "builtin"
		if want := strings.TrimSuffix(path.Base(n), ".yaml"); r.ID != want {
			return nil, fmt.Errorf("built-in rule %s has id %q", n, r.ID)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("built-in %w", err)
		}
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules, nil
}

// ParseFile reads a user's rules file (see File). Each rule is validated;
// errors name the file, and the line where YAML can tell it.
func ParseFile(name string) (File, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return File{}, fmt.Errorf("rules file: %w", err)
	}
	return Parse(name, b)
}

// Parse reads a rules file's content; name is used in messages and as the
// rules' Origin.
func Parse(name string, b []byte) (File, error) {
	var f File
	if err := yaml.UnmarshalWithOptions(b, &f, yaml.Strict()); err != nil {
		return File{}, fmt.Errorf("rules file %s: %s", name, yaml.FormatError(err, false, true))
	}
	seen := map[string]bool{}
	for i := range f.Rules {
		r := &f.Rules[i]
		r.Origin = name
		if err := r.Validate(); err != nil {
			return File{}, fmt.Errorf("rules file %s: %w", name, err)
		}
		if seen[r.ID] {
			return File{}, fmt.Errorf("rules file %s: rule %s appears twice", name, r.ID)
		}
		seen[r.ID] = true
	}
	if _, err := f.Settings.RuleParams(); err != nil {
		return File{}, fmt.Errorf("rules file %s: settings: %w", name, err)
	}
	return f, nil
}

// Merge returns base with the rules of over added, a rule of over replacing
// the rule of base with the same id, and rules marked disabled left out;
// sorted by id.
func Merge(base, over []Rule) []Rule {
	byID := make(map[string]Rule, len(base)+len(over))
	for _, r := range base {
		byID[r.ID] = r
	}
	for _, r := range over {
		byID[r.ID] = r
	}
	out := make([]Rule, 0, len(byID))
	for _, r := range byID {
		if !r.Disabled {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Load returns the built-in rules merged with the rules of the user's file
// (none when rulesFile is ""), and the file's settings.
func Load(rulesFile string) ([]Rule, Settings, error) {
	rules, err := Builtin()
	if err != nil {
		return nil, Settings{}, err
	}
	if rulesFile == "" {
		return rules, Settings{}, nil
	}
	f, err := ParseFile(rulesFile)
	if err != nil {
		return nil, Settings{}, err
	}
	return Merge(rules, f.Rules), f.Settings, nil
}

var errNoValue = errors.New("no value")
