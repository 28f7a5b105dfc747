package das

import "time"

// parseTimestamp reads the timestamps DAS writes: PostgreSQL's text form
// "2026-11-25 11:36:16.840719+00" (trailing zeros of the fraction dropped, so
// "…16.8407+00" and "…16+00" occur), and RFC 3339. A missing zone means UTC.
// It is hand-written because it runs for every event and time.Parse with
// several layouts costs more than the rest of the event decode.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		start := i
		scale := 100000000
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if scale > 0 {
				nsec += int(s[i]-'0') * scale
				scale /= 10
			}
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}
	offset := 0
	switch {
	case i == len(s):
	case s[i] == 'Z' || s[i] == 'z':
		i++
	case s[i] == '+' || s[i] == '-':
		sign := 1
		if s[i] == '-' {
			sign = -1
		}
		i++
		// ±HH, ±HHMM, ±HH:MM, ±HH:MM:SS
		var parts [3]int
		n := 0
		for n < 3 && i+2 <= len(s) {
			v, ok := digits(s[i : i+2])
			if !ok {
				return time.Time{}, false
			}
			parts[n] = v
			n++
			i += 2
			if i < len(s) && s[i] == ':' {
				i++
			}
		}
		if n == 0 || parts[0] > 23 || parts[1] > 59 || parts[2] > 59 {
			return time.Time{}, false
		}
		offset = sign * (parts[0]*3600 + parts[1]*60 + parts[2])
	default:
		return time.Time{}, false
	}
	if i != len(s) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
