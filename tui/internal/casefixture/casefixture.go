// Package casefixture builds real case files for the explorer's tests: a temp
// DuckDB file with generated events from two clusters and both sources,
// internal users, sessions, DAS↔pgAudit counterparts, a quarantined object and
// hostile statements (OSC 52, CSI, BEL, C1, invalid UTF-8).
//
// It is imported by tests only and must not import any tui package.
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

// T0 is the time of the first generated event.
func T0() time.Time { return time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC) }

// Hostile statements the tests look for in rendered views.
const (
	OSC52 = "SELECT 'x' /*\x1b]52;c;cm0gLXJmIH4=\x07*/ FROM stolen"
	CSI   = "DROP TABLE audit_trail; \x1b[2J\x1b[31mall clear\x1b[0m"
	BEL   = "SELECT pg_sleep(1)\a\a\a -- ring"
	C1    = "UPDATE t SET a = 1 \u009b2J\u009d0;title\u009c WHERE true"
	UTF8  = "SELECT '\xff\xfe broken'"
)

// HostileUser is a user name carrying an OSC 52 clipboard write.
const HostileUser = "mallory\x1b]52;c;ZXZpbA==\x07"

// Empty creates an empty case file.
func Empty(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "empty.duckdb"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Build creates a case file with n generated events (plus counterparts) and
// returns it open.
func Build(tb testing.TB, n int) *store.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(tb.TempDir(), "case.duckdb"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	for _, src := range []store.SourceRow{
		{Name: "orders-logs", Kind: "pgaudit", URL: "s3://acme-logs/orders/", Cluster: "orders-prod"},
		{Name: "orders-das", Kind: "das", URL: "s3://acme-das/orders/", Cluster: "orders-prod", Mode: "async"},
		{Name: "billing-logs", Kind: "pgaudit", URL: "/var/log/billing", Cluster: "billing-prod"},
	} {
		if err := s.UpsertSource(ctx, src); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.MarkSynced(ctx, "orders-logs", T0().Add(2*time.Hour)); err != nil {
		tb.Fatal(err)
	}
	pg, das := Events(n)
	write(tb, s, "orders-logs", "s3://acme-logs/orders/postgresql.log.2026-11-25-11", pg, "")
	write(tb, s, "orders-das", "s3://acme-das/orders/aws-rds-das-cluster-X-1", das, "")
	write(tb, s, "orders-das", "s3://acme-das/orders/aws-rds-das-cluster-X-2", nil, model.ReasonKMSContext)
	return s
}

func write(tb testing.TB, s *store.Store, source, uri string, evs []model.Event, quarantine string) {
	tb.Helper()
	tx, err := s.BeginObject(context.Background(), store.ObjectMeta{Source: source, URI: uri, Key: uri, ETag: "e", Size: 100})
	if err != nil {
		tb.Fatal(err)
	}
	if err := tx.Append(&model.Batch{Events: evs}); err != nil {
		tb.Fatal(err)
	}
	if quarantine != "" {
		tx.Quarantine(quarantine, "KMS refused the encryption context; set resource_id in the config")
	}
	if _, err := tx.Commit("sha"); err != nil {
		tb.Fatal(err)
	}
}

// Events generates n pgAudit events and the DAS records of every fifth one.
func Events(n int) (pg, das []model.Event) {
	users := []string{"app", "app", "app", "etl", "admin", "rdsadmin", HostileUser}
	dbs := []string{"orders", "orders", "billing"}
	hostile := []string{OSC52, CSI, BEL, C1, UTF8}
	for i := 0; i < n; i++ {
		user := users[i%len(users)]
		class, cmd, obj, stmt := "READ", "SELECT", "public.orders", fmt.Sprintf("SELECT * FROM public.orders WHERE id = %d", i)
		switch {
		case i%50 == 7:
			class, cmd, obj, stmt = "DDL", "DROP TABLE", fmt.Sprintf("public.tmp_%d", i), fmt.Sprintf("DROP TABLE public.tmp_%d", i)
		case i%40 == 3:
			class, cmd, obj, stmt = "ROLE", "GRANT", "", "GRANT SELECT ON public.orders TO auditor"
		case i%10 == 4:
			class, cmd, stmt = "WRITE", "INSERT", fmt.Sprintf("INSERT INTO public.orders VALUES (%d, 'x')", i)
		case i%97 == 11:
			stmt = hostile[(i/97)%len(hostile)]
		}
		if i%60 == 59 {
			stmt = hostile[(i/60)%len(hostile)]
		}
		cluster := "orders-prod"
		if i%9 == 8 {
			cluster = "billing-prod"
		}
		e := model.Event{
			Source: model.SourcePgAudit, Cluster: cluster, Instance: cluster + "-1",
			LogTime: T0().Add(time.Duration(i) * 7 * time.Second), SessionID: fmt.Sprintf("6b06c999.%x", 0x40+i%12),
			StatementID: model.Int64(int64(i/12 + 1)), SubstatementID: model.Int64(1), AuditType: "SESSION",
			Class: class, Command: cmd, ObjectType: "TABLE", ObjectName: obj, Statement: stmt,
			DatabaseName: dbs[i%len(dbs)], UserName: user, ApplicationName: "psql", RemoteHost: "10.0.0.12",
			RemotePort: model.Int32(int32(50000 + i%12)), PID: model.Int32(int32(4000 + i%12)),
			ObjectRef: fmt.Sprintf("s3://acme-logs/orders/postgresql.log.2026-11-25-11:%d", i+1),
			Internal:  model.IsInternalUser(user),
		}
		if i%45 == 44 {
			e.ErrorMessage = "permission denied for table orders"
		}
		if i%7 == 0 {
			e.Params = []string{fmt.Sprint(i), "O'Brien"}
		}
		pg = append(pg, e)
		if i%5 == 0 && cluster == "orders-prod" {
			d := e
			d.Source = model.SourceDAS
			d.LogTime = e.LogTime.Add(150 * time.Millisecond)
			d.AuditType = ""
			d.ObjectRef = fmt.Sprintf("s3://acme-das/orders/aws-rds-das-cluster-X-1#%d", i*300)
			d.Raw = fmt.Sprintf(`{"type":"record","command":%q,"statementId":%d}`, cmd, *e.StatementID)
			das = append(das, d)
		}
	}
	return pg, das
}
