// Package datepath reads the Firehose date layout YYYY/MM/DD/HH/ at the start
// of an object key, so that the local and S3 sources narrow a listing to a time
// range in the same way. It imports only the standard library.
package datepath

import (
	"strconv"
	"strings"
	"time"
)

// Levels is the number of date segments: year, month, day, hour.
const Levels = 4

// Range is a half-open time range [Since, Until); a zero bound is open.
type Range struct {
	Since, Until time.Time
}

// Set reports whether the range narrows anything.
func (r Range) Set() bool { return !r.Since.IsZero() || !r.Until.IsZero() }

// Overlaps reports whether [start, end) meets the range.
func (r Range) Overlaps(start, end time.Time) bool {
	if !r.Since.IsZero() && !end.After(r.Since) {
		return false
	}
	if !r.Until.IsZero() && !start.Before(r.Until) {
		return false
	}
	return true
}

// Contains reports whether [start, end) lies wholly inside the range.
func (r Range) Contains(start, end time.Time) bool {
	if !r.Since.IsZero() && start.Before(r.Since) {
		return false
	}
	if !r.Until.IsZero() && end.After(r.Until) {
		return false
	}
	return true
}

// Segment reports whether seg is a valid date segment at level (0 year, 1
// month, 2 day, 3 hour) given the segments above it. Years are 1900..2999 so
// that a folder named "0001" or "9999" is not taken for a date.
func Segment(level int, above []string, seg string) bool {
	want := 2
	if level == 0 {
		want = 4
	}
	if len(seg) != want {
		return false
	}
	n, err := strconv.Atoi(seg)
	if err != nil || seg[0] == '+' || seg[0] == '-' {
		return false
	}
	switch level {
	case 0:
		return n >= 1900 && n <= 2999
	case 1:
		return n >= 1 && n <= 12
	case 2:
		if n < 1 || len(above) < 2 {
			return false
		}
		y, _ := strconv.Atoi(above[0])
		m, _ := strconv.Atoi(above[1])
		return n <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	case 3:
		return n >= 0 && n <= 23
	}
	return false
}

// Span returns the time span of a date directory given by its segments
// (["2024"], ["2024","05"], … ["2024","05","01","13"]). ok is false when the
// segments are not a date directory.
func Span(segs []string) (start, end time.Time, ok bool) {
	if len(segs) == 0 || len(segs) > Levels {
		return time.Time{}, time.Time{}, false
	}
	v := [Levels]int{0, 1, 1, 0}
	for i, s := range segs {
		if !Segment(i, segs[:i], s) {
			return time.Time{}, time.Time{}, false
		}
		v[i], _ = strconv.Atoi(s)
	}
	start = time.Date(v[0], time.Month(v[1]), v[2], v[3], 0, 0, 0, time.UTC)
	switch len(segs) {
	case 1:
		end = start.AddDate(1, 0, 0)
	case 2:
		end = start.AddDate(0, 1, 0)
	case 3:
		end = start.AddDate(0, 0, 1)
	default:
		end = start.Add(time.Hour)
	}
	return start, end, true
}

// Prefix returns the leading date segments of key's directory part (at most
// Levels); none when the key does not start with a year directory.
func Prefix(key string) []string {
	parts := strings.Split(key, "/")
	parts = parts[:len(parts)-1] // the last part is the file name
	var segs []string
	for i, p := range parts {
		if i == Levels || !Segment(i, segs, p) {
			break
		}
		segs = append(segs, p)
	}
	return segs
}

// KeyIn reports whether a key belongs to the range under the date layout: it
// must start with a date directory whose span overlaps r.
func KeyIn(key string, r Range) bool {
	start, end, ok := Span(Prefix(key))
	return ok && r.Overlaps(start, end)
}

// UTC returns r with both bounds in UTC.
func (r Range) UTC() Range {
	if !r.Since.IsZero() {
		r.Since = r.Since.UTC()
	}
	if !r.Until.IsZero() {
		r.Until = r.Until.UTC()
	}
	return r
}
