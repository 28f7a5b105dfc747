package demo

import (
	"fmt"
	"time"
)

// The clients of each cluster. Weights follow a power law: one API does most
// of the work, a long tail of people and jobs does the rest.

func hostsRange(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s.%d", prefix, i))
	}
	return out
}

const (
	bastion     = "10.20.5.11"
	millerHost  = "10.40.7.19"
	tanakaHost  = "10.40.7.33"
	attacker    = "185.220.101.34"
	dbeaver     = "DBeaver 24.1.0 - SQLEditor <Script-3.sql>"
	opsAdmin    = "ops_admin"
	droppedName = "sales.order_audit_trail"
)

func ordersActors() []actor {
	return []actor{
		{user: "app_orders", app: "orders-api", db: "orders", hosts: hostsRange("10.20.31", 11, 18), weight: 40, rhythm: web, script: ordersAPI},
		{user: "app_checkout", app: "checkout-worker", db: "orders", hosts: hostsRange("10.20.32", 21, 24), weight: 15, rhythm: web, script: checkout},
		{user: "app_catalog", app: "catalog-svc", db: "catalog", hosts: hostsRange("10.20.33", 5, 7), inst: 1, weight: 10, rhythm: web, script: catalogReads},
		{user: "metabase", app: "Metabase", db: "orders", hosts: []string{"10.20.40.12"}, inst: 1, weight: 3, rhythm: office, script: ordersReporting},
		{user: "etl_loader", app: "etl-nightly", db: "orders", hosts: []string{"10.20.50.9"}, weight: 1.5, rhythm: nightly, script: ordersETL},
		{user: "k.tanaka", app: dbeaver, db: "orders", hosts: []string{tanakaHost}, inst: 1, weight: 0.8, rhythm: office, script: ordersAnalyst},
		{user: "dba_alice", app: "psql", db: "orders", hosts: []string{bastion}, weight: 0.5, rhythm: office, script: dbaMaintenance("sales.orders")},
		{user: opsAdmin, app: "psql", db: "orders", hosts: []string{bastion}, weight: 0.3, rhythm: office, script: opsRoutine},
		{user: "deploy_bot", app: "flyway", db: "orders", hosts: []string{"10.20.60.4"}, weight: 0.15, rhythm: office, script: migration},
	}
}

func billingActors() []actor {
	return []actor{
		{user: "app_billing", app: "billing-api", db: "billing", hosts: hostsRange("10.30.31", 11, 16), weight: 35, rhythm: web, script: billingAPI},
		{user: "app_ledger", app: "ledger-sync", db: "ledger", hosts: []string{"10.30.32.8", "10.30.32.9"}, weight: 12, rhythm: web, script: ledgerSync},
		invoiceBatch(6),
		{user: "finance_ro", app: "Tableau", db: "billing", hosts: []string{"10.30.40.20"}, inst: 1, weight: 2.5, rhythm: office, script: financeReporting},
		{user: "j.miller", app: dbeaver, db: "billing", hosts: []string{millerHost}, inst: 1, weight: 0.8, rhythm: office, script: millerRoutine},
		{user: "dba_alice", app: "psql", db: "billing", hosts: []string{bastion}, weight: 0.4, rhythm: office, script: dbaMaintenance("billing.invoices")},
	}
}

func invoiceBatch(weight float64) actor {
	return actor{user: "app_invoicer", app: "invoice-batch", db: "billing", hosts: []string{"10.30.50.7"}, weight: weight, rhythm: flat, script: invoices}
}

func inventoryActors() []actor {
	return []actor{
		{user: "app_inventory", app: "inventory-api", db: "inventory", hosts: hostsRange("10.50.31", 11, 14), weight: 30, rhythm: web, script: inventoryAPI},
		{user: "app_wms", app: "wms-sync", db: "warehouse", hosts: []string{"10.50.32.3", "10.50.32.4"}, weight: 15, rhythm: flat, script: wmsSync},
		{user: "etl_loader", app: "etl-nightly", db: "warehouse", hosts: []string{"10.50.50.9"}, weight: 1.5, rhythm: nightly, script: inventoryLoad},
		{user: "k.tanaka", app: dbeaver, db: "inventory", hosts: []string{tanakaHost}, weight: 0.8, rhythm: office, script: inventoryAnalyst},
	}
}

// --- orders-prod ---

func ordersAPI(b *builder) {
	for range b.n(3, 24) {
		cid := b.id5()
		switch x := b.r().IntN(100); {
		case x < 35:
			b.read("SELECT id, status, total, created_at FROM sales.orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20",
				[]string{cid}, int64(b.r().IntN(21)))
		case x < 55:
			b.read("SELECT id, name, email, tier FROM sales.customers WHERE id = $1", []string{cid}, 1)
		case x < 70:
			amt, sku := b.money(), b.sku()
			p := []string{cid, amt, sku}
			b.exec(
				sub{class: "FUNCTION", command: "EXECUTE", objType: "FUNCTION", objName: "sales.place_order", text: "SELECT sales.place_order($1, $2, $3)", params: p},
				sub{class: "READ", command: "SELECT", text: `SELECT 1 FROM ONLY "sales"."customers" x WHERE "id" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x`, params: []string{cid}, rows: 1},
				sub{class: "WRITE", command: "INSERT", text: "INSERT INTO sales.orders (customer_id, total, status) VALUES (p_customer, p_total, 'new') RETURNING id", params: []string{cid, amt, sku, "", ""}, rows: 1},
				sub{class: "WRITE", command: "INSERT", text: "INSERT INTO sales.order_items (order_id, sku, qty, price) VALUES (v_order, p_sku, 1, p_total)", params: []string{cid, amt, sku, b.id5(), ""}, rows: 1},
				sub{class: "READ", command: "SELECT", text: "SELECT sales.place_order($1, $2, $3)", params: p, rows: 1},
			)
		case x < 84:
			oid, status := b.id5(), pick(b.r(), []string{"shipped", "packed", "cancelled", "refunded"})
			b.misc("BEGIN", "BEGIN")
			b.write("UPDATE", "UPDATE sales.orders SET status = $1, updated_at = now() WHERE id = $2", []string{status, oid}, 1)
			if b.t.After(b.g.droppedAt) && b.s.c.name == "orders-prod" {
				// The audit trail table is gone: every status change fails from
				// now on, and the aborted transaction's COMMIT is not audited.
				b.fail("WRITE", "INSERT", "INSERT INTO sales.order_audit_trail (order_id, status, changed_by) VALUES ($1, $2, $3)",
					[]string{oid, status, "orders-api"}, `relation "sales.order_audit_trail" does not exist`, "42P01")
				return
			}
			b.write("INSERT", "INSERT INTO sales.order_audit_trail (order_id, status, changed_by) VALUES ($1, $2, $3)", []string{oid, status, "orders-api"}, 1)
			b.misc("COMMIT", "COMMIT")
		case x < 93:
			b.write("UPDATE", "UPDATE sales.customers SET last_seen = now() WHERE id = $1", []string{cid}, 1)
		case x < 98:
			b.read("SELECT count(*) FROM sales.orders WHERE customer_id = $1 AND status = 'open'", []string{cid}, 1)
		default:
			b.fail("WRITE", "INSERT", "INSERT INTO sales.customers (name, email) VALUES ($1, $2)",
				[]string{"Lee, \"Bruce\"", "bruce" + cid + "@example.com"},
				`duplicate key value violates unique constraint "customers_email_key"`, "23505")
		}
		b.wait(20*time.Millisecond, 2500*time.Millisecond)
	}
}

func checkout(b *builder) {
	b.read("SELECT id, total FROM sales.orders WHERE status = 'pending_payment' ORDER BY created_at LIMIT 50 FOR UPDATE SKIP LOCKED", nil, int64(b.r().IntN(51)))
	for range b.n(1, 8) {
		oid := b.id5()
		b.misc("BEGIN", "BEGIN")
		b.write("UPDATE", "UPDATE sales.payments SET state = 'captured', captured_at = now() WHERE order_id = $1", []string{oid}, 1)
		b.write("UPDATE", "UPDATE sales.orders SET status = 'paid' WHERE id = $1", []string{oid}, 1)
		b.misc("COMMIT", "COMMIT")
		b.wait(50*time.Millisecond, 900*time.Millisecond)
	}
}

func catalogReads(b *builder) {
	for range b.n(2, 15) {
		if b.r().IntN(3) == 0 {
			b.read("SELECT price FROM public.prices WHERE sku = $1 AND valid_at <= now() ORDER BY valid_at DESC LIMIT 1", []string{b.sku()}, 1)
		} else {
			skus := "{" + b.sku() + "," + b.sku() + "," + b.sku() + "}"
			b.read("SELECT sku, name, price FROM public.products WHERE sku = ANY($1)", []string{skus}, 3)
		}
		b.wait(5*time.Millisecond, 400*time.Millisecond)
	}
}

func ordersReporting(b *builder) {
	b.misc("SET", "SET statement_timeout = '120s'")
	for range b.n(1, 5) {
		switch b.r().IntN(3) {
		case 0:
			b.read("SELECT date_trunc('day', o.created_at) AS day,\n       count(*) AS orders,\n       sum(o.total) AS revenue\nFROM sales.orders o\nWHERE o.created_at >= now() - interval '30 days'\nGROUP BY 1\nORDER BY 1", nil, 30)
		case 1:
			b.read("SELECT c.tier, count(DISTINCT o.customer_id) AS buyers\nFROM sales.orders o\nJOIN sales.customers c ON c.id = o.customer_id\nWHERE o.created_at >= $1\nGROUP BY c.tier", []string{"2026-11-01"}, 4)
		default:
			b.read("SELECT status, count(*) FROM sales.orders GROUP BY status", nil, 7)
		}
		b.wait(2*time.Second, 40*time.Second)
	}
}

func ordersETL(b *builder) {
	b.exec(sub{class: "READ", command: "COPY", text: "COPY (SELECT * FROM sales.orders WHERE updated_at >= current_date - 1) TO STDOUT WITH (FORMAT csv)"})
	b.wait(5*time.Second, 50*time.Second)
	b.read("SELECT order_id, sku, qty, price FROM sales.order_items WHERE created_at >= $1", []string{"2026-11-22"}, int64(40_000+b.r().IntN(80_000)))
}

func ordersAnalyst(b *builder) {
	b.misc("SET", "SET search_path = sales, public")
	for range b.n(1, 6) {
		b.read("SELECT * FROM orders WHERE status = 'refunded' AND created_at > $1", []string{"2026-11-20"}, int64(10+b.r().IntN(900)))
		b.wait(5*time.Second, 90*time.Second)
	}
}

func dbaMaintenance(table string) func(*builder) {
	return func(b *builder) {
		b.misc("SET", "SET statement_timeout = '15min'")
		b.misc("VACUUM", "VACUUM (ANALYZE) "+table)
		b.wait(10*time.Second, 60*time.Second)
		b.exec(sub{class: "READ", command: "SELECT", text: "EXPLAIN SELECT * FROM " + table + " WHERE status = 'open'", rows: 0},
			sub{class: "MISC", command: "EXPLAIN", text: "EXPLAIN SELECT * FROM " + table + " WHERE status = 'open'"})
		if b.r().IntN(4) == 0 {
			b.misc("ANALYZE", "ANALYZE "+table)
		}
	}
}

func opsRoutine(b *builder) {
	b.read("SELECT count(*) FROM sales.order_audit_trail WHERE changed_at < now() - interval '90 days'", nil, 1)
	b.wait(3*time.Second, 30*time.Second)
	b.misc("REINDEX", "REINDEX INDEX CONCURRENTLY sales.orders_pkey")
}

func migration(b *builder) {
	n := b.id5()
	b.misc("BEGIN", "BEGIN")
	b.ddl("ALTER TABLE", "TABLE", "sales.orders", "ALTER TABLE sales.orders ADD COLUMN IF NOT EXISTS channel_"+n+" text")
	b.write("INSERT", "INSERT INTO public.flyway_schema_history (installed_rank, version, description, script, success) VALUES ($1, $2, $3, $4, $5)",
		[]string{n, "4." + n, "add channel", "V4_" + n + "__add_channel.sql", "t"}, 1)
	b.misc("COMMIT", "COMMIT")
}

// --- billing-prod ---

func billingAPI(b *builder) {
	for range b.n(2, 16) {
		cid := b.id5()
		switch x := b.r().IntN(100); {
		case x < 40:
			b.read("SELECT id, status, amount_due FROM billing.invoices WHERE customer_id = $1 ORDER BY issued_at DESC LIMIT 12", []string{cid}, int64(b.r().IntN(13)))
		case x < 60:
			b.read("SELECT token, last4, exp_month, exp_year FROM billing.cards WHERE customer_id = $1 AND is_default", []string{cid}, 1)
			b.object("TABLE", "billing.cards")
		case x < 97:
			inv, amt := b.id5(), b.money()
			b.misc("BEGIN", "BEGIN")
			b.write("INSERT", "INSERT INTO billing.payments (invoice_id, amount, card_token) VALUES ($1, $2, $3)", []string{inv, amt, "tok_" + cid}, 1)
			b.write("UPDATE", "UPDATE billing.invoices SET status = 'paid', paid_at = now() WHERE id = $1", []string{inv}, 1)
			b.misc("COMMIT", "COMMIT")
		default:
			b.fail("WRITE", "INSERT", "INSERT INTO billing.payments (invoice_id, amount, card_token) VALUES ($1, $2, $3)",
				[]string{b.id5(), "-" + b.money(), "tok_" + cid}, `new row for relation "payments" violates check constraint "payments_amount_check"`, "23514")
		}
		b.wait(20*time.Millisecond, 2*time.Second)
	}
}

func invoices(b *builder) {
	for range b.n(4, 18) {
		cid := b.id5()
		b.misc("BEGIN", "BEGIN")
		b.write("INSERT", "INSERT INTO billing.invoices (customer_id, period, amount_due) VALUES ($1, $2, $3) RETURNING id", []string{cid, "2026-11", b.money()}, 1)
		for range b.n(1, 4) {
			b.write("INSERT", "INSERT INTO billing.invoice_lines (invoice_id, sku, qty, amount) VALUES ($1, $2, $3, $4)", []string{b.id5(), b.sku(), fmt.Sprint(b.n(1, 9)), b.money()}, 1)
		}
		b.misc("COMMIT", "COMMIT")
		b.wait(5*time.Millisecond, 300*time.Millisecond)
	}
}

func ledgerSync(b *builder) {
	for range b.n(2, 10) {
		acct, amt := b.id5(), b.money()
		b.misc("BEGIN", "BEGIN")
		b.read("SELECT balance FROM ledger.accounts WHERE id = $1 FOR UPDATE", []string{acct}, 1)
		b.write("INSERT", "INSERT INTO ledger.entries (account_id, amount, ref) VALUES ($1, $2, $3)", []string{acct, amt, "inv-" + b.id5()}, 1)
		b.write("UPDATE", "UPDATE ledger.accounts SET balance = balance + $1 WHERE id = $2", []string{amt, acct}, 1)
		b.misc("COMMIT", "COMMIT")
		b.wait(50*time.Millisecond, 1500*time.Millisecond)
	}
}

func financeReporting(b *builder) {
	for range b.n(1, 4) {
		b.read("SELECT date_trunc('month', issued_at) AS month,\n       status,\n       sum(amount_due) AS due\nFROM billing.invoices\nWHERE issued_at >= $1\nGROUP BY 1, 2\nORDER BY 1, 2", []string{"2026-01-01"}, int64(12+b.r().IntN(60)))
		b.wait(5*time.Second, 60*time.Second)
	}
}

func millerRoutine(b *builder) {
	b.read("SELECT status, count(*), sum(amount_due) FROM billing.invoices WHERE issued_at >= $1 GROUP BY status", []string{"2026-11-01"}, int64(4+b.r().IntN(3)))
	b.wait(10*time.Second, 120*time.Second)
	b.read("SELECT customer_id, amount_due FROM billing.invoices WHERE status = 'overdue' ORDER BY amount_due DESC LIMIT 100", nil, 100)
}

// --- inventory-prod ---

func inventoryAPI(b *builder) {
	for range b.n(2, 18) {
		sku := b.sku()
		switch x := b.r().IntN(10); {
		case x < 5:
			b.read("SELECT sku, on_hand, reserved FROM stock.items WHERE sku = $1", []string{sku}, 1)
		case x < 8:
			q := fmt.Sprint(b.n(1, 5))
			b.write("UPDATE", "UPDATE stock.items SET reserved = reserved + $1 WHERE sku = $2 AND on_hand - reserved >= $1", []string{q, sku}, int64(b.r().IntN(2)))
		default:
			b.write("INSERT", "INSERT INTO stock.movements (sku, qty, reason) VALUES ($1, $2, $3)", []string{sku, fmt.Sprint(-b.n(1, 5)), "reservation"}, 1)
		}
		b.wait(10*time.Millisecond, 1500*time.Millisecond)
	}
}

func wmsSync(b *builder) {
	wave := b.id5()
	b.read("SELECT id, sku, qty FROM wms.picks WHERE wave = $1", []string{wave}, int64(10+b.r().IntN(70)))
	for range b.n(1, 10) {
		if b.r().IntN(2) == 0 {
			b.write("INSERT", "INSERT INTO wms.shipments (order_ref, carrier, status) VALUES ($1, $2, 'created')", []string{"ORD-" + b.id5(), pick(b.r(), []string{"DHL", "UPS", "DPD", "GLS"})}, 1)
		} else {
			b.write("UPDATE", "UPDATE wms.picks SET picked_at = now(), picker = $1 WHERE id = $2", []string{"picker-" + fmt.Sprint(b.n(1, 40)), b.id5()}, 1)
		}
		b.wait(20*time.Millisecond, 800*time.Millisecond)
	}
}

func inventoryETL(b *builder) {
	tbl := "staging.import_" + b.s.start.Format("20060102_1504")
	b.ddl("CREATE TABLE", "TABLE", tbl, "CREATE TABLE "+tbl+" (LIKE wms.shipments INCLUDING DEFAULTS)")
	b.exec(sub{class: "WRITE", command: "COPY", text: "COPY " + tbl + " FROM STDIN WITH (FORMAT csv)"})
	b.wait(2*time.Second, 20*time.Second)
	b.write("INSERT", "INSERT INTO wms.shipments SELECT * FROM "+tbl+" ON CONFLICT DO NOTHING", nil, int64(1000+b.r().IntN(4000)))
	b.ddl("DROP TABLE", "TABLE", tbl, "DROP TABLE "+tbl)
}

// inventoryLoad is the ETL's incremental load; the staging table and its
// DROP TABLE come once a night (incidentsInventory).
func inventoryLoad(b *builder) {
	b.exec(sub{class: "WRITE", command: "COPY", text: "COPY wms.carrier_events FROM STDIN WITH (FORMAT csv)"})
	b.wait(2*time.Second, 20*time.Second)
	b.write("UPDATE", "UPDATE wms.shipments s SET status = e.status FROM wms.carrier_events e WHERE e.order_ref = s.order_ref AND e.seen_at >= $1", []string{"2026-11-22"}, int64(100+b.r().IntN(900)))
}

func inventoryAnalyst(b *builder) {
	for range b.n(1, 4) {
		b.read("SELECT i.sku, i.on_hand, sum(m.qty) AS moved\nFROM stock.items i\nJOIN stock.movements m USING (sku)\nWHERE m.created_at >= $1\nGROUP BY 1, 2\nORDER BY 3\nLIMIT 200", []string{"2026-11-20"}, 200)
		b.wait(10*time.Second, 100*time.Second)
	}
}
