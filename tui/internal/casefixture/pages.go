package casefixture

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/model"
)

// Gap windows of BuildGaps: billing-prod's DAS stream (async) drops the
// records of statements [GapFrom, GapTo) and [Gap2From, Gap2To); its pgAudit
// log lacks statement PgLost. orders-prod (sync) loses nothing.
const (
	GapStatements = 240
	GapFrom       = 60
	GapTo         = 75
	Gap2From      = 150
	Gap2To        = 160
	PgLost        = 200
)

// BuildGaps creates a case file with two clusters, each with a DAS and a
// pgAudit source, one statement every 30 s for two hours: orders-prod in DAS
// sync mode with every record in both sources, billing-prod in async mode with
// the losses above.
func BuildGaps(tb testing.TB) *store.Store {
	tb.Helper()
	ctx := context.Background()
	s := open(tb, "gaps.duckdb")
	for _, src := range []store.SourceRow{
		{Name: "orders-das", Kind: "das", URL: "s3://acme-das/orders/", Cluster: "orders-prod", Mode: "sync"},
		{Name: "orders-logs", Kind: "pgaudit", URL: "s3://acme-logs/orders/", Cluster: "orders-prod"},
		{Name: "billing-das", Kind: "das", URL: "s3://acme-das/billing/", Cluster: "billing-prod", Mode: "async"},
		{Name: "billing-logs", Kind: "pgaudit", URL: "s3://acme-logs/billing/", Cluster: "billing-prod"},
	} {
		if err := s.UpsertSource(ctx, src); err != nil {
			tb.Fatal(err)
		}
	}
	for _, cluster := range []string{"orders-prod", "billing-prod"} {
		var pg, das []model.Event
		short := cluster[:len(cluster)-5]
		for i := 0; i < GapStatements; i++ {
			e := model.Event{
				Source: model.SourcePgAudit, Cluster: cluster, Instance: cluster + "-1",
				LogTime:   T0().Add(time.Duration(i) * 30 * time.Second),
				SessionID: fmt.Sprintf("6b07a000.%x", 0x10+i%4), StatementID: model.Int64(int64(i/4 + 1)), SubstatementID: model.Int64(1),
				AuditType: "SESSION", Class: "READ", Command: "SELECT", ObjectType: "TABLE", ObjectName: "public.invoices",
				Statement:    fmt.Sprintf("SELECT * FROM public.invoices WHERE id = %d", i),
				DatabaseName: short, UserName: "app", ApplicationName: "api", RemoteHost: "10.0.1.5",
				ObjectRef: fmt.Sprintf("s3://acme-logs/%s/postgresql.log.2026-11-25-11:%d", short, i+1),
			}
			lostDAS := cluster == "billing-prod" && (i >= GapFrom && i < GapTo || i >= Gap2From && i < Gap2To)
			lostPg := cluster == "billing-prod" && i == PgLost
			if !lostPg {
				pg = append(pg, e)
			}
			if !lostDAS {
				d := e
				d.Source, d.AuditType = model.SourceDAS, ""
				d.LogTime = e.LogTime.Add(150 * time.Millisecond)
				d.ObjectRef = fmt.Sprintf("s3://acme-das/%s/aws-rds-das-cluster-%s#%d", short, short, i)
				das = append(das, d)
			}
		}
		write(tb, s, short+"-logs", "s3://acme-logs/"+short+"/postgresql.log.2026-11-25-11", pg, "")
		write(tb, s, short+"-das", "s3://acme-das/"+short+"/aws-rds-das-cluster-"+short, das, "")
	}
	return s
}

// Findings planted by BuildFindings.
const (
	DropStatement  = "DROP TABLE public.customers_backup"
	GrantStatement = "GRANT rds_superuser TO intern"
	FailedLogins   = 6
	AttackerHost   = "203.0.113.66"
)

// BuildFindings creates a small case file of one cluster's pgAudit log with
// ordinary reads, one DROP TABLE, one GRANT and a burst of failed logins from
// one host followed by a successful login from it.
func BuildFindings(tb testing.TB) *store.Store {
	tb.Helper()
	s := open(tb, "findings.duckdb")
	if err := s.UpsertSource(context.Background(), store.SourceRow{Name: "orders-logs", Kind: "pgaudit", URL: "/var/log/orders", Cluster: "orders-prod"}); err != nil {
		tb.Fatal(err)
	}
	var evs []model.Event
	at := T0()
	add := func(e model.Event) {
		e.Source, e.Cluster, e.Instance, e.LogTime = model.SourcePgAudit, "orders-prod", "orders-prod-1", at
		if e.RemoteHost == "" {
			e.RemoteHost = "10.0.0.12"
		}
		e.ObjectRef = fmt.Sprintf("/var/log/orders/postgresql.log:%d", len(evs)+1)
		evs = append(evs, e)
		at = at.Add(20 * time.Second)
	}
	stmt := func(sess string, id int64, class, cmd, obj, text string) {
		add(model.Event{SessionID: sess, StatementID: model.Int64(id), SubstatementID: model.Int64(1), AuditType: "SESSION",
			Class: class, Command: cmd, ObjectType: "TABLE", ObjectName: obj, Statement: text,
			DatabaseName: "orders", UserName: "app", ApplicationName: "psql", PID: model.Int32(4100)})
	}
	for i := range 10 {
		stmt("6b08b000.1", int64(i+1), "READ", "SELECT", "public.orders", fmt.Sprintf("SELECT * FROM public.orders WHERE id = %d", i))
	}
	stmt("6b08b000.1", 11, "DDL", "DROP TABLE", "public.customers_backup", DropStatement)
	stmt("6b08b000.1", 12, "ROLE", "GRANT", "", GrantStatement)
	for i := range FailedLogins {
		add(model.Event{SessionID: fmt.Sprintf("6b08c000.%x", i), Class: "CONNECT", Command: "CONNECT", DatabaseName: "orders",
			UserName: "alice", RemoteHost: AttackerHost, ApplicationName: "psql", PID: model.Int32(int32(5000 + i)),
			ErrorMessage: `password authentication failed for user "alice"`})
	}
	add(model.Event{SessionID: "6b08d000.1", Class: "CONNECT", Command: "CONNECT", DatabaseName: "orders",
		UserName: "alice", RemoteHost: AttackerHost, ApplicationName: "psql", PID: model.Int32(5100)})
	write(tb, s, "orders-logs", "/var/log/orders/postgresql.log", evs, "")
	return s
}

func open(tb testing.TB, name string) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), name), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
