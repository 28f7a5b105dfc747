package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/auditlens/auditlens/store/model"
)

// Object status values.
const (
	StatusOK          = "ok"          // every record decoded
	StatusPartial     = "partial"     // some records rejected, the good ones kept
	StatusQuarantined = "quarantined" // nothing usable: the whole object is set aside
)

// ObjectMeta identifies an object being ingested.
type ObjectMeta struct {
	Source       string // source name from the config (or "ingest")
	URI          string
	Key          string
	ETag         string
	VersionID    string
	Size         int64
	LastModified time.Time
	Format       string
	RunID        int64
	NewVersion   bool // the key was ingested before with another ETag
}

// ObjectRecord is the committed row of objects.
type ObjectRecord struct {
	ObjectID   int64
	Status     string
	Reason     string
	Detail     string
	Events     int64
	Heartbeats int64
	Messages   int64
	Rejects    int64
	SHA256     string
	ChainHash  string
}

type idState struct {
	nextEvent  int64
	nextObject int64
	lastChain  string
}

// ObjectTx writes one object's rows inside one transaction: Commit makes all of
// them and the objects row visible at once; Rollback (or a crash) leaves nothing.
type ObjectTx struct {
	s      *Store
	ctx    context.Context
	conn   *sql.Conn
	meta   ObjectMeta
	id     int64
	done   bool
	apps   map[string]*duckdb.Appender
	events *eventAppender // chunk writer for events; nil until first used or when unavailable
	slow   bool           // the chunk writer is unavailable: events go through AppendRow
	counts ObjectRecord
	reason string
	detail string
	group  *Group // set when the object shares its group's transaction
	raw    rawBlock
	// useFeed: events go through the parallel insert feed (feed.go);
	// feed is the transaction's when it has no group.
	useFeed bool
	feed    txFeed
}

// BeginObject starts the transaction of one object. Only one object transaction
// is open at a time per Store; callers serialise through a single writer.
func (s *Store) BeginObject(ctx context.Context, meta ObjectMeta) (*ObjectTx, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	s.writeMu.Lock()
	if err := s.loadIDs(ctx); err != nil {
		s.writeMu.Unlock()
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.writeMu.Unlock()
		return nil, fmt.Errorf("begin object %s: %w", meta.URI, err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		_ = conn.Close()
		s.writeMu.Unlock()
		return nil, fmt.Errorf("begin object %s: %w", meta.URI, err)
	}
	return &ObjectTx{s: s, ctx: ctx, conn: conn, meta: meta, id: s.ids.nextObject, apps: map[string]*duckdb.Appender{},
		useFeed: s.feedOn.Load()}, nil
}

// fw is the feed state of the object's transaction.
func (tx *ObjectTx) fw() *txFeed {
	if tx.group != nil {
		return &tx.group.feed
	}
	return &tx.feed
}

func (s *Store) loadIDs(ctx context.Context) error {
	if s.ids != nil {
		return nil
	}
	st := &idState{}
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(event_id), 0) + 1 FROM events`).Scan(&st.nextEvent); err != nil {
		return fmt.Errorf("read event ids: %w", err)
	}
	var chain sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT object_id + 1, chain_hash FROM objects ORDER BY object_id DESC LIMIT 1`).Scan(&st.nextObject, &chain)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		st.nextObject = 1
	case err != nil:
		return fmt.Errorf("read object ids: %w", err)
	}
	st.lastChain = chain.String
	s.ids = st
	return nil
}

// ObjectID is the id the object will have once committed.
func (tx *ObjectTx) ObjectID() int64 { return tx.id }

func (tx *ObjectTx) appender(dc driver.Conn, table string) (*duckdb.Appender, error) {
	return appenderIn(tx.apps, dc, table)
}

// appenderIn returns the appender for table from apps, opening it on dc.
func appenderIn(apps map[string]*duckdb.Appender, dc driver.Conn, table string) (*duckdb.Appender, error) {
	if a := apps[table]; a != nil {
		return a, nil
	}
	a, err := duckdb.NewAppenderFromConn(dc, "", table)
	if err != nil {
		return nil, fmt.Errorf("appender for %s: %w", table, err)
	}
	apps[table] = a
	return a, nil
}

// Append adds a batch of decoded rows. The batch may be reused afterwards.
func (tx *ObjectTx) Append(b *model.Batch) error {
	defer tx.s.timeWrite(time.Now())
	if tx.done {
		return errors.New("append to a finished object transaction")
	}
	if tx.useFeed {
		if len(b.Events) >= feedMinBatch || tx.fw().run != nil {
			if err := tx.appendViaFeed(b); err != nil {
				return fmt.Errorf("write %s: %w", tx.meta.URI, err)
			}
			return nil
		}
		// Small batches (DAS objects) take the appender: DuckDB holds what
		// the feed's threads insert in memory until the transaction writes
		// it, and a group of small objects ran out of the bulk pool.
		if err := tx.fw().end(tx.conn); err != nil {
			return fmt.Errorf("write %s: %w", tx.meta.URI, err)
		}
	}
	err := tx.conn.Raw(func(dc any) error {
		conn := dc.(driver.Conn)
		firstID := tx.s.ids.nextEvent
		packed := len(b.PackedRaw) > 0
		if len(b.Events) > 0 && !tx.slow && tx.events == nil {
			ea, err := newEventAppender(conn)
			switch {
			case errors.Is(err, errNoFastPath):
				tx.slow = true
			case err != nil:
				return err
			default:
				tx.events = ea
			}
		}
		if len(b.Events) > 0 && tx.events != nil {
			for i := range b.Events {
				if err := tx.events.appendEvent(tx.s.ids.nextEvent, tx.id, &b.Events[i]); err != nil {
					return fmt.Errorf("append events: %w", err)
				}
				if !packed {
					tx.raw.add(tx.s.ids.nextEvent, b.Events[i].Raw)
				}
				tx.s.ids.nextEvent++
			}
			tx.counts.Events += int64(len(b.Events))
		} else if len(b.Events) > 0 {
			a, err := tx.appender(conn, "events")
			if err != nil {
				return err
			}
			for i := range b.Events {
				if err := appendEvent(a, tx.s.ids.nextEvent, tx.id, &b.Events[i]); err != nil {
					return fmt.Errorf("append event %s: %w", b.Events[i].Ref(), err)
				}
				if !packed {
					tx.raw.add(tx.s.ids.nextEvent, b.Events[i].Raw)
				}
				tx.s.ids.nextEvent++
			}
			tx.counts.Events += int64(len(b.Events))
		}
		tx.s.roomFor(tx.ctx, b)
		if packed && len(b.Events) > 0 {
			if err := tx.appendPacked(conn, firstID, len(b.Events), b.PackedRaw); err != nil {
				return err
			}
		} else if len(tx.raw.buf) >= rawBlockBytes {
			if err := tx.flushRaw(conn); err != nil {
				return err
			}
		}
		return tx.appendOthers(func(table string) (*duckdb.Appender, error) { return tx.appender(conn, table) },
			b.Heartbeats, b.Messages, b.Rejects)
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", tx.meta.URI, err)
	}
	tx.countOthers(b)
	return nil
}

// appendViaFeed writes b's events through the running INSERT (starting it)
// and queues its other rows until the INSERT ends.
func (tx *ObjectTx) appendViaFeed(b *model.Batch) error {
	w := tx.fw()
	if n := len(b.Events); n > 0 {
		tx.s.roomFor(tx.ctx, b)
		if w.run == nil {
			// The connection's appenders must be idle while the INSERT runs.
			if err := tx.closeAppenders(); err != nil {
				return err
			}
			run, err := tx.s.startInsert(tx.ctx, tx.conn)
			if err != nil {
				return err
			}
			w.run = run
		}
		first := tx.s.ids.nextEvent
		if err := w.run.feed.put(b.Events, first, tx.id); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		tx.s.ids.nextEvent += int64(n)
		tx.counts.Events += int64(n)
		w.run.rows += n
		if len(b.PackedRaw) > 0 {
			if err := tx.queueRaw(w); err != nil {
				return err
			}
			if err := w.laterBlock(tx.conn, tx.s.rawSpool(), tx.id, first, n, b.PackedRaw); err != nil {
				return err
			}
		} else {
			for i := range b.Events {
				tx.raw.add(first+int64(i), b.Events[i].Raw)
			}
			if len(tx.raw.buf) >= rawBlockBytes {
				if err := tx.queueRaw(w); err != nil {
					return err
				}
			}
		}
	}
	if len(b.Heartbeats)+len(b.Messages)+len(b.Rejects) > 0 {
		// Strings are immutable: copying the rows keeps them past the batch.
		hbs, msgs, rejs := slices.Clone(b.Heartbeats), slices.Clone(b.Messages), slices.Clone(b.Rejects)
		size := othersBytes(hbs, msgs, rejs)
		if err := w.later(tx.conn, size, func(dc driver.Conn) error {
			return tx.appendOthers(func(table string) (*duckdb.Appender, error) { return w.appender(dc, table) }, hbs, msgs, rejs)
		}); err != nil {
			return err
		}
	}
	tx.countOthers(b)
	if w.run != nil && (w.run.rows >= segmentRows || w.bytes >= maxPendingBytes) {
		return w.end(tx.conn)
	}
	return nil
}

// queueRaw compresses the gathered raw records into a block written once the
// running INSERT ends.
func (tx *ObjectTx) queueRaw(w *txFeed) error {
	first, n, data, err := tx.raw.take()
	if err != nil || n == 0 {
		return err
	}
	return w.laterBlock(tx.conn, tx.s.rawSpool(), tx.id, first, n, data)
}

// appendOthers appends a batch's heartbeats, server messages and rejects
// through the appenders app gives, and counts them.
func (tx *ObjectTx) appendOthers(app func(string) (*duckdb.Appender, error), hbs []model.Heartbeat, msgs []model.ServerMessage, rejs []model.Reject) error {
	id := tx.id
	if err := appendRows(app, "heartbeats", hbs, func(h *model.Heartbeat) []driver.Value {
		return []driver.Value{id, nullStr(h.Cluster), nullStr(h.Instance), h.LogTime.UTC(), nullStr(h.ServerHost), nullStr(h.ObjectRef)}
	}); err != nil {
		return err
	}
	if err := appendRows(app, "server_messages", msgs, func(m *model.ServerMessage) []driver.Value {
		return []driver.Value{id, nullStr(m.Cluster), nullStr(m.Instance), m.LogTime.UTC(), nullStr(m.Severity),
			nullStr(m.SessionID), nullI32(m.PID), nullStr(m.UserName), nullStr(m.DatabaseName), nullStr(m.RemoteHost),
			nullStr(m.SQLState), nullStr(m.Message), nullStr(m.Detail), nullStr(m.Statement), nullStr(m.ObjectRef)}
	}); err != nil {
		return err
	}
	return appendRows(app, "rejects", rejs, func(r *model.Reject) []driver.Value {
		return []driver.Value{id, r.Offset, r.Reason, nullStr(r.Detail)}
	})
}

// countOthers counts a batch's heartbeats, server messages and rejects and
// keeps the first reject's reason.
func (tx *ObjectTx) countOthers(b *model.Batch) {
	tx.counts.Heartbeats += int64(len(b.Heartbeats))
	tx.counts.Messages += int64(len(b.Messages))
	tx.counts.Rejects += int64(len(b.Rejects))
	if tx.reason == "" && len(b.Rejects) > 0 {
		tx.reason, tx.detail = b.Rejects[0].Reason, b.Rejects[0].Detail
	}
}

// appendRows appends the low-volume row kinds (heartbeats, server messages,
// rejects) through the table's appender, one row per element.
func appendRows[T any](app func(string) (*duckdb.Appender, error), table string, rows []T, row func(*T) []driver.Value) error {
	if len(rows) == 0 {
		return nil
	}
	a, err := app(table)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := a.AppendRow(row(&rows[i])...); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
	}
	return nil
}

// Quarantine marks the whole object as unusable (e.g. it could not be read),
// keeping whatever rows were appended out of the case file.
func (tx *ObjectTx) Quarantine(reason, detail string) {
	tx.reason, tx.detail = reason, detail
	tx.counts.Rejects++
	tx.counts.Status = StatusQuarantined
}

func appendEvent(a *duckdb.Appender, eventID, objectID int64, e *model.Event) error {
	var params any
	if e.Params != nil {
		ps := e.Params
		for i, p := range ps {
			if !utf8.ValidString(p) {
				if &ps[0] == &e.Params[0] {
					ps = append([]string(nil), e.Params...)
				}
				ps[i] = validUTF8(p)
			}
		}
		params = ps
	}
	return a.AppendRow(
		eventID, objectID, e.Source, nullStr(e.Cluster), nullStr(e.Instance), e.LogTime.UTC(),
		nullStr(e.SessionID), nullI64(e.StatementID), nullI64(e.SubstatementID), nullStr(e.AuditType),
		nullStr(e.Class), nullStr(e.Command), nullStr(e.ObjectType), nullStr(e.ObjectName), nullStr(e.Statement),
		params, nullI64(e.RowCount), nullStr(e.DatabaseName), nullStr(e.UserName), nullStr(e.ApplicationName),
		nullStr(e.RemoteHost), nullI32(e.RemotePort), nullI32(e.PID), nullStr(e.ErrorMessage), nullI32(e.ExitCode),
		validUTF8(e.Ref()), e.Internal, nil, // raw: in raw_blocks
	)
}

// Commit closes the appenders, records the object row with its hash-chain link
// and commits. sha is the hex SHA-256 of the object's bytes as read.
func (tx *ObjectTx) Commit(sha string) (ObjectRecord, error) {
	defer tx.s.timeWrite(time.Now())
	if tx.done {
		return ObjectRecord{}, errors.New("commit of a finished object transaction")
	}
	defer tx.finish()
	if tx.useFeed {
		w := tx.fw()
		if tx.counts.Status != StatusQuarantined {
			if err := tx.queueRaw(w); err != nil {
				tx.rollback()
				return ObjectRecord{}, fmt.Errorf("write %s: %w", tx.meta.URI, err)
			}
		} else {
			tx.raw.buf, tx.raw.n = tx.raw.buf[:0], 0
		}
		// A group's objects rows wait with its other rows; the rest needs
		// the connection now.
		if tx.group == nil || tx.counts.Status == StatusQuarantined {
			if err := w.end(tx.conn); err != nil {
				tx.rollback()
				return ObjectRecord{}, fmt.Errorf("write %s: %w", tx.meta.URI, err)
			}
		}
	}
	if tx.counts.Status != StatusQuarantined && tx.raw.n > 0 {
		if err := tx.conn.Raw(func(dc any) error { return tx.flushRaw(dc.(driver.Conn)) }); err != nil {
			tx.rollback()
			return ObjectRecord{}, fmt.Errorf("write %s: %w", tx.meta.URI, err)
		}
	}
	if err := tx.closeAppenders(); err != nil {
		tx.rollback()
		return ObjectRecord{}, fmt.Errorf("write %s: %w", tx.meta.URI, err)
	}
	rec := tx.counts
	rec.ObjectID = tx.id
	rec.SHA256 = sha
	rec.Reason = tx.reason
	rec.Detail = tx.detail
	if rec.Status == StatusQuarantined {
		// A quarantined object keeps no rows: drop whatever was appended.
		for _, t := range []string{"events", "heartbeats", "server_messages", "raw_blocks"} {
			if _, err := tx.conn.ExecContext(tx.ctx, "DELETE FROM "+t+" WHERE object_id = ?", tx.id); err != nil {
				tx.rollback()
				return ObjectRecord{}, fmt.Errorf("quarantine %s: %w", tx.meta.URI, err)
			}
		}
		rec.Events, rec.Heartbeats, rec.Messages = 0, 0, 0
	} else {
		switch {
		case rec.Rejects == 0:
			rec.Status = StatusOK
		case rec.Events+rec.Heartbeats+rec.Messages > 0:
			rec.Status = StatusPartial
		default:
			rec.Status = StatusQuarantined
		}
	}
	prev := tx.s.ids.lastChain
	rec.ChainHash = ChainLink(prev, tx.meta.URI, sha, rec.Events, rec.Heartbeats)
	var lastMod any
	if !tx.meta.LastModified.IsZero() {
		lastMod = tx.meta.LastModified.UTC()
	}
	_, err := tx.execInsertObject(
		tx.id, tx.meta.Source, tx.meta.URI, tx.meta.Key, nullStr(tx.meta.ETag), nullStr(tx.meta.VersionID), tx.meta.Size,
		lastMod, sha, rec.Status, nullStr(tx.reason), nullStr(tx.detail), nullStr(tx.meta.Format),
		rec.Events, rec.Heartbeats, rec.Messages, rec.Rejects, tx.meta.NewVersion, nullRun(tx.meta.RunID), nullStr(prev), rec.ChainHash)
	if err != nil {
		tx.rollback()
		return ObjectRecord{}, fmt.Errorf("record object %s: %w", tx.meta.URI, err)
	}
	if tx.group == nil {
		if _, err := tx.conn.ExecContext(tx.ctx, "COMMIT"); err != nil {
			tx.rollback()
			return ObjectRecord{}, fmt.Errorf("commit object %s: %w", tx.meta.URI, err)
		}
		tx.s.commits.Add(1)
	}
	// In a group these advance now and are reset if the group rolls back.
	tx.s.ids.nextObject++
	tx.s.ids.lastChain = rec.ChainHash
	return rec, nil
}

const insertObjectSQL = `INSERT INTO objects (object_id, source, uri, object_key, etag, version_id, size,
	last_modified, sha256, status, reason, detail, format, event_count, heartbeat_count, message_count, reject_count,
	new_version, run_id, ingested_at, prev_hash, chain_hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?)`

// execInsertObject records the objects row; a group prepares it once for all
// its objects. With the feed, a group's row waits for the running INSERT.
func (tx *ObjectTx) execInsertObject(args ...any) (sql.Result, error) {
	if g := tx.group; g != nil && tx.useFeed {
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		return driver.RowsAffected(1), g.feed.later(g.conn, 1000, func(dc driver.Conn) error {
			_, err := dc.(driver.ExecerContext).ExecContext(g.ctx, insertObjectSQL, nv)
			return err
		})
	}
	if g := tx.group; g != nil {
		if g.insertObject == nil {
			st, err := g.conn.PrepareContext(g.ctx, insertObjectSQL)
			if err != nil {
				return nil, err
			}
			g.insertObject = st
		}
		return g.insertObject.ExecContext(tx.ctx, args...)
	}
	return tx.conn.ExecContext(tx.ctx, insertObjectSQL, args...)
}

// Rollback abandons the object: none of its rows stay.
func (tx *ObjectTx) Rollback() {
	if tx.done {
		return
	}
	_ = tx.closeAppenders()
	tx.rollback()
	tx.finish()
}

func (tx *ObjectTx) rollback() {
	if tx.group != nil {
		tx.group.fail()
		return
	}
	tx.feed.abort()
	_, _ = tx.conn.ExecContext(context.Background(), "ROLLBACK")
	// Ids handed out inside the transaction are not reused after a rollback;
	// reload them so the next object starts from what is on disk.
	tx.s.ids = nil
}

func (tx *ObjectTx) closeAppenders() error {
	var first error
	if tx.events != nil {
		if err := tx.events.Close(); err != nil {
			first = fmt.Errorf("flush events: %w", err)
		}
		tx.events = nil
	}
	for t, a := range tx.apps {
		if err := a.Close(); err != nil && first == nil {
			first = fmt.Errorf("flush %s: %w", t, err)
		}
		delete(tx.apps, t)
	}
	return first
}

func (tx *ObjectTx) finish() {
	tx.done = true
	if tx.group != nil {
		return // the group owns the connection and the writer lock
	}
	_ = tx.conn.Close()
	tx.s.writeMu.Unlock()
}

// bigBytes is the size of b's values that DuckDB keeps in blocks of their
// own (raw records are stored in small parts and do not count).
func bigBytes(b *model.Batch) int64 {
	var n int64
	add := func(s string) {
		if len(s) >= bigValueBytes {
			n += int64(len(s))
		}
	}
	for i := range b.Events {
		e := &b.Events[i]
		add(e.Statement)
		add(e.ObjectName)
		add(e.ErrorMessage)
		add(e.ApplicationName)
		add(e.UserName)
		add(e.DatabaseName)
		for _, p := range e.Params {
			add(p)
		}
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		add(m.Message)
		add(m.Detail)
		add(m.Statement)
	}
	return n
}

func (s *Store) timeWrite(start time.Time) { s.writeNs.Add(int64(time.Since(start))) }

// Group writes several whole objects in one transaction. Small objects cost
// mostly their commit (a WAL write and sync each); grouping them keeps the
// all-or-nothing promise per object, since the group commits or rolls back
// as a whole, at a fraction of the cost.
type Group struct {
	s       *Store
	ctx     context.Context
	conn    *sql.Conn
	objects int
	failed  bool
	done    bool

	insertObject *sql.Stmt // prepared on conn by the first object
	useFeed      bool      // see ObjectTx.useFeed
	feed         txFeed
}

// BeginGroup takes the store's single writer and starts a transaction that
// objects join with Object.
func (s *Store) BeginGroup(ctx context.Context) (*Group, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	s.writeMu.Lock()
	if err := s.loadIDs(ctx); err != nil {
		s.writeMu.Unlock()
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.writeMu.Unlock()
		return nil, fmt.Errorf("begin object group: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		_ = conn.Close()
		s.writeMu.Unlock()
		return nil, fmt.Errorf("begin object group: %w", err)
	}
	return &Group{s: s, ctx: ctx, conn: conn, useFeed: s.feedOn.Load()}, nil
}

// Object starts one object inside the group. Commit it (or Rollback, which
// abandons the whole group) before starting the next one.
func (g *Group) Object(meta ObjectMeta) *ObjectTx {
	g.objects++
	return &ObjectTx{s: g.s, ctx: g.ctx, conn: g.conn, meta: meta, id: g.s.ids.nextObject,
		apps: map[string]*duckdb.Appender{}, group: g, useFeed: g.useFeed}
}

func (g *Group) fail() {
	if g.failed {
		return
	}
	g.failed = true
	g.feed.abort()
	_, _ = g.conn.ExecContext(context.Background(), "ROLLBACK")
	g.s.ids = nil
}

// Commit makes every object of the group visible at once.
func (g *Group) Commit() error {
	defer g.s.timeWrite(time.Now())
	if g.done {
		return errors.New("commit of a finished object group")
	}
	defer g.release()
	if g.failed {
		return errors.New("object group was rolled back")
	}
	if err := g.feed.end(g.conn); err != nil {
		g.fail()
		return fmt.Errorf("commit %d objects: %w", g.objects, err)
	}
	if _, err := g.conn.ExecContext(g.ctx, "COMMIT"); err != nil {
		g.fail()
		return fmt.Errorf("commit %d objects: %w", g.objects, err)
	}
	g.s.commits.Add(1)
	return nil
}

// Rollback abandons every object of the group.
func (g *Group) Rollback() {
	if g.done {
		return
	}
	g.fail()
	g.release()
}

func (g *Group) release() {
	g.done = true
	if g.insertObject != nil {
		_ = g.insertObject.Close()
	}
	_ = g.conn.Close()
	g.s.writeMu.Unlock()
}

// ChainLink computes one link of the object hash chain: it covers the previous
// link, the object's URI and content hash, and how many rows it gave.
func ChainLink(prev, uri, sha string, events, heartbeats int64) string {
	h := sha256.New()
	for _, part := range []string{prev, uri, sha, strconv.FormatInt(events, 10), strconv.FormatInt(heartbeats, 10)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return validUTF8(s)
}

// validUTF8 replaces invalid byte sequences: DuckDB stores only valid UTF-8
// and would drop the value. The object's SHA-256 keeps the original provable.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func nullI64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullI32(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullRun(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// SetFormat records the format the decoder detected (known only after decoding).
func (tx *ObjectTx) SetFormat(format string) { tx.meta.Format = format }

// othersBytes is about how much memory rows waiting for the feed hold.
func othersBytes(hbs []model.Heartbeat, msgs []model.ServerMessage, rejs []model.Reject) int {
	n := len(hbs)*int(unsafe.Sizeof(model.Heartbeat{})) + len(msgs)*int(unsafe.Sizeof(model.ServerMessage{})) +
		len(rejs)*int(unsafe.Sizeof(model.Reject{}))
	for i := range msgs {
		m := &msgs[i]
		// The strings a message shares with its batch's other rows (cluster,
		// user, …) are not counted.
		n += len(m.Message) + len(m.Detail) + len(m.Statement) + len(m.ObjectRef)
	}
	for i := range rejs {
		n += len(rejs[i].Reason) + len(rejs[i].Detail)
	}
	return n
}
