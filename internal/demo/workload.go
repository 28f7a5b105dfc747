package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/auditlens/auditlens/ingest/das"
)

// stmt is one thing a backend logged: an AUDIT record (SESSION or OBJECT), or
// a statement that failed (an ERROR, which pgAudit with log_rows=on does not
// audit and DAS reports with null statement ids).
type stmt struct {
	at, started time.Time
	auditType   string // SESSION | OBJECT | "" (failed statement)
	id, sub     int64
	class       string
	command     string
	objType     string
	objName     string
	text        string
	params      []string // nil: <none>
	rows        int64
	errMsg      string // failed statement
	sqlState    string
	xid         int64
}

// session is one backend: a connection from a client, or a failed login.
type session struct {
	c        *cluster
	inst     int
	pid      int
	start    time.Time // connection received; also the %c session id's epoch
	authAt   time.Time
	end      time.Time // disconnection
	user, db string
	app      string
	host     string
	port     int
	authFail string // FATAL message of a failed login (no statements)
	internal bool   // rdsadmin housekeeping: streamed by DAS, not in the customer's log
	stmts    []stmt
}

func (s *session) id() string { return fmt.Sprintf("%x.%x", s.start.Unix(), s.pid) }

// cluster is one generated cluster.
type cluster struct {
	name, short string
	mode        string // das mode, "" = pgAudit only
	csvlog      bool   // logs in csvlog rather than stderr
	resourceID  string
	instances   []instance
	sessions    []*session
	nextPID     int
	nextXID     int64
}

type instance struct {
	id   string // db-…
	host string // server IP (serverHost)
}

// actor is a kind of client: who connects, from where, when, and what it does.
type actor struct {
	user, app, db string
	hosts         []string
	inst          int
	weight        float64
	rhythm        func(hour float64) float64
	script        func(b *builder)
}

// gen holds the generation state.
type gen struct {
	opt         Options
	rng         *rand.Rand
	clusters    []*cluster
	incidents   []Incident
	lossWindows []Window
	spike       Window
	droppedAt   time.Time // when sales.order_audit_trail is dropped
	// incidentSessions[i] is the session of incidents[i], if any.
	incidentSessions []*session
	plaintexts       [][]byte
	enc              *das.Encoder
	encrypted        map[string]bool
}

func newGen(opt Options) *gen {
	return &gen{opt: opt, rng: newRand(opt.Seed, 1), encrypted: map[string]bool{}}
}

// at is a time relative to the start of the case.
func (g *gen) at(day int, hh, mm, ss int) time.Time {
	return g.opt.Start.Add(time.Duration(day)*24*time.Hour + time.Duration(hh)*time.Hour +
		time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second)
}

func (g *gen) resourceID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var sb strings.Builder
	sb.WriteString(prefix)
	for range 26 {
		sb.WriteByte(alphabet[g.rng.IntN(len(alphabet))])
	}
	return sb.String()
}

func (g *gen) newCluster(name, short, mode string, csvlog bool, hosts ...string) *cluster {
	c := &cluster{name: name, short: short, mode: mode, csvlog: csvlog, resourceID: g.resourceID("cluster-"),
		nextPID: 4000 + g.rng.IntN(20000), nextXID: 10_000 + g.rng.Int64N(1_000_000)}
	for _, h := range hosts {
		c.instances = append(c.instances, instance{id: g.resourceID("db-"), host: h})
	}
	return c
}

// Daily rhythms (hour of day, UTC → relative activity).
func office(h float64) float64 {
	switch {
	case h < 7:
		return 0.03
	case h < 9:
		return 0.03 + 0.97*(h-7)/2
	case h < 12:
		return 1
	case h < 13:
		return 0.65
	case h < 17.5:
		return 0.95
	case h < 20:
		return 0.95 - 0.85*(h-17.5)/2.5
	}
	return 0.05
}

func web(h float64) float64 {
	// Customers: low at night, a long plateau, an evening peak.
	return 0.18 + 0.82*math.Pow(math.Sin(math.Pi*math.Max(0, math.Min(1, (h-5)/19))), 1.5)
}

func nightly(h float64) float64 {
	if h >= 1 && h < 4 {
		return 1
	}
	return 0.01
}

func flat(float64) float64 { return 0.7 }

// plan builds the clusters, the incidents and the normal traffic.
func (g *gen) plan() {
	orders := g.newCluster("orders-prod", "orders", "sync", false, "10.20.21.208", "10.20.22.233")
	billing := g.newCluster("billing-prod", "billing", "async", false, "10.30.21.117", "10.30.22.45")
	inventory := g.newCluster("inventory-prod", "inventory", "", true, "10.50.21.64")
	g.clusters = []*cluster{orders, billing, inventory}

	// The month-end invoice run on day 2 loads billing-prod; its async stream
	// drops whole outer records in three windows of it.
	g.spike = Window{g.at(1, 14, 0, 0), g.at(1, 14, 45, 0)}
	g.lossWindows = []Window{
		{g.at(1, 14, 12, 30), g.at(1, 14, 14, 10)},
		{g.at(1, 14, 21, 5), g.at(1, 14, 22, 40)},
		{g.at(1, 14, 33, 0), g.at(1, 14, 33, 50)},
	}
	g.incidentsOrders(orders)
	g.incidentsBilling(billing)
	g.incidentsInventory(inventory)

	budget := float64(g.opt.Events)
	g.traffic(orders, ordersActors(), budget*0.40/2, Window{})
	g.traffic(billing, billingActors(), budget*0.30/2, Window{})
	g.traffic(billing, []actor{invoiceBatch(1)}, budget*0.10/2, g.spike)
	g.traffic(inventory, inventoryActors(), budget*0.17, Window{})
	for _, c := range []*cluster{orders, billing} {
		g.housekeeping(c)
	}
	for _, c := range g.clusters {
		sort.SliceStable(c.sessions, func(i, j int) bool { return c.sessions[i].start.Before(c.sessions[j].start) })
	}
	for _, c := range g.clusters {
		g.assignPIDs(c)
	}
	g.resolveIncidents()
}

// assignPIDs numbers backends in start order, as a postmaster forks them, so
// session ids never collide within a cluster.
func (g *gen) assignPIDs(c *cluster) {
	for _, s := range c.sessions {
		c.nextPID += 1 + g.rng.IntN(9)
		s.pid = c.nextPID
	}
}

// rows is what a session adds to audit_events: its pgAudit rows, doubled
// when DAS streams the cluster too.
func rows(s *session) float64 {
	n := 0
	if s.authFail != "" {
		n = 1
	} else {
		n = 2
		for _, st := range s.stmts {
			if st.auditType != "" {
				n++
			}
		}
	}
	return float64(n)
}

// traffic adds sessions of the actors until their rows reach budget. With a
// window, sessions start inside it, evenly; without, they follow each actor's
// daily rhythm over the whole span.
func (g *gen) traffic(c *cluster, actors []actor, budget float64, in Window) {
	total := 0.0
	for _, a := range actors {
		total += a.weight
	}
	spanEnd := g.opt.Start.Add(g.opt.Span)
	var done float64
	for done < budget {
		x := g.rng.Float64() * total
		a := actors[len(actors)-1]
		for _, cand := range actors {
			if x < cand.weight {
				a = cand
				break
			}
			x -= cand.weight
		}
		var t time.Time
		if !in.Start.IsZero() {
			t = in.Start.Add(time.Duration(g.rng.Int64N(int64(in.End.Sub(in.Start)))))
		} else {
			for {
				t = g.opt.Start.Add(time.Duration(g.rng.Int64N(int64(g.opt.Span))))
				h := float64(t.Hour()) + float64(t.Minute())/60
				if g.rng.Float64() < a.rhythm(h) {
					break
				}
			}
		}
		if t.Add(10 * time.Second).After(spanEnd) {
			continue
		}
		s := g.newSession(c, a, t)
		a.script(&builder{g: g, s: s, t: s.authAt.Add(jitter(g.rng, 2, 40)), end: hourEnd(t)})
		g.closeSession(s)
		c.sessions = append(c.sessions, s)
		done += rows(s)
	}
}

// hourEnd is the last moment a session starting at t may log: RDS rotates the
// log hourly and a stderr reader derives the session id from the first line
// of a backend it sees in a file, so a demo session stays in its hour.
func hourEnd(t time.Time) time.Time { return t.Truncate(time.Hour).Add(time.Hour - 2*time.Second) }

func jitter(r *rand.Rand, minMS, maxMS int) time.Duration {
	return time.Duration(minMS)*time.Millisecond + time.Duration(r.Int64N(int64(maxMS-minMS+1)*1000))*time.Microsecond
}

func (g *gen) newSession(c *cluster, a actor, t time.Time) *session {
	t = t.Truncate(time.Microsecond)
	if lim := hourEnd(t).Add(-20 * time.Second); t.After(lim) {
		t = lim
	}
	s := &session{c: c, inst: min(a.inst, len(c.instances)-1), start: t, user: a.user, db: a.db, app: a.app,
		host: pick(g.rng, a.hosts), port: 32768 + g.rng.IntN(28000)}
	s.authAt = t.Add(jitter(g.rng, 2, 9))
	return s
}

func (g *gen) closeSession(s *session) {
	last := s.authAt
	if n := len(s.stmts); n > 0 {
		last = s.stmts[n-1].at
	}
	s.end = last.Add(jitter(g.rng, 1, 900))
	if lim := hourEnd(s.start).Add(time.Second); s.end.After(lim) {
		s.end = lim
	}
}

// pick chooses from a list with a power law: the first entries are the busiest.
func pick[T any](r *rand.Rand, xs []T) T {
	if len(xs) == 1 {
		return xs[0]
	}
	w := 0.0
	for i := range xs {
		w += 1 / math.Pow(float64(i+1), 1.2)
	}
	x := r.Float64() * w
	for i := range xs {
		x -= 1 / math.Pow(float64(i+1), 1.2)
		if x < 0 {
			return xs[i]
		}
	}
	return xs[len(xs)-1]
}

// housekeeping adds RDS's own rdsadmin sessions every 15 minutes per
// instance: DAS streams them, the customer's log never shows them.
func (g *gen) housekeeping(c *cluster) {
	for i := range c.instances {
		for t := g.opt.Start.Add(time.Duration(g.rng.IntN(600)) * time.Second); t.Before(g.opt.Start.Add(g.opt.Span)); t = t.Add(15 * time.Minute) {
			a := actor{user: "rdsadmin", db: "rdsadmin", hosts: []string{"127.0.0.1"}, inst: i}
			s := g.newSession(c, a, t.Add(time.Duration(g.rng.IntN(30_000))*time.Millisecond))
			s.internal = true
			b := &builder{g: g, s: s, t: s.authAt.Add(jitter(g.rng, 1, 8)), end: hourEnd(s.start)}
			b.read("select extname, extversion from pg_catalog.pg_extension where extname = 'pgaudit'", nil, 1)
			g.closeSession(s)
			c.sessions = append(c.sessions, s)
		}
	}
}

// builder appends a session's statements, advancing its clock.
type builder struct {
	g    *gen
	s    *session
	t    time.Time
	end  time.Time
	id   int64
	full bool
}

func (b *builder) r() *rand.Rand { return b.g.rng }

// wait advances the clock by a think time between lo and hi.
func (b *builder) wait(lo, hi time.Duration) {
	b.t = b.t.Add(lo + time.Duration(b.r().Int64N(int64(hi-lo)+1))).Truncate(time.Microsecond)
}

// room reports whether the session can log one more statement in its hour.
func (b *builder) room() bool {
	if b.t.After(b.end) {
		b.full = true
	}
	return !b.full
}

// sub is one substatement of a statement.
type sub struct {
	class, command, objType, objName, text string
	params                                 []string
	rows                                   int64
}

// exec logs a statement with its substatements (nested first, as log_rows=on
// writes them) under the next statement id.
func (b *builder) exec(subs ...sub) {
	if !b.room() {
		return
	}
	b.id++
	b.g.clusterXID(b.s)
	xid := b.s.c.nextXID
	for i, x := range subs {
		dur := jitter(b.r(), 0, 3)
		if x.rows > 1000 {
			dur += time.Duration(x.rows/200) * time.Microsecond
		}
		b.t = b.t.Add(dur).Truncate(time.Microsecond)
		b.s.stmts = append(b.s.stmts, stmt{at: b.t, started: b.t.Add(-dur), auditType: "SESSION", id: b.id, sub: int64(i + 1),
			class: x.class, command: x.command, objType: x.objType, objName: x.objName, text: x.text,
			params: x.params, rows: x.rows, xid: xid})
	}
	b.wait(2*time.Millisecond, 120*time.Millisecond)
}

func (g *gen) clusterXID(s *session) { s.c.nextXID += 1 + g.rng.Int64N(3) }

// object adds the OBJECT record pgaudit.role writes for the last statement.
func (b *builder) object(objType, objName string) {
	if b.full || len(b.s.stmts) == 0 {
		return
	}
	last := b.s.stmts[len(b.s.stmts)-1]
	last.auditType, last.objType, last.objName = "OBJECT", objType, objName
	last.at = last.at.Add(time.Microsecond)
	b.s.stmts = append(b.s.stmts, last)
}

// fail logs a statement that failed: no AUDIT line, no statement id used.
func (b *builder) fail(class, command, text string, params []string, msg, state string) {
	if !b.room() {
		return
	}
	b.t = b.t.Add(jitter(b.r(), 0, 2)).Truncate(time.Microsecond)
	b.s.stmts = append(b.s.stmts, stmt{at: b.t, started: b.t.Add(-time.Millisecond), class: class, command: command,
		text: text, params: params, errMsg: msg, sqlState: state})
	b.wait(2*time.Millisecond, 50*time.Millisecond)
}

func (b *builder) read(text string, params []string, rows int64) {
	b.exec(sub{class: "READ", command: "SELECT", text: text, params: params, rows: rows})
}

func (b *builder) write(command, text string, params []string, rows int64) {
	b.exec(sub{class: "WRITE", command: command, text: text, params: params, rows: rows})
}

func (b *builder) misc(command, text string) {
	b.exec(sub{class: "MISC", command: command, text: text})
}

func (b *builder) ddl(command, objType, objName, text string) {
	b.exec(sub{class: "DDL", command: command, objType: objType, objName: objName, text: text})
}

func (b *builder) role(command, objType, text string) {
	b.exec(sub{class: "ROLE", command: command, objType: objType, text: text})
}

func (b *builder) n(lo, hi int) int { return lo + b.r().IntN(hi-lo+1) }

func (b *builder) id5() string { return fmt.Sprint(10000 + b.r().IntN(890000)) }

func (b *builder) money() string { return fmt.Sprintf("%d.%02d", 5+b.r().IntN(900), b.r().IntN(100)) }

func (b *builder) sku() string { return fmt.Sprintf("SKU-%05d", b.r().IntN(60000)) }
