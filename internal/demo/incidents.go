package demo

import (
	"fmt"
	"time"
)

// The story, at fixed times (day 0 is Options.Start's day):
//
//   - day 0–1, office hours: ops_admin does routine work from the bastion
//     10.20.5.11 (the baseline of who ops_admin is and where from).
//   - day 1, 14:00–14:45: the month-end invoice run loads billing-prod; its
//     DAS stream, in async mode, drops whole outer records in three windows.
//     Under that noise j.miller pages through billing.cards, 50,000 rows at a
//     time, and some of the pages fall into the windows: DAS lost them,
//     pgAudit has them.
//   - day 2, 01:47–01:52: 38 failed password logins for ops_admin on
//     orders-prod from 185.220.101.34, then a success from there; in that
//     session ops_admin grants itself rds_superuser, makes itself SUPERUSER,
//     creates a login role and lets it read every sales table, and reads the
//     customer list.
//   - day 2, 02:14: ops_admin, from the same host, drops sales.order_audit_trail.
//     From then on orders-api's status changes fail on the missing table.
//   - every night, etl_loader creates and drops a staging table on
//     inventory-prod: the DROP TABLE an investigator must tell apart.

// fixed adds a session of actor a at t, filled by script.
func (g *gen) fixed(c *cluster, a actor, t time.Time, script func(b *builder)) *session {
	s := g.newSession(c, a, t)
	b := &builder{g: g, s: s, t: s.authAt.Add(jitter(g.rng, 2, 40)), end: hourEnd(s.start)}
	script(b)
	g.closeSession(s)
	c.sessions = append(c.sessions, s)
	return s
}

// incident notes an incident whose session id is known once pids are assigned.
func (g *gen) incident(s *session, in Incident) {
	in.Cluster = s.c.name
	if in.User == "" {
		in.User = s.user
	}
	if in.Host == "" {
		in.Host = s.host
	}
	if in.At.IsZero() {
		in.At = s.start
	}
	g.incidents = append(g.incidents, in)
	g.incidentSessions = append(g.incidentSessions, s)
}

// at sets the builder's clock, for statements the story times exactly.
func (b *builder) at(t time.Time) { b.t = t.Truncate(time.Microsecond) }

// execSame logs statement records that share one substatement id, as
// pgAudit's sql_drop trigger does for every object a DROP removes.
func (b *builder) execSame(subs ...sub) {
	if !b.room() {
		return
	}
	b.id++
	b.g.clusterXID(b.s)
	for _, x := range subs {
		b.t = b.t.Add(jitter(b.r(), 0, 1)).Truncate(time.Microsecond)
		b.s.stmts = append(b.s.stmts, stmt{at: b.t, started: b.t.Add(-time.Millisecond), auditType: "SESSION", id: b.id, sub: 1,
			class: x.class, command: x.command, objType: x.objType, objName: x.objName, text: x.text, params: x.params, xid: b.s.c.nextXID})
	}
	b.wait(2*time.Millisecond, 50*time.Millisecond)
}

func (g *gen) incidentsOrders(c *cluster) {
	ops := actor{user: opsAdmin, app: "psql", db: "orders", hosts: []string{bastion}}
	for _, t := range []time.Time{g.at(0, 10, 12, 5), g.at(0, 15, 40, 31), g.at(1, 9, 55, 2), g.at(1, 16, 3, 44)} {
		g.fixed(c, ops, t, opsRoutine)
	}

	// The brute force: each attempt is a backend that dies in authentication.
	evil := actor{user: opsAdmin, db: "orders", hosts: []string{attacker}}
	t := g.at(2, 1, 47, 3)
	var first *session
	for i := range 38 {
		s := g.newSession(c, evil, t)
		s.authFail = fmt.Sprintf("password authentication failed for user %q", opsAdmin)
		s.end = s.authAt.Add(jitter(g.rng, 1, 4))
		c.sessions = append(c.sessions, s)
		if i == 0 {
			first = s
		}
		t = t.Add(6*time.Second + time.Duration(g.rng.IntN(3000))*time.Millisecond)
	}
	g.incident(first, Incident{Kind: "failed-logins", What: "38 failed password logins for ops_admin from 185.220.101.34 within 5 minutes"})

	evil.app = "psql"
	s := g.fixed(c, evil, g.at(2, 1, 52, 41), func(b *builder) {
		b.read("SELECT current_user, inet_server_addr()", nil, 1)
		b.wait(4*time.Second, 9*time.Second)
		b.role("GRANT ROLE", "", "GRANT rds_superuser TO ops_admin;")
		b.wait(2*time.Second, 5*time.Second)
		b.role("ALTER ROLE", "", "ALTER ROLE ops_admin SUPERUSER;")
		b.wait(20*time.Second, 40*time.Second)
		b.role("CREATE ROLE", "", "CREATE ROLE maint_svc LOGIN PASSWORD <REDACTED>")
		b.role("GRANT", "TABLE", "GRANT SELECT ON ALL TABLES IN SCHEMA sales TO maint_svc;")
		b.wait(30*time.Second, 60*time.Second)
		b.read("SELECT count(*) FROM sales.customers", nil, 1)
		b.read("SELECT id, name, email, phone FROM sales.customers ORDER BY id LIMIT 1000", nil, 1000)
	})
	g.incident(s, Incident{Kind: "login-new-host", At: s.authAt, What: "ops_admin logs in from 185.220.101.34, never seen before (usually 10.20.5.11)"})
	g.incident(s, Incident{Kind: "privilege-escalation", At: s.authAt, What: "GRANT rds_superuser TO ops_admin; ALTER ROLE ops_admin SUPERUSER; CREATE ROLE maint_svc; GRANT SELECT ON ALL TABLES IN SCHEMA sales"})

	g.droppedAt = g.at(2, 2, 14, 9)
	s = g.fixed(c, evil, g.at(2, 2, 13, 52), func(b *builder) {
		b.read("SELECT count(*) FROM "+droppedName, nil, 1)
		b.at(g.droppedAt)
		b.execSame(
			sub{class: "DDL", command: "DROP TABLE", objType: "TABLE", objName: droppedName, text: "DROP TABLE " + droppedName + ";"},
			sub{class: "DDL", command: "DROP TABLE", objType: "INDEX", objName: droppedName + "_pkey", text: "DROP TABLE " + droppedName + ";"},
			sub{class: "DDL", command: "DROP TABLE", objType: "SEQUENCE", objName: droppedName + "_id_seq", text: "DROP TABLE " + droppedName + ";"},
		)
	})
	g.incident(s, Incident{Kind: "drop-table", At: g.droppedAt, What: "DROP TABLE " + droppedName + " by ops_admin from 185.220.101.34 at night"})
}

func (g *gen) incidentsBilling(c *cluster) {
	miller := actor{user: "j.miller", app: dbeaver, db: "billing", hosts: []string{millerHost}, inst: 1}
	pages := [][]time.Time{
		{g.at(1, 14, 11, 48), g.at(1, 14, 12, 24), g.at(1, 14, 12, 58), g.at(1, 14, 13, 37)},
		{g.at(1, 14, 20, 33), g.at(1, 14, 21, 12), g.at(1, 14, 21, 49), g.at(1, 14, 22, 21)},
		{g.at(1, 14, 31, 15), g.at(1, 14, 31, 52), g.at(1, 14, 32, 30), g.at(1, 14, 33, 9)},
	}
	offset := 0
	for i, ts := range pages {
		s := g.fixed(c, miller, ts[0].Add(-20*time.Second), func(b *builder) {
			b.misc("SET", "SET search_path = billing, public")
			for _, t := range ts {
				b.at(t)
				b.read("SELECT * FROM billing.cards ORDER BY id LIMIT 50000 OFFSET $1", []string{fmt.Sprint(offset)}, 50000)
				b.object("TABLE", "billing.cards")
				offset += 50000
			}
		})
		if i == 0 {
			g.incident(s, Incident{Kind: "bulk-read", What: "j.miller reads all of billing.cards in 12 pages of 50,000 rows during the invoice run"})
		}
	}
	for _, w := range g.lossWindows {
		g.incidents = append(g.incidents, Incident{Kind: "async-loss", Cluster: c.name, At: w.Start,
			What: fmt.Sprintf("the async activity stream dropped outer records from %s to %s", w.Start.Format("15:04:05"), w.End.Format("15:04:05"))})
		g.incidentSessions = append(g.incidentSessions, nil)
	}
}

func (g *gen) incidentsInventory(c *cluster) {
	etl := actor{user: "etl_loader", app: "etl-nightly", db: "warehouse", hosts: []string{"10.50.50.9"}}
	for day := range int(g.opt.Span / (24 * time.Hour)) {
		g.fixed(c, etl, g.at(day, 2, 5, 0), inventoryETL)
	}
}

// resolveIncidents fills the session ids once pids are known.
func (g *gen) resolveIncidents() {
	for i, s := range g.incidentSessions {
		if s != nil {
			g.incidents[i].SessionID = s.id()
		}
	}
}
