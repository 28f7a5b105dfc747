package findings

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/store"
)

// Settings are the knobs an investigator sets for the built-in rules, in the
// config (findings:) or in a rules file (settings:). Each maps to rule
// parameters; Params sets any parameter by name.
type Settings struct {
	// WorkingHours is "HH:MM-HH:MM" in TimeZone (off-hours-ddl:
	// working_start, working_end). A start after the end is a night shift.
	WorkingHours string `yaml:"working_hours" json:"working_hours,omitempty"`
	// WorkingDays are day names (mon … sun) or ISO numbers (1 = Monday).
	WorkingDays []string `yaml:"working_days" json:"working_days,omitempty"`
	// TimeZone is an IANA zone name such as Europe/Paris (time_zone).
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
	// SensitiveObjects are tables or views whose reads bulk-read reports.
	SensitiveObjects []string `yaml:"sensitive_objects" json:"sensitive_objects,omitempty"`
	// BulkRows is the row count from which a read is a bulk read (nil: the
	// rule's default; 0 turns row counts off).
	BulkRows *int64 `yaml:"bulk_rows" json:"bulk_rows,omitempty"`
	// Params sets any rule parameter by name (auth_failures: 3, …).
	Params map[string]any `yaml:"params" json:"params,omitempty"`
}

// Merge returns s with every field that over sets taken from over.
func (s Settings) Merge(over Settings) Settings {
	if over.WorkingHours != "" {
		s.WorkingHours = over.WorkingHours
	}
	if over.WorkingDays != nil {
		s.WorkingDays = over.WorkingDays
	}
	if over.TimeZone != "" {
		s.TimeZone = over.TimeZone
	}
	if over.SensitiveObjects != nil {
		s.SensitiveObjects = over.SensitiveObjects
	}
	if over.BulkRows != nil {
		s.BulkRows = over.BulkRows
	}
	if len(over.Params) > 0 {
		p := make(map[string]any, len(s.Params)+len(over.Params))
		for k, v := range s.Params {
			p[k] = v
		}
		for k, v := range over.Params {
			p[k] = v
		}
		s.Params = p
	}
	return s
}

// RuleParams returns the rule parameters the settings set (not yet typed: each
// rule converts them to the type it declares).
func (s Settings) RuleParams() (map[string]any, error) {
	p := make(map[string]any, len(s.Params)+6)
	for k, v := range s.Params {
		if !paramPattern.MatchString(k) || slices.Contains(reserved, k) {
			return nil, fmt.Errorf("params: %q is not a parameter name a rule can declare", k)
		}
		p[k] = v
	}
	if s.WorkingHours != "" {
		from, to, ok := strings.Cut(s.WorkingHours, "-")
		if !ok {
			return nil, fmt.Errorf("working_hours %q: use HH:MM-HH:MM, e.g. 08:00-19:00", s.WorkingHours)
		}
		for _, t := range []string{from, to} {
			if _, err := convert(TypeTime, strings.TrimSpace(t)); err != nil {
				return nil, fmt.Errorf("working_hours %q: %w", s.WorkingHours, err)
			}
		}
		p["working_start"], p["working_end"] = strings.TrimSpace(from), strings.TrimSpace(to)
	}
	if s.WorkingDays != nil {
		if _, err := convert(TypeWeekdays, s.WorkingDays); err != nil {
			return nil, fmt.Errorf("working_days: %w", err)
		}
		p["working_days"] = s.WorkingDays
	}
	if s.TimeZone != "" {
		if _, err := convert(TypeTimeZone, s.TimeZone); err != nil {
			return nil, fmt.Errorf("time_zone: %w", err)
		}
		p["time_zone"] = s.TimeZone
	}
	if s.SensitiveObjects != nil {
		p["sensitive_objects"] = s.SensitiveObjects
	}
	if s.BulkRows != nil {
		if *s.BulkRows < 0 {
			return nil, fmt.Errorf("bulk_rows %d: must be 0 (off) or more", *s.BulkRows)
		}
		p["bulk_rows"] = *s.BulkRows
	}
	return p, nil
}

// convert checks v against t and returns the value to bind.
func convert(t ParamType, v any) (any, error) {
	if v == nil {
		return nil, errNoValue
	}
	switch t {
	case TypeInt:
		return toInt(v)
	case TypeFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		return float64(n), nil
	case TypeBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil {
				return nil, fmt.Errorf("%q is not true or false", x)
			}
			return b, nil
		}
		return nil, fmt.Errorf("%v is not true or false", v)
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("%v is not a string", v)
	case TypeStrings:
		return toStrings(v)
	case TypeDuration:
		d, err := toDuration(v)
		if err != nil {
			return nil, err
		}
		return store.IntervalParam(d), nil
	case TypeTime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a time of day (HH:MM)", v)
		}
		for _, layout := range []string{"15:04", "15:04:05"} {
			if tm, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return tm.Format("15:04:05"), nil
			}
		}
		if strings.TrimSpace(s) == "24:00" {
			return "23:59:59.999999", nil
		}
		return nil, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	case TypeTimeZone:
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%v is not a time zone name", v)
		}
		if _, err := time.LoadLocation(s); err != nil {
			return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Paris)", s)
		}
		return s, nil
	case TypeWeekdays:
		return toWeekdays(v)
	}
	return nil, fmt.Errorf("unknown parameter type %q (use int, float, bool, string, strings, duration, time, timezone or weekdays)", t)
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not a whole number", v)
}

func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return slices.Clone(x), nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				s = fmt.Sprint(e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is not a list of strings", v)
}

// toDuration reads a Go duration ("90s", "1h30m"), a number of days ("7d"),
// or a number of seconds.
func toDuration(v any) (time.Duration, error) {
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case string:
		s := strings.TrimSpace(x)
		if days, ok := strings.CutSuffix(s, "d"); ok {
			n, err := strconv.Atoi(days)
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration (90s, 5m, 2h, 7d)", x)
			}
			d = time.Duration(n) * 24 * time.Hour
		} else {
			var err error
			if d, err = time.ParseDuration(s); err != nil {
				return 0, fmt.Errorf("%q is not a duration (90s, 5m, 2h, 7d)", x)
			}
		}
	default:
		n, err := toInt(v)
		if err != nil {
			return 0, fmt.Errorf("%v is not a duration (90s, 5m, 2h, 7d)", v)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %v is negative", d)
	}
	return d, nil
}

var dayNumbers = map[string]int64{
	"mon": 1, "monday": 1, "tue": 2, "tuesday": 2, "wed": 3, "wednesday": 3, "thu": 4, "thursday": 4,
	"fri": 5, "friday": 5, "sat": 6, "saturday": 6, "sun": 7, "sunday": 7,
}

// toWeekdays returns ISO weekday numbers (1 = Monday … 7 = Sunday; 0 is
// read as Sunday too), sorted and without repeats.
func toWeekdays(v any) ([]int64, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		for _, s := range x {
			items = append(items, s)
		}
	case []int64:
		for _, n := range x {
			items = append(items, n)
		}
	case string:
		for _, s := range strings.Split(x, ",") {
			items = append(items, strings.TrimSpace(s))
		}
	default:
		return nil, fmt.Errorf("%v is not a list of weekdays", v)
	}
	out := make([]int64, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			if d, ok := dayNumbers[strings.ToLower(strings.TrimSpace(s))]; ok {
				out = append(out, d)
				continue
			}
		}
		n, err := toInt(it)
		if err != nil || n < 0 || n > 7 {
			return nil, fmt.Errorf("%v is not a weekday (mon … sun or 1 … 7)", it)
		}
		if n == 0 {
			n = 7
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
