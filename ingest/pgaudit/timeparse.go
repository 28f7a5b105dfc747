package pgaudit

import (
	"time"
)

// parsePGTime parses PostgreSQL's log timestamp "YYYY-MM-DD HH:MM:SS[.fff…] ZONE"
// (%t, %m, %s, csvlog log_time, jsonlog timestamp) into UTC. ZONE is UTC/GMT or a
// numeric offset (+03, -0530); any other abbreviation is read as UTC because
// abbreviations are ambiguous (IST, CST) and Amazon RDS always logs in UTC.
func parsePGTime(b []byte) (time.Time, bool) {
	if len(b) < 19 {
		return time.Time{}, false
	}
	year, ok1 := atoiN(b[0:4])
	mon, ok2 := atoiN(b[5:7])
	day, ok3 := atoiN(b[8:10])
	hh, ok4 := atoiN(b[11:13])
	mm, ok5 := atoiN(b[14:16])
	ss, ok6 := atoiN(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') ||
		b[13] != ':' || b[16] != ':' || mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 24 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		n := digits(rest[1:])
		if n == 0 {
			return time.Time{}, false
		}
		frac := rest[1 : 1+n]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		v, _ := atoiN(frac)
		for i := len(frac); i < 9; i++ {
			v *= 10
		}
		nsec = v
		rest = rest[1+n:]
	}
	off := 0
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	if len(rest) > 0 && (rest[0] == '+' || rest[0] == '-') {
		sign := 1
		if rest[0] == '-' {
			sign = -1
		}
		z := rest[1:]
		h, m := 0, 0
		switch {
		case len(z) >= 5 && z[2] == ':':
			h, _ = atoiN(z[0:2])
			m, _ = atoiN(z[3:5])
		case len(z) >= 4 && digits(z) >= 4:
			h, _ = atoiN(z[0:2])
			m, _ = atoiN(z[2:4])
		case len(z) >= 2:
			h, _ = atoiN(z[0:2])
		case len(z) == 1:
			h, _ = atoiN(z[0:1])
		}
		off = sign * (h*3600 + m*60)
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, ss, nsec, time.UTC)
	if off != 0 {
		t = t.Add(-time.Duration(off) * time.Second)
	}
	return t, true
}

// parseEpoch parses %n: seconds since the epoch with optional fraction.
func parseEpoch(b []byte) (time.Time, bool) {
	n := digits(b)
	if n == 0 || n > 12 {
		return time.Time{}, false
	}
	sec, _ := atoiN(b[:n])
	nsec := 0
	if n < len(b) && b[n] == '.' {
		frac := b[n+1:]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		v, ok := atoiN(frac)
		if !ok {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			v *= 10
		}
		nsec = v
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}

// scanISO returns the length of a leading ISO-8601 timestamp as CloudWatch
// Logs exports write it ("2026-11-25T11:42:17.204Z", or with an offset), and
// the time.
func scanISO(b []byte) (int, time.Time, bool) {
	if len(b) < 20 || b[10] != 'T' {
		return 0, time.Time{}, false
	}
	n := 19
	if b[n] == '.' {
		n += 1 + digits(b[n+1:])
	}
	switch {
	case n < len(b) && b[n] == 'Z':
		n++
	case n+6 <= len(b) && (b[n] == '+' || b[n] == '-') && b[n+3] == ':':
		n += 6
	default:
		return 0, time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b[:n]))
	if err != nil {
		return 0, time.Time{}, false
	}
	return n, t.UTC(), true
}

// atoiN parses an unsigned decimal of at most 18 digits.
func atoiN(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
