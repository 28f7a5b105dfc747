package findings_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/findings"
	"github.com/auditlens/auditlens/store/model"
)

// wed is a Wednesday in winter (Europe/Paris is UTC+1).
var wed = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type caseFile struct {
	st   *store.Store
	objs int
	sess int
}

func newCase(t *testing.T) *caseFile {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "case.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &caseFile{st: st}
}

func (c *caseFile) write(t *testing.T, evs []model.Event, hbs ...model.Heartbeat) {
	t.Helper()
	c.objs++
	uri := fmt.Sprintf("/logs/obj-%d", c.objs)
	for i := range evs {
		if evs[i].ObjectRef == "" {
			evs[i].ObjectRef = fmt.Sprintf("%s:%d", uri, i+1)
		}
		if evs[i].Cluster == "" {
			evs[i].Cluster = "orders-prod"
		}
		if evs[i].Source == "" {
			evs[i].Source = model.SourcePgAudit
		}
		evs[i].Internal = model.IsInternalUser(evs[i].UserName)
	}
	for i := range hbs {
		hbs[i].ObjectRef = fmt.Sprintf("%s#hb%d", uri, i)
	}
	tx, err := c.st.BeginObject(context.Background(), store.ObjectMeta{Source: "test", URI: uri, Key: uri, ETag: "e", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: evs, Heartbeats: hbs}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit("sha"); err != nil {
		t.Fatal(err)
	}
}

// stmt is a statement record of a new session statement (SESSION audit type).
func (c *caseFile) stmt(at time.Time, user, class, cmd, text string) model.Event {
	c.sess++
	return model.Event{
		LogTime: at, SessionID: fmt.Sprintf("6b06c999.%x", c.sess), StatementID: model.Int64(1),
		SubstatementID: model.Int64(1), AuditType: "SESSION", Class: class, Command: cmd, Statement: text,
		DatabaseName: "orders", UserName: user, RemoteHost: "10.0.0.5",
	}
}

func run(t *testing.T, st *store.Store, opt findings.Options) []findings.Finding {
	t.Helper()
	fs, rerrs, err := findings.Run(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rerrs {
		t.Errorf("rule error: %v", e)
	}
	return fs
}

func only(id string, fs []findings.Finding) []findings.Finding {
	var out []findings.Finding
	for _, f := range fs {
		if f.RuleID == id {
			out = append(out, f)
		}
	}
	return out
}

func total(fs []findings.Finding) (count, records int64) {
	for _, f := range fs {
		count += f.Count
		records += f.Records
	}
	return count, records
}

func TestBuiltinRules(t *testing.T) {
	rules, err := findings.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
		if !strings.Contains(r.Description, "Why it matters") {
			t.Errorf("%s: description does not say why it matters", r.ID)
		}
	}
	want := []string{"auth-failure-burst", "bulk-read", "capture-silence", "destructive-ddl", "new-client", "off-hours-ddl", "privilege-change"}
	if !slices.Equal(ids, want) {
		t.Errorf("built-in rules %v, want %v", ids, want)
	}
	// An empty case file: every rule runs and finds nothing.
	c := newCase(t)
	if fs := run(t, c.st, findings.Options{}); len(fs) != 0 {
		t.Errorf("findings on an empty case: %+v", fs)
	}
}

func TestPrivilegeChangeCountsStatementsOnce(t *testing.T) {
	c := newCase(t)
	grant := c.stmt(wed, "app_orders", "ROLE", "GRANT", "GRANT SELECT ON sales.orders TO auditor;")
	obj := grant
	obj.AuditType, obj.ObjectType, obj.ObjectName = "OBJECT", "TABLE", "sales.orders"
	das := grant
	das.Source, das.AuditType, das.LogTime = model.SourceDAS, "", wed.Add(317*time.Microsecond)
	super := c.stmt(wed.Add(time.Minute), "app_orders", "ROLE", "ALTER ROLE", "ALTER ROLE app_orders SUPERUSER;")
	plain := c.stmt(wed.Add(2*time.Minute), "app_orders", "ROLE", "ALTER ROLE", "ALTER ROLE app_orders SET work_mem = '1GB';")
	other := c.stmt(wed.Add(3*time.Minute), "app_orders", "READ", "SELECT", "SELECT 1")
	rds := c.stmt(wed.Add(4*time.Minute), "rdsadmin", "ROLE", "GRANT", "GRANT rds_superuser TO rdsadmin")
	c.write(t, []model.Event{grant, obj, das, super, plain, other, rds})

	fs := only("privilege-change", run(t, c.st, findings.Options{}))
	if n, rec := total(fs); n != 3 || rec != 5 {
		t.Fatalf("privilege-change count %d records %d, want 3 statements, 5 records: %+v", n, rec, fs)
	}
	for _, f := range fs {
		switch {
		case strings.HasSuffix(f.Key, "GRANT"):
			if f.Count != 1 || f.Records != 3 || len(f.EventIDs) != 3 || f.Severity != findings.Medium {
				t.Errorf("grant finding %+v", f)
			}
			if !slices.Equal(f.Objects, []string{"sales.orders"}) || !slices.Equal(f.Users, []string{"app_orders"}) {
				t.Errorf("grant objects %v users %v", f.Objects, f.Users)
			}
		case f.Severity == findings.High:
			if !strings.Contains(f.Detail, "SUPERUSER") {
				t.Errorf("escalation detail %q", f.Detail)
			}
		}
	}
	if findings.Highest(fs) != findings.High {
		t.Errorf("ALTER ROLE … SUPERUSER not high: %+v", fs)
	}
	// rdsadmin's grant shows only when internal users are asked for.
	fs = only("privilege-change", run(t, c.st, findings.Options{IncludeInternal: true}))
	if n, _ := total(fs); n != 4 {
		t.Errorf("with internal users count %d, want 4", n)
	}
}

func TestDestructiveDDL(t *testing.T) {
	c := newCase(t)
	var evs []model.Event
	drop := c.stmt(wed, "postgres", "DDL", "DROP SCHEMA", "DROP SCHEMA scratch CASCADE;")
	for _, o := range []string{"scratch.t1", "scratch.v1", "scratch.s1"} {
		e := drop
		e.ObjectName = o
		evs = append(evs, e)
	}
	evs = append(evs,
		c.stmt(wed.Add(time.Second), "etl", "WRITE", "TRUNCATE TABLE", "TRUNCATE stock_staging"),
		c.stmt(wed.Add(2*time.Second), "etl", "DDL", "DROP TABLE", "DROP TABLE t"),
		c.stmt(wed.Add(3*time.Second), "etl", "DDL", "DROP DATABASE", "DROP DATABASE old"),
		c.stmt(wed.Add(4*time.Second), "etl", "DDL", "DROP INDEX", "DROP INDEX i"),
		c.stmt(wed.Add(5*time.Second), "etl", "WRITE", "DELETE", "DELETE FROM t"),
	)
	c.write(t, evs)
	fs := only("destructive-ddl", run(t, c.st, findings.Options{}))
	if n, rec := total(fs); n != 4 || rec != 6 {
		t.Fatalf("destructive-ddl count %d records %d, want 4 statements, 6 records: %+v", n, rec, fs)
	}
	for _, f := range fs {
		if f.Severity != findings.High {
			t.Errorf("%s severity %s", f.Key, f.Severity)
		}
		if strings.HasSuffix(f.Key, "DROP SCHEMA") && !slices.Equal(f.Objects, []string{"scratch.s1", "scratch.t1", "scratch.v1"}) {
			t.Errorf("drop schema objects %v", f.Objects)
		}
	}
	// --since after everything: nothing.
	if fs := only("destructive-ddl", run(t, c.st, findings.Options{Since: wed.Add(time.Hour)})); len(fs) != 0 {
		t.Errorf("since filter ignored: %+v", fs)
	}
	// Until before the TRUNCATE: only the DROP SCHEMA.
	fs = only("destructive-ddl", run(t, c.st, findings.Options{Until: wed.Add(time.Second)}))
	if len(fs) != 1 || fs[0].Count != 1 || !strings.HasSuffix(fs[0].Key, "DROP SCHEMA") {
		t.Errorf("until filter: %+v", fs)
	}
}

// login returns the rows of one login attempt as pgAudit logs them: a failed
// one is a FATAL (CONNECT with error_message); a successful one is
// "connection authorized".
func (c *caseFile) login(at time.Time, user, host, errMsg string) model.Event {
	c.sess++
	return model.Event{
		LogTime: at, SessionID: fmt.Sprintf("6b06c99e.%x", c.sess), Class: model.ClassConnect, Command: "CONNECT",
		DatabaseName: "orders", UserName: user, RemoteHost: host, ErrorMessage: errMsg,
	}
}

func TestAuthFailureBurst(t *testing.T) {
	c := newCase(t)
	pw := func(u string) string { return fmt.Sprintf("password authentication failed for user %q", u) }
	var evs []model.Event
	// bob from 10.0.0.9: 5 failures in 40 s, each also in DAS; then a
	// successful login as alice from the same host 2 minutes later.
	for i := range 5 {
		e := c.login(wed.Add(time.Duration(i)*10*time.Second), "bob", "10.0.0.9", pw("bob"))
		d := e
		d.Source, d.LogTime, d.StatementID, d.SubstatementID = model.SourceDAS, e.LogTime.Add(400*time.Microsecond), model.Int64(1), model.Int64(1)
		evs = append(evs, e, d)
	}
	// A session that was authorized and then failed is not a success.
	auth := c.login(wed.Add(60*time.Second), "carol", "10.0.0.9", "")
	fatal := auth
	fatal.ErrorMessage = `database "nope" does not exist`
	evs = append(evs, auth, fatal)
	evs = append(evs, c.login(wed.Add(160*time.Second), "alice", "10.0.0.9", ""))
	// eve from 10.0.0.10: 4 failures only (under the threshold), and 5 more
	// spread out more than the window apart.
	for i := range 4 {
		evs = append(evs, c.login(wed.Add(time.Duration(i)*time.Second), "eve", "10.0.0.10", pw("eve")))
	}
	for i := range 5 {
		evs = append(evs, c.login(wed.Add(time.Hour+time.Duration(i)*6*time.Minute), "eve", "10.0.0.10", pw("eve")))
	}
	// Not authentication failures.
	for i := range 6 {
		evs = append(evs, c.login(wed.Add(time.Duration(i)*time.Second), "ghost", "10.0.0.11", `role "ghost" does not exist`))
	}
	// mallory: a burst with no success after it (the success comes too late).
	for i := range 6 {
		evs = append(evs, c.login(wed.Add(2*time.Hour+time.Duration(i)*time.Second), "mallory", "10.0.0.12", pw("mallory")))
	}
	evs = append(evs, c.login(wed.Add(3*time.Hour), "mallory", "10.0.0.12", ""))
	c.write(t, evs)

	fs := only("auth-failure-burst", run(t, c.st, findings.Options{}))
	if len(fs) != 2 {
		t.Fatalf("auth-failure-burst: %d findings, want 2: %+v", len(fs), fs)
	}
	bob, mal := fs[0], fs[1] // high first
	if bob.Severity != findings.High || bob.Count != 5 || bob.Records != 10 || !slices.Equal(bob.Users, []string{"alice", "bob"}) ||
		!slices.Equal(bob.Hosts, []string{"10.0.0.9"}) || !strings.Contains(bob.Detail, "successful login") ||
		!bob.Last.Equal(wed.Add(160*time.Second)) || len(bob.EventIDs) != 11 {
		t.Errorf("bob's burst %+v", bob)
	}
	if mal.Severity != findings.Medium || mal.Count != 6 || !slices.Equal(mal.Users, []string{"mallory"}) {
		t.Errorf("mallory's burst %+v", mal)
	}
	// A lower threshold and a longer window find eve's bursts.
	fs = only("auth-failure-burst", run(t, c.st, findings.Options{Params: map[string]any{"auth_failures": 4, "auth_window": "10m"}}))
	var eve int
	for _, f := range fs {
		if slices.Equal(f.Users, []string{"eve"}) {
			eve++
			if f.Count != 4 && f.Count != 5 {
				t.Errorf("eve burst %+v", f)
			}
		}
	}
	if eve != 2 {
		t.Errorf("eve bursts %d, want 2: %+v", eve, fs)
	}
}

func TestOffHoursDDLInTimeZone(t *testing.T) {
	paris := findings.Settings{WorkingHours: "08:00-19:00", TimeZone: "Europe/Paris"}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		name     string
		at       string
		settings findings.Settings
		off      bool
	}{
		{"one second before 08:00 in Paris (winter)", "2026-11-25T06:59:59Z", paris, true},
		{"08:00 in Paris is working time", "2026-11-25T07:00:00Z", paris, false},
		{"18:59:59 in Paris", "2026-11-25T17:59:59Z", paris, false},
		{"19:00 in Paris is off", "2026-11-25T18:00:00Z", paris, true},
		{"08:00 UTC would be in hours in UTC, but 09:00 Paris is too", "2026-11-25T08:00:00Z", paris, false},
		{"summer time: 08:00 CEST", "2026-07-01T06:00:00Z", paris, false},
		{"summer time: 07:59:59 CEST", "2026-07-01T05:59:59Z", paris, true},
		{"Saturday at noon", "2026-11-28T11:00:00Z", paris, true},
		{"Saturday counts when listed", "2026-11-28T11:00:00Z", findings.Settings{WorkingHours: "08:00-19:00", TimeZone: "Europe/Paris", WorkingDays: []string{"mon", "sat"}}, false},
		{"midnight in Paris is Thursday, a working day, but off hours", "2026-11-25T23:30:00Z", paris, true},
		{"night shift 22:00-06:00: 23:00 is working", "2026-11-25T22:00:00Z", findings.Settings{WorkingHours: "22:00-06:00", TimeZone: "Europe/Paris"}, false},
		{"night shift 22:00-06:00: 12:00 is off", "2026-11-25T11:00:00Z", findings.Settings{WorkingHours: "22:00-06:00", TimeZone: "Europe/Paris"}, true},
		{"default (08:00-19:00 UTC): 07:30 UTC is off", "2026-11-25T07:30:00Z", findings.Settings{}, true},
		{"New York: 12:00 UTC is 07:00 there", "2026-11-25T12:00:00Z", findings.Settings{TimeZone: "America/New_York"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCase(t)
			ddl := c.stmt(at(tc.at), "dba", "DDL", "CREATE TABLE", "CREATE TABLE t (a int)")
			obj := ddl
			obj.AuditType = "OBJECT"
			c.write(t, []model.Event{ddl, obj, c.stmt(at(tc.at), "dba", "READ", "SELECT", "SELECT 1")})
			fs := only("off-hours-ddl", run(t, c.st, findings.Options{Settings: tc.settings, Only: []string{"off-hours-ddl"}}))
			if got := len(fs) == 1; got != tc.off {
				t.Fatalf("off hours = %v, want %v: %+v", got, tc.off, fs)
			}
			if tc.off && (fs[0].Count != 1 || fs[0].Records != 2) {
				t.Errorf("count %d records %d, want 1 statement, 2 records", fs[0].Count, fs[0].Records)
			}
		})
	}
}

func TestBulkRead(t *testing.T) {
	c := newCase(t)
	sel := c.stmt(wed, "analyst", "READ", "SELECT", "SELECT email FROM sales.customers WHERE id = $1")
	obj := sel
	obj.AuditType, obj.ObjectType, obj.ObjectName = "OBJECT", "TABLE", "sales.customers"
	// Named only in the text (no OBJECT record), and read in bulk.
	dump := c.stmt(wed.Add(time.Minute), "analyst", "READ", "SELECT", "select * from Sales.Customers c")
	dump.RowCount = model.Int64(250000)
	// A different table whose name contains the sensitive one.
	archive := c.stmt(wed.Add(2*time.Minute), "analyst", "READ", "SELECT", "SELECT * FROM customers_archive")
	// A bulk read of an ordinary table.
	big := c.stmt(wed.Add(3*time.Minute), "etl", "READ", "SELECT", "SELECT * FROM stock")
	big.RowCount = model.Int64(20000)
	small := c.stmt(wed.Add(4*time.Minute), "etl", "READ", "SELECT", "SELECT * FROM stock LIMIT 10")
	small.RowCount = model.Int64(10)
	c.write(t, []model.Event{sel, obj, dump, archive, big, small})

	// No sensitive objects configured: only the bulk reads.
	fs := only("bulk-read", run(t, c.st, findings.Options{}))
	if n, _ := total(fs); n != 2 || len(fs) != 2 {
		t.Fatalf("bulk reads without sensitive objects: %+v", fs)
	}
	fs = only("bulk-read", run(t, c.st, findings.Options{Settings: findings.Settings{SensitiveObjects: []string{"customers"}}}))
	byKey := map[string]findings.Finding{}
	for _, f := range fs {
		byKey[f.Key] = f
	}
	cust, ok := byKey["orders-prod analyst customers"]
	if !ok || cust.Count != 2 || cust.Records != 3 || cust.Severity != findings.High || !slices.Equal(cust.Objects, []string{"customers"}) {
		t.Errorf("sensitive reads %+v (all: %+v)", cust, fs)
	}
	if f, ok := byKey["orders-prod etl rows >= 10000"]; !ok || f.Count != 1 || f.Severity != findings.Medium {
		t.Errorf("bulk read of stock %+v (all: %+v)", f, fs)
	}
	if len(fs) != 2 {
		t.Errorf("customers_archive must not match customers: %+v", fs)
	}
	// bulk_rows 0 turns row counts off; a schema-qualified name matches too.
	zero := int64(0)
	fs = only("bulk-read", run(t, c.st, findings.Options{Settings: findings.Settings{SensitiveObjects: []string{"Sales.Customers"}, BulkRows: &zero}}))
	if len(fs) != 1 || fs[0].Count != 2 || fs[0].Severity != findings.Medium {
		t.Errorf("schema-qualified sensitive object, bulk off: %+v", fs)
	}
}

func TestNewClient(t *testing.T) {
	c := newCase(t)
	day := 24 * time.Hour
	var evs []model.Event
	// Ten days; the baseline is the first two (20 %).
	for d := range 10 {
		e := c.stmt(wed.Add(time.Duration(d)*day), "alice", "READ", "SELECT", "SELECT 1")
		e.ApplicationName = "orders-api"
		evs = append(evs, e)
	}
	fromB := c.stmt(wed.Add(8*day), "alice", "READ", "SELECT", "SELECT * FROM secrets")
	fromB.RemoteHost, fromB.ApplicationName = "203.0.113.7", "orders-api"
	psql := c.stmt(wed.Add(9*day), "alice", "READ", "SELECT", "SELECT 2")
	psql.ApplicationName = "psql"
	carol := c.stmt(wed.Add(5*day), "carol", "READ", "SELECT", "SELECT 3")
	// bob is in the baseline from two hosts.
	b1 := c.stmt(wed, "bob", "READ", "SELECT", "SELECT 1")
	b2 := c.stmt(wed.Add(day), "bob", "READ", "SELECT", "SELECT 1")
	b2.RemoteHost = "10.0.0.6"
	b3 := c.stmt(wed.Add(7*day), "bob", "READ", "SELECT", "SELECT 1")
	b3.RemoteHost = "10.0.0.6"
	evs = append(evs, fromB, psql, carol, b1, b2, b3)
	c.write(t, evs)

	fs := only("new-client", run(t, c.st, findings.Options{}))
	got := map[string]findings.Severity{}
	for _, f := range fs {
		got[f.Key] = f.Severity
		if f.Key == "orders-prod alice new host 203.0.113.7" && (f.Count != 1 || !f.First.Equal(wed.Add(8*day)) || len(f.EventIDs) != 1) {
			t.Errorf("new host finding %+v", f)
		}
	}
	want := map[string]findings.Severity{
		"orders-prod alice new host 203.0.113.7": findings.Medium,
		"orders-prod alice new application psql": findings.Low,
		"orders-prod new user carol":             findings.Low,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("new-client findings %v, want %v", got, want)
	}
	// A baseline of 90 % leaves only psql (day 9) new.
	fs = only("new-client", run(t, c.st, findings.Options{Params: map[string]any{"baseline_percent": 90}}))
	if len(fs) != 1 || fs[0].Key != "orders-prod alice new application psql" {
		t.Errorf("baseline 90%%: %+v", fs)
	}
}

func TestCaptureSilence(t *testing.T) {
	c := newCase(t)
	ctx := context.Background()
	if err := c.st.UpsertSource(ctx, store.SourceRow{Name: "orders-das", Kind: "das", URL: "s3://b/", Cluster: "orders-prod", Mode: "sync"}); err != nil {
		t.Fatal(err)
	}
	var hbs []model.Heartbeat
	var evs []model.Event
	// Heartbeats every 10 s for 10 minutes, except between 3:00 and 5:30.
	for s := 0; s <= 600; s += 10 {
		if s > 180 && s < 330 {
			continue
		}
		hbs = append(hbs, model.Heartbeat{Cluster: "orders-prod", Instance: "db-1", LogTime: wed.Add(time.Duration(s) * time.Second)})
	}
	// pgAudit keeps logging during the silence, and after DAS's last sign.
	for s := 200; s <= 300; s += 50 {
		evs = append(evs, c.stmt(wed.Add(time.Duration(s)*time.Second), "app", "WRITE", "INSERT", "INSERT …"))
	}
	evs = append(evs, c.stmt(wed.Add(700*time.Second), "app", "WRITE", "INSERT", "INSERT …"))
	// Another cluster with pgAudit only: never a silence.
	other := c.stmt(wed, "app", "READ", "SELECT", "SELECT 1")
	other.Cluster = "billing-prod"
	other2 := c.stmt(wed.Add(time.Hour), "app", "READ", "SELECT", "SELECT 1")
	other2.Cluster = "billing-prod"
	evs = append(evs, other, other2)
	c.write(t, evs, hbs...)

	fs := only("capture-silence", run(t, c.st, findings.Options{}))
	if len(fs) != 2 {
		t.Fatalf("silences: %+v", fs)
	}
	s := fs[0]
	if !s.First.Equal(wed.Add(180*time.Second)) || !s.Last.Equal(wed.Add(330*time.Second)) || s.Records != 3 || len(s.EventIDs) != 3 ||
		s.Severity != findings.High || !slices.Equal(s.Users, []string{"app"}) {
		t.Errorf("silence %+v", s)
	}
	if tail := fs[1]; !tail.First.Equal(wed.Add(600*time.Second)) || !tail.Last.Equal(wed.Add(700*time.Second)) {
		t.Errorf("silence up to pgAudit's last record %+v", tail)
	}
	// Nine intervals are tolerated.
	if fs := only("capture-silence", run(t, c.st, findings.Options{Params: map[string]any{"silence_intervals": 16}})); len(fs) != 0 {
		t.Errorf("silence_intervals 16: %+v", fs)
	}
}

const userRules = `
settings:
  time_zone: Europe/Paris
rules:
  - id: broken
    title: A rule with a typo
    severity: low
    description: Why it matters - it does not.
    sql: SELEC 1
  - id: wrong-shape
    title: Missing columns
    severity: low
    description: Why it matters - it does not.
    sql: SELECT 'x' AS group_key
  - id: writer
    title: Tries to write
    severity: low
    description: Why it matters - it does not.
    sql: DELETE FROM events
  - id: sneaky
    title: Two statements
    severity: low
    description: Why it matters - it does not.
    sql: SELECT 1; DELETE FROM events
  - id: typo-param
    title: Unknown parameter
    severity: low
    description: Why it matters - it does not.
    sql: SELECT 'x' AS group_key, 1 AS count, now() AS first_time, now() AS last_time, [] AS event_ids WHERE $nope
  - id: destructive-ddl
    title: Any DROP, my way
    severity: critical
    description: Why it matters - overridden by the user.
    params:
      verb: {type: string, default: "DROP %"}
    sql: |
      SELECT command AS group_key, count(*) AS count, min(log_time) AS first_time, max(log_time) AS last_time,
             list(event_id ORDER BY event_id) AS event_ids, 'by ' || string_agg(DISTINCT user_name, ',') AS detail
      FROM audit_events WHERE command LIKE $verb AND log_time >= $since GROUP BY command
  - id: new-client
    disabled: true
`

func TestUserRules(t *testing.T) {
	c := newCase(t)
	c.write(t, []model.Event{
		c.stmt(wed, "dba", "DDL", "DROP INDEX", "DROP INDEX i"),
		c.stmt(wed, "dba", "ROLE", "GRANT", "GRANT SELECT ON t TO x"),
	})
	f, err := findings.Parse("my-rules.yaml", []byte(userRules))
	if err != nil {
		t.Fatal(err)
	}
	if f.Settings.TimeZone != "Europe/Paris" {
		t.Errorf("settings %+v", f.Settings)
	}
	builtin, err := findings.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rules := findings.Merge(builtin, f.Rules)
	if slices.ContainsFunc(rules, func(r findings.Rule) bool { return r.ID == "new-client" }) {
		t.Error("disabled rule still in the set")
	}
	fs, rerrs, err := findings.Run(context.Background(), c.st, findings.Options{Rules: rules, Settings: f.Settings})
	if err != nil {
		t.Fatal(err)
	}
	gotErr := map[string]error{}
	for _, e := range rerrs {
		gotErr[e.RuleID] = e.Err
		if e.Origin != "my-rules.yaml" {
			t.Errorf("%s origin %q", e.RuleID, e.Origin)
		}
	}
	for id, want := range map[string]string{
		"broken":      "syntax error",
		"wrong-shape": "no count column",
		"writer":      "only a SELECT",
		"sneaky":      "",
		"typo-param":  "$nope",
	} {
		err, ok := gotErr[id]
		if !ok {
			t.Errorf("rule %s: no error reported", id)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("rule %s: error %q does not mention %q", id, err, want)
		}
	}
	if !errors.Is(gotErr["writer"], store.ErrWriteRefused) || !errors.Is(gotErr["typo-param"], store.ErrUnknownParameter) {
		t.Errorf("error kinds: writer %v, typo-param %v", gotErr["writer"], gotErr["typo-param"])
	}
	if len(rerrs) != 5 {
		t.Errorf("%d rule errors, want 5: %v", len(rerrs), rerrs)
	}
	// The other rules ran: the user's destructive-ddl and the built-in privilege-change.
	dd := only("destructive-ddl", fs)
	if len(dd) != 1 || dd[0].Severity != findings.Critical || dd[0].Key != "DROP INDEX" || dd[0].Detail != "by dba" || dd[0].Title != "Any DROP, my way" {
		t.Errorf("user's destructive-ddl %+v", dd)
	}
	if len(only("privilege-change", fs)) != 1 {
		t.Errorf("built-in privilege-change did not run: %+v", fs)
	}
	// The events view lists the finding's events with its filter.
	n, err := c.st.Count(context.Background(), dd[0].Filter())
	if err != nil || n != 1 {
		t.Errorf("filter of the finding counts %d events (%v), want 1", n, err)
	}
}

func TestOptionsErrors(t *testing.T) {
	c := newCase(t)
	ctx := context.Background()
	for name, opt := range map[string]findings.Options{
		"unknown rule":      {Only: []string{"nope"}},
		"unknown parameter": {Params: map[string]any{"auth_failure": 3}},
		"engine parameter":  {Params: map[string]any{"since": "x"}},
		"bad working hours": {Settings: findings.Settings{WorkingHours: "8-19"}},
		"bad time zone":     {Settings: findings.Settings{TimeZone: "Mars/Olympus"}},
		"bad weekday":       {Settings: findings.Settings{WorkingDays: []string{"funday"}}},
	} {
		if _, _, err := findings.Run(ctx, c.st, opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A parameter of the wrong type is that rule's error only.
	_, rerrs, err := findings.Run(ctx, c.st, findings.Options{Params: map[string]any{"auth_failures": "many"}})
	if err != nil || len(rerrs) != 1 || rerrs[0].RuleID != "auth-failure-burst" {
		t.Errorf("bad parameter value: err %v, rule errors %v", err, rerrs)
	}
	for name, doc := range map[string]string{
		"bad severity":  "rules: [{id: x, title: t, severity: urgent, description: d, sql: SELECT 1}]",
		"bad id":        "rules: [{id: 'X Y', title: t, severity: low, description: d, sql: SELECT 1}]",
		"no sql":        "rules: [{id: x, title: t, severity: low, description: d}]",
		"unknown field": "rules: [{id: x, title: t, severity: low, description: d, sql: SELECT 1, serverity: high}]",
		"bad default":   "rules: [{id: x, title: t, severity: low, description: d, sql: SELECT 1, params: {n: {type: int, default: lots}}}]",
		"reserved":      "rules: [{id: x, title: t, severity: low, description: d, sql: SELECT 1, params: {since: {type: int, default: 1}}}]",
		"twice":         "rules: [{id: x, disabled: true}, {id: x, disabled: true}]",
	} {
		if _, err := findings.Parse("r.yaml", []byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestReadOnlyCaseFile(t *testing.T) {
	c := newCase(t)
	c.write(t, []model.Event{c.stmt(wed, "dba", "DDL", "DROP TABLE", "DROP TABLE t")})
	path := c.st.Path()
	if err := c.st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs := run(t, st, findings.Options{})
	if len(only("destructive-ddl", fs)) != 1 {
		t.Errorf("findings on a read-only case file: %+v", fs)
	}
	// A rule cannot reach outside the case file.
	rules := []findings.Rule{{ID: "peek", Title: "t", Severity: findings.Low, Description: "d", SQL: "SELECT * FROM read_text('/etc/hostname')"}}
	_, rerrs, err := findings.Run(context.Background(), st, findings.Options{Rules: rules})
	if err != nil || len(rerrs) != 1 {
		t.Errorf("reading a file from a rule: err %v, rule errors %v", err, rerrs)
	}
}
