// Package synth generates a realistic synthetic mix of audit events for
// benchmarks: several clusters, databases and users with power-law activity,
// every audit class, statements of 40–2,000 bytes built from templates the way
// applications issue them. It imports only the standard library and store/model.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// Options shape the mix.
type Options struct {
	Seed      uint64
	Clusters  int       // default 3
	Databases int       // default 20
	Users     int       // default 200
	Start     time.Time // default 2026-11-20T00:00:00Z
	// Span is the time the events cover (default 3 days); events are spread
	// evenly with jitter, in time order.
	Span time.Duration
}

// Generator produces events in time order.
type Generator struct {
	opt    Options
	rng    *rand.Rand
	zipfU  *rand.Zipf
	zipfO  *rand.Zipf
	users  []string
	dbs    []string
	objs   []string
	n      int64
	total  int64
	step   time.Duration
	sessID map[int]string
	// Strings that depend only on a user and a cluster, made once.
	sessions, hosts, clusters, instances []string
}

// New returns a generator of total events.
func New(total int64, opt Options) *Generator {
	if opt.Clusters == 0 {
		opt.Clusters = 3
	}
	if opt.Databases == 0 {
		opt.Databases = 20
	}
	if opt.Users == 0 {
		opt.Users = 200
	}
	if opt.Start.IsZero() {
		opt.Start = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	}
	if opt.Span == 0 {
		opt.Span = 72 * time.Hour
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	g := &Generator{opt: opt, rng: rng, total: total, sessID: map[int]string{}}
	g.zipfU = rand.NewZipf(rng, 1.2, 4, uint64(opt.Users-1))
	g.zipfO = rand.NewZipf(rng, 1.1, 8, 499)
	for i := 0; i < opt.Users; i++ {
		g.users = append(g.users, fmt.Sprintf("%s_%03d", userKinds[i%len(userKinds)], i))
	}
	for i := 0; i < opt.Databases; i++ {
		g.dbs = append(g.dbs, fmt.Sprintf("%s%02d", dbKinds[i%len(dbKinds)], i))
	}
	g.sessions = make([]string, opt.Users*opt.Clusters)
	g.hosts = make([]string, opt.Users)
	for u := 0; u < opt.Users; u++ {
		g.hosts[u] = fmt.Sprintf("10.0.%d.%d", u%16, u%250+1)
		for c := 0; c < opt.Clusters; c++ {
			g.sessions[u*opt.Clusters+c] = fmt.Sprintf("%x.%x", opt.Start.Unix()+int64(u*97), 1000+u*13+c)
		}
	}
	for c := 0; c < opt.Clusters; c++ {
		g.clusters = append(g.clusters, fmt.Sprintf("cluster-%d", c))
		g.instances = append(g.instances, fmt.Sprintf("db-instance-%d", c))
	}
	for i := 0; i < 500; i++ {
		g.objs = append(g.objs, fmt.Sprintf("%s.%s_%d", schemas[i%len(schemas)], tables[i%len(tables)], i/len(tables)))
	}
	if total > 0 {
		g.step = opt.Span / time.Duration(total)
	}
	if g.step <= 0 {
		g.step = time.Microsecond
	}
	return g
}

var (
	userKinds = []string{"app", "etl", "analyst", "svc", "report", "admin", "batch"}
	dbKinds   = []string{"orders", "billing", "inventory", "crm", "ledger"}
	schemas   = []string{"public", "sales", "billing", "ops"}
	tables    = []string{"orders", "customers", "invoices", "payments", "items", "events", "cards", "audit_log", "shipments", "accounts"}
	apps      = []string{"orders-api", "psql", "etl-nightly", "metabase", "pgbench", "billing-worker"}
)

// Next fills e with the next event and reports false when done.
func (g *Generator) Next(e *model.Event) bool {
	if g.n >= g.total {
		return false
	}
	i := g.n
	g.n++
	r := g.rng
	cluster := int(i % int64(g.opt.Clusters))
	u := int(g.zipfU.Uint64())
	user := g.users[u]
	db := g.dbs[(u*7+cluster)%len(g.dbs)]
	obj := g.objs[g.zipfO.Uint64()]
	pid := int32(1000 + u*13 + cluster)
	session := g.sessions[u*g.opt.Clusters+cluster]
	class, cmd, stmt := g.statement(obj)
	src := model.SourcePgAudit
	if i%2 == 0 {
		src = model.SourceDAS
	}
	*e = model.Event{
		Source: src, Cluster: g.clusters[cluster], Instance: g.instances[cluster],
		LogTime:   g.opt.Start.Add(time.Duration(i)*g.step + time.Duration(r.IntN(1000))*time.Microsecond),
		SessionID: session, StatementID: model.Int64(i/7 + 1), SubstatementID: model.Int64(1),
		Class: class, Command: cmd, Statement: stmt, DatabaseName: db, UserName: user,
		ApplicationName: apps[u%len(apps)], RemoteHost: g.hosts[u],
		RemotePort: model.Int32(int32(40000 + r.IntN(20000))), PID: model.Int32(pid),
		ObjectRef: "s3://bench/obj-" + strconv.FormatInt(i/1000, 10) + "#" + strconv.FormatInt(i%1000, 10),
	}
	if src == model.SourcePgAudit {
		e.AuditType = "SESSION"
	}
	if class == "READ" || class == "WRITE" {
		e.ObjectType, e.ObjectName = "TABLE", obj
		e.RowCount = model.Int64(int64(math.Exp(r.Float64() * 8)))
	}
	if r.IntN(3) == 0 {
		e.Params = []string{strconv.Itoa(r.IntN(100000)), "x"}
	}
	if r.IntN(200) == 0 {
		e.ErrorMessage = "permission denied for table " + obj
	}
	return true
}

func (g *Generator) statement(obj string) (class, cmd, stmt string) {
	r := g.rng
	switch k := r.IntN(100); {
	case k < 45:
		cols := 2 + r.IntN(12)
		return "READ", "SELECT", "SELECT " + columnList(cols) + " FROM " + obj + " WHERE id = $1 AND tenant_id = " + strconv.Itoa(r.IntN(500)) + padding(r)
	case k < 75:
		if r.IntN(2) == 0 {
			return "WRITE", "UPDATE", "UPDATE " + obj + " SET status = $1, updated_at = now() WHERE id = " + strconv.Itoa(r.IntN(1_000_000)) + padding(r)
		}
		return "WRITE", "INSERT", "INSERT INTO " + obj + " (" + columnList(3+r.IntN(8)) + ") VALUES ($1, $2, $3)" + padding(r)
	case k < 90:
		if r.IntN(2) == 0 {
			return "MISC", "BEGIN", "BEGIN"
		}
		return "MISC", "COMMIT", "COMMIT"
	case k < 95:
		return "FUNCTION", "EXECUTE", "SELECT sales.place_order($1, $2, $3)"
	case k < 98:
		return "DDL", "CREATE INDEX", "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_" + strconv.Itoa(r.IntN(99)) + " ON " + obj + " (created_at)"
	case k < 99:
		return "ROLE", "GRANT", "GRANT SELECT ON " + obj + " TO analyst_" + strconv.Itoa(r.IntN(20))
	default:
		return "DDL", "DROP TABLE", "DROP TABLE IF EXISTS " + obj + "_tmp_" + strconv.Itoa(r.IntN(9999))
	}
}

func columnList(n int) string {
	cols := []string{"id", "tenant_id", "customer_id", "status", "amount", "currency", "created_at", "updated_at", "note", "email", "address", "phone", "sku", "qty"}
	if n > len(cols) {
		n = len(cols)
	}
	return strings.Join(cols[:n], ", ")
}

// padding makes the tail of the statement length distribution (up to ~2 kB)
// the way applications do: sort and limit clauses, and reporting queries with
// joins, CASE expressions and aggregates built by BI tools from templates.
func padding(r *rand.Rand) string {
	switch k := r.IntN(100); {
	case k < 80:
		return ""
	case k < 96:
		return " ORDER BY created_at DESC LIMIT " + strconv.Itoa(10+r.IntN(990))
	default:
		var b strings.Builder
		b.WriteString(" AND EXISTS (SELECT 1 FROM sales.customers c JOIN billing.accounts a ON a.customer_id = c.id")
		n := 2 + r.IntN(12)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, " LEFT JOIN %s t%d ON t%d.account_id = a.id AND t%d.status IN ('open', 'overdue', 'disputed')",
				tables[(i+r.IntN(3))%len(tables)], i, i, i)
		}
		b.WriteString(" WHERE CASE WHEN a.region = 'EU' THEN a.vat_rate ELSE 0 END > 0 AND c.created_at >= now() - INTERVAL '")
		fmt.Fprint(&b, 1+r.IntN(90))
		b.WriteString(" days' GROUP BY c.id, a.id HAVING sum(a.balance) > ")
		fmt.Fprint(&b, r.IntN(100000))
		b.WriteString(")")
		return b.String()
	}
}
