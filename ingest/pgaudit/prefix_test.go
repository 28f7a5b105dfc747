package pgaudit

import (
	"testing"
	"time"
)

func TestCompilePrefixErrors(t *testing.T) {
	for _, spec := range []string{"%", "%t%", "%Z", "%-u", "%q%q", "%-x"} {
		if _, err := CompilePrefix(spec); err == nil {
			t.Errorf("CompilePrefix(%q) accepted", spec)
		}
	}
}

func TestPrefixMatch(t *testing.T) {
	type want struct {
		sev, msg, user, db, app, host, pid, sid, t string
	}
	tests := []struct {
		name, spec, line string
		ok               bool
		want             want
	}{
		{"rds", RDSPrefix, "2026-11-25 11:42:17 UTC:127.0.0.1(45884):app_orders@orders:[12519]:LOG:  AUDIT: SESSION,1", true,
			want{sev: "LOG", msg: "AUDIT: SESSION,1", user: "app_orders", db: "orders", host: "127.0.0.1(45884)", pid: "12519", t: "2026-11-25 11:42:17 UTC"}},
		{"rds quoted user with comma", RDSPrefix, `2026-11-25 11:42:17 UTC:127.0.0.1(45848):Weird, "Quoted" User@reporting:[12511]:LOG:  AUDIT: x`, true,
			want{sev: "LOG", msg: "AUDIT: x", user: `Weird, "Quoted" User`, db: "reporting", host: "127.0.0.1(45848)", pid: "12511", t: "2026-11-25 11:42:17 UTC"}},
		{"rds user with colon and at", RDSPrefix, `2026-11-25 11:42:17 UTC:10.0.0.1(5):a:b@c.com@db:[1]:ERROR:  boom: x`, true,
			want{sev: "ERROR", msg: "boom: x", user: "a:b@c.com", db: "db", host: "10.0.0.1(5)", pid: "1", t: "2026-11-25 11:42:17 UTC"}},
		{"rds user named like a severity", RDSPrefix, `2026-11-25 11:42:17 UTC:[local]:LOG:  x@db:[7]:LOG:  real`, true,
			want{sev: "LOG", msg: "real", user: "LOG:  x", db: "db", host: "[local]", pid: "7", t: "2026-11-25 11:42:17 UTC"}},
		{"rds background", RDSPrefix, "2026-11-25 11:42:22 UTC::@:[12455]:LOG:  checkpoint starting: immediate force wait", true,
			want{sev: "LOG", msg: "checkpoint starting: immediate force wait", pid: "12455", t: "2026-11-25 11:42:22 UTC"}},
		{"rds ipv6", RDSPrefix, "2026-11-25 11:42:22 UTC:::1(5432):u@d:[9]:LOG:  m", true,
			want{sev: "LOG", msg: "m", user: "u", db: "d", host: "::1(5432)", pid: "9", t: "2026-11-25 11:42:22 UTC"}},
		{"rds message has a severity", RDSPrefix, "2026-11-25 11:42:22 UTC:[local]:u@d:[9]:STATEMENT:  SELECT 'x:[1]:ERROR:  y'", true,
			want{sev: "STATEMENT", msg: "SELECT 'x:[1]:ERROR:  y'", user: "u", db: "d", host: "[local]", pid: "9", t: "2026-11-25 11:42:22 UTC"}},
		{"rds no match", RDSPrefix, "garbage: line", false, want{}},
		{"default", "%m [%p] ", "2026-11-25 11:42:14.489 UTC [12453] LOG:  starting", true,
			want{sev: "LOG", msg: "starting", pid: "12453", t: "2026-11-25 11:42:14.489 UTC"}},
		{"debian session", "%m [%p] %q%u@%d ", "2026-11-25 11:42:14.489 UTC [12] my user@my db FATAL:  no", true,
			want{sev: "FATAL", msg: "no", pid: "12", user: "my user", db: "my db", t: "2026-11-25 11:42:14.489 UTC"}},
		{"debian background stops at %q", "%m [%p] %q%u@%d ", "2026-11-25 11:42:14.489 UTC [12] LOG:  checkpoint", true,
			want{sev: "LOG", msg: "checkpoint", pid: "12", t: "2026-11-25 11:42:14.489 UTC"}},
		{"session id and app", "%m %c %a ", "2026-11-25 11:42:14.489 +03 6b06c999.30e7 orders, api WARNING:  w", true,
			want{sev: "WARNING", msg: "w", sid: "6b06c999.30e7", app: "orders, api", t: "2026-11-25 11:42:14.489 +03"}},
		{"padding", "%t [%-6p] %-10u ", "2026-11-25 11:42:17 UTC [42    ] bob        DETAIL:  d", true,
			want{sev: "DETAIL", msg: "d", pid: "42    ", user: "bob       ", t: "2026-11-25 11:42:17 UTC"}},
		{"epoch host", "%n %h ", "1795000000.123 db.example.com LOG:  x", true,
			want{sev: "LOG", msg: "x", host: "db.example.com", t: "1795000000.123"}},
		{"literal percent", "%% %l %x %v %e %t ", "% 3 0 3/1 00000 2026-11-25 11:42:17 UTC LOG:  x", true,
			want{sev: "LOG", msg: "x", t: "2026-11-25 11:42:17 UTC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompilePrefix(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			var m prefixMatch
			ok := p.match([]byte(tt.line), &m)
			if ok != tt.ok {
				t.Fatalf("match = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			get := func(k byte) string {
				sp := m.spans[k]
				if !p.Has(k) || sp.s < 0 {
					return ""
				}
				return tt.line[sp.s:sp.e]
			}
			host := get(fHostPort) + get(fHost)
			tm := get(fTime) + get(fTimeMs) + get(fEpoch)
			got := want{sev: m.sev, msg: tt.line[m.msgStart:], user: get(fUser), db: get(fDatabase), app: get(fApp), host: host, pid: get(fPID), sid: get(fSession), t: tm}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParsePGTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-25 11:42:17 UTC":      "2026-11-25T11:42:17Z",
		"2026-11-25 11:42:17.204 UTC":  "2026-11-25T11:42:17.204Z",
		"2026-11-25 14:42:17.204 +03":  "2026-11-25T11:42:17.204Z",
		"2026-11-25 06:12:17 -0530":    "2026-11-25T11:42:17Z",
		"2026-11-25 11:42:17 CET":      "2026-11-25T11:42:17Z",
		"2026-11-25T11:42:17.000123Z":  "2026-11-25T11:42:17.000123Z",
		"2026-11-25 11:42:17.5 +05:30": "2026-11-25T06:12:17.5Z",
		"2026-13-25 11:42:17 UTC":      "",
		"2026-11-25 11:42":             "",
		"2026-11-25 11:42:17.xyz UTC":  "",
	} {
		got, ok := parsePGTime([]byte(in))
		if want == "" {
			if ok {
				t.Errorf("parsePGTime(%q) accepted", in)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339Nano) != want {
			t.Errorf("parsePGTime(%q) = %v %v, want %s", in, got.Format(time.RFC3339Nano), ok, want)
		}
	}
}

func TestDetectPrefix(t *testing.T) {
	tests := map[string]string{
		"2026-11-25 11:42:17 UTC:[local]:postgres@postgres:[12478]:LOG:  AUDIT: x\n2026-11-25 11:42:17 UTC::@:[1]:LOG:  y\n": RDSPrefix,
		"2026-11-25 11:42:14.489 UTC [12453] LOG:  starting\n":                                                               "%m [%p] %q%u@%d ",
		"2026-11-25 11:42:14.489 UTC [12453] LOG:  starting\n2026-11-25 11:42:14.489 UTC [12] bob@db LOG:  AUDIT: x\n":       "%m [%p] %q%u@%d ",
		"2026-11-25 11:42:17 UTC [12]: [3-1] user=bob,db=d,app=psql,client=10.0.0.1 LOG:  x\n":                               "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
		"nothing matches\n": RDSPrefix,
	}
	for in, want := range tests {
		if got := DetectPrefix([]byte(in), false); got != want {
			t.Errorf("DetectPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzPrefixMatch(f *testing.F) {
	for _, l := range corpusLines(f, 200) {
		f.Add(RDSPrefix, l)
	}
	f.Add("%m [%p] %q%u@%d ", "2026-11-25 11:42:14.489 UTC [12] a@b LOG:  x")
	f.Add("%t [%-6p] %-10u %a%c%v%x%e%n%h%r%l%s%i%b%P%Q", "2026-11-25 11:42:17 UTC [42    ] bob        DETAIL:  d")
	f.Fuzz(func(t *testing.T, spec, line string) {
		p, err := CompilePrefix(spec)
		if err != nil {
			return
		}
		var m prefixMatch
		if !p.match([]byte(line), &m) {
			return
		}
		if m.msgStart > len(line) {
			t.Fatalf("message start %d beyond line", m.msgStart)
		}
		for k := range p.has {
			if p.has[k] && m.spans[k].s >= 0 && (m.spans[k].s > m.spans[k].e || m.spans[k].e > len(line)) {
				t.Fatalf("bad span %c %+v", k, m.spans[k])
			}
		}
	})
}
