package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/auditlens/auditlens/store/model"
)

// The parallel insert feed.
//
// DuckDB's appender compresses on the one thread that appends: a sync spent
// ~5 µs per event there, on one core, while decoding took less than half of
// that. An INSERT … SELECT, by contrast, runs on all of DuckDB's threads, each
// building and compressing its own row groups. The feed is a table function
// whose rows are the batches the writer hands it: while a transaction writes
// events, one INSERT INTO events SELECT * FROM auditlens_events_feed(id) runs
// on its connection, and DuckDB's threads fill their chunks straight from the
// batches (the same chunk writer as the appender's). Append still returns
// only once its batch is copied into DuckDB's chunks, so callers may reuse it.
//
// The connection is busy while the INSERT runs, so the transaction's other
// rows (raw blocks, heartbeats, server messages, rejects, objects rows) wait
// (raw blocks in a spool file, the rest in memory) and are written when it
// ends: at commit, after segmentRows events, or once maxPendingBytes wait in
// memory. Batches smaller than feedMinBatch (DAS objects) end a running
// INSERT and go through the appender.
//
// The feed needs DuckDB to insert in parallel, which it does only when
// insertion order need not be kept; TuneForBulkWrites turns the feed on with
// that setting, for commands that only write. Measured on 2 cores: 10 M
// synthetic events appended at 220–230 k/s (the appender: ~100 k/s), a 1 GB
// pgAudit log ingested at 161–262 k records/s (the appender: 150–214 k).

const feedFunction = "auditlens_events_feed"

// segmentRows: an INSERT ends after this many events (16 row groups) so
// that the rows waiting for it stay small; each DuckDB thread writes its full
// row groups straight to the file. A variable for tests.
var segmentRows = 16 * 122_880

// GroupRows is how many events a group of objects should reach before it
// commits. With the feed, every commit leaves each DuckDB thread's last row
// group part-filled, and DuckDB's checkpoint rewrites runs of such row groups:
// 2 M events committed every 300 k spent 5.5 s in the closing checkpoint
// (half the file rewritten), every 500 k or 1 M none. Without the feed, a
// full row group (about 120 k events) is what matters.
func (s *Store) GroupRows() int {
	if s.BulkWrites() {
		return 1_000_000
	}
	return 250_000
}

// BulkWrites reports whether TuneForBulkWrites is in effect (with the feed).
func (s *Store) BulkWrites() bool { return s.feedOn.Load() }

// feedMinBatch: smaller batches go through the appender (see ObjectTx.Append).
const feedMinBatch = 2048

// maxPendingBytes ends an INSERT early when the rows waiting for it in memory
// grow (many server messages). Raw blocks wait on disk (rawSpool). 8 MB
// rather than 16: a 1 GB pgAudit log peaked a few MB lower, at the same speed.
const maxPendingBytes = 8 << 20

var (
	feedsMu sync.Mutex
	feeds   = map[int64]*eventFeed{}
	feedSeq atomic.Int64
)

// chunkHandleOK reports whether duckdb.DataChunk starts with its C chunk, as
// in the duckdb-go version this was written against; if not, no feed.
var chunkHandleOK = startsWith[duckdb.DataChunk, mapping.DataChunk]()

// registerFeed registers the feed's table function on the case file's
// database, once per Store. It reports false when the feed cannot be used
// (another duckdb-go layout, or an events table this binary does not write).
func (s *Store) registerFeed(ctx context.Context) bool {
	if !chunkHandleOK || !connHandleOK {
		return false
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false
	}
	defer conn.Close()
	ok := false
	_ = conn.Raw(func(dc any) error {
		// The events table must be the one the chunk writer fills.
		a, err := newEventAppender(dc.(driver.Conn))
		if err == nil {
			a.destroy()
			ok = true
		}
		return nil
	})
	if !ok {
		return false
	}
	cols, err := feedColumns()
	if err != nil {
		return false
	}
	bigint, err := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	if err != nil {
		return false
	}
	f := duckdb.ParallelChunkTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{bigint}},
		BindArguments: func(_ map[string]any, args ...any) (duckdb.ParallelChunkTableSource, error) {
			id, _ := args[0].(int64)
			feedsMu.Lock()
			f := feeds[id]
			feedsMu.Unlock()
			if f == nil {
				return nil, fmt.Errorf("%s(%d): no such feed", feedFunction, id)
			}
			f.cols = cols
			return f, nil
		},
	}
	return duckdb.RegisterTableUDF(conn, feedFunction, f) == nil
}

// feedColumns are the events table's columns as the feed declares them.
func feedColumns() ([]duckdb.ColumnInfo, error) {
	names := [eventColumns]string{"event_id", "object_id", "source", "cluster", "instance", "log_time",
		"session_id", "statement_id", "substatement_id", "audit_type", "class", "command", "object_type",
		"object_name", "statement", "params", "row_count", "database_name", "user_name", "application_name",
		"remote_host", "remote_port", "pid", "error_message", "exit_code", "object_ref", "internal", "raw"}
	types := map[mapping.Type]duckdb.Type{
		mapping.TypeBigInt: duckdb.TYPE_BIGINT, mapping.TypeVarchar: duckdb.TYPE_VARCHAR,
		mapping.TypeTimestampTZ: duckdb.TYPE_TIMESTAMP_TZ, mapping.TypeInteger: duckdb.TYPE_INTEGER,
		mapping.TypeBoolean: duckdb.TYPE_BOOLEAN,
	}
	cols := make([]duckdb.ColumnInfo, eventColumns)
	for i, t := range eventColumnTypes {
		var ti duckdb.TypeInfo
		var err error
		if t == mapping.TypeList {
			var child duckdb.TypeInfo
			if child, err = duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR); err == nil {
				ti, err = duckdb.NewListInfo(child)
			}
		} else {
			ti, err = duckdb.NewTypeInfo(types[t])
		}
		if err != nil {
			return nil, err
		}
		cols[i] = duckdb.ColumnInfo{Name: names[i], T: ti}
	}
	return cols, nil
}

// eventFeed hands the writer's batches to DuckDB's threads. One batch is
// offered at a time; threads claim up to a chunk of its rows each.
type eventFeed struct {
	cols    []duckdb.ColumnInfo
	threads int

	mu      sync.Mutex
	cond    sync.Cond
	batch   []model.Event
	firstID int64 // event id of batch[0]
	object  int64
	next    int   // first row not yet claimed
	done    int   // rows copied into chunks
	filling int   // chunks being filled
	closed  bool  // no more batches
	err     error // the INSERT ended early, or the writer gave up
	locals  []*feedLocal
}

type feedLocal struct {
	w       chunkWriter
	checked bool
}

func (f *eventFeed) ColumnInfos() []duckdb.ColumnInfo     { return f.cols }
func (f *eventFeed) Cardinality() *duckdb.CardinalityInfo { return nil }

func (f *eventFeed) Init() duckdb.ParallelTableSourceInfo {
	return duckdb.ParallelTableSourceInfo{MaxThreads: f.threads}
}

func (f *eventFeed) NewLocalState() any {
	l := &feedLocal{}
	f.mu.Lock()
	f.locals = append(f.locals, l)
	f.mu.Unlock()
	return l
}

// FillChunk runs on DuckDB's threads: it claims rows of the offered batch,
// waiting for one if needed, and writes them into the output chunk.
func (f *eventFeed) FillChunk(ls any, dc duckdb.DataChunk) error {
	l := ls.(*feedLocal)
	out := *(*mapping.DataChunk)(unsafe.Pointer(&dc))
	w := &l.w
	// The previous chunk of this thread has been consumed by now.
	w.arenas.reset()
	w.params = w.params[:0]
	if !l.checked {
		if int(mapping.DataChunkGetColumnCount(out)) != eventColumns {
			return errors.New("events feed: unexpected projection")
		}
		l.checked = true
	}
	w.chunk = out
	w.cap = int(mapping.VectorSize())
	w.prepare()
	// Fill the chunk up, across batches if need be: DuckDB stores small
	// chunks wastefully (a group of 500-event DAS objects needed twice the
	// memory when each object made its own chunk).
	f.mu.Lock()
	for w.rows < w.cap {
		if f.err != nil {
			err := f.err
			f.mu.Unlock()
			return err
		}
		if f.batch == nil || f.next == len(f.batch) {
			if f.closed {
				break
			}
			f.cond.Wait()
			continue
		}
		start := f.next
		n := min(w.cap-w.rows, len(f.batch)-start)
		f.next += n
		f.filling++
		evs, first, object := f.batch[start:start+n], f.firstID+int64(start), f.object
		f.mu.Unlock()
		for i := range evs {
			w.putEvent(first+int64(i), object, &evs[i])
		}
		f.mu.Lock()
		f.filling--
		f.done += n
		if f.done == len(f.batch) || f.filling == 0 {
			f.cond.Broadcast()
		}
	}
	f.mu.Unlock()
	return w.finish()
}

// put offers a batch and returns once every row is copied into DuckDB's
// chunks (or the INSERT failed).
func (f *eventFeed) put(evs []model.Event, firstID, object int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.batch, f.firstID, f.object, f.next, f.done = evs, firstID, object, 0, 0
	f.cond.Broadcast()
	for (f.done < len(evs) && f.err == nil) || f.filling > 0 {
		f.cond.Wait()
	}
	f.batch = nil
	return f.err
}

// close ends the INSERT once the offered rows are taken.
func (f *eventFeed) close() {
	f.mu.Lock()
	f.closed = true
	f.cond.Broadcast()
	f.mu.Unlock()
}

// fail ends the feed with err (the first error stays).
func (f *eventFeed) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.cond.Broadcast()
	f.mu.Unlock()
}

// insertRun is one INSERT … SELECT FROM the feed, running on a goroutine.
type insertRun struct {
	feed *eventFeed
	done chan error
	rows int
	stop func() bool
}

func (s *Store) startInsert(ctx context.Context, conn *sql.Conn) (*insertRun, error) {
	// Bulk writes keep DuckDB at one thread; the INSERT gets them all.
	if _, err := s.db.ExecContext(ctx, "SET threads = "+strconv.Itoa(s.feedThreads)); err != nil {
		return nil, err
	}
	f := &eventFeed{threads: s.feedThreads}
	f.cond.L = &f.mu
	id := feedSeq.Add(1)
	feedsMu.Lock()
	feeds[id] = f
	feedsMu.Unlock()
	r := &insertRun{feed: f, done: make(chan error, 1)}
	r.stop = context.AfterFunc(ctx, func() { f.fail(ctx.Err()) })
	go func() {
		_, err := conn.ExecContext(ctx, "INSERT INTO events SELECT * FROM "+feedFunction+"("+strconv.FormatInt(id, 10)+")")
		if err == nil {
			err = f.err // a writer that gave up
		} else {
			f.fail(err)
		}
		feedsMu.Lock()
		delete(feeds, id)
		feedsMu.Unlock()
		f.mu.Lock()
		for _, l := range f.locals {
			l.w.arenas.release()
		}
		f.mu.Unlock()
		if _, serr := s.db.ExecContext(context.WithoutCancel(ctx), "SET threads = 1"); err == nil {
			err = serr
		}
		r.done <- err
	}()
	return r, nil
}

// finish ends the INSERT and waits for it.
func (r *insertRun) finish() error {
	r.feed.close()
	err := <-r.done
	r.stop()
	return err
}

// abort ends the INSERT with an error and waits for it.
func (r *insertRun) abort() {
	r.feed.fail(errors.New("object transaction abandoned"))
	if err := <-r.done; err != nil {
		slog.Debug("abandoned insert ended", "err", err) // expected: the feed failed it
	}
	r.stop()
}

// txFeed is a transaction's use of the feed: the running INSERT, if any, and
// the writes that wait for it to end. A group's objects share one.
type txFeed struct {
	run     *insertRun
	pending []func(driver.Conn) error
	bytes   int
	apps    map[string]*duckdb.Appender
	spool   *rawSpool // where waiting raw blocks are, once one waited
}

// later runs op on the connection now if no INSERT runs, or once it ends.
func (w *txFeed) later(conn *sql.Conn, size int, op func(driver.Conn) error) error {
	if w.run == nil {
		return conn.Raw(func(dc any) error { return op(dc.(driver.Conn)) })
	}
	w.pending = append(w.pending, op)
	w.bytes += size
	return nil
}

// laterBlock writes one raw block of object id (see later). While an INSERT
// runs, the block waits in sp, or in memory when sp is nil (an encrypted case
// file); data may be reused on return.
func (w *txFeed) laterBlock(conn *sql.Conn, sp *rawSpool, id, first int64, n int, data []byte) error {
	write := func(dc driver.Conn, data []byte) error {
		a, err := w.appender(dc, "raw_blocks")
		if err != nil {
			return err
		}
		return appendBlock(a, id, first, n, data)
	}
	if w.run != nil && sp != nil {
		off, err := sp.put(data)
		if err != nil {
			return err
		}
		w.spool = sp
		size := len(data)
		// Only the closure waits in memory.
		return w.later(conn, 64, func(dc driver.Conn) error {
			data, err := sp.get(off, size)
			if err != nil {
				return err
			}
			return write(dc, data)
		})
	}
	if w.run != nil {
		data = bytes.Clone(data) // waits in memory
	}
	return w.later(conn, len(data), func(dc driver.Conn) error { return write(dc, data) })
}

// dropSpool forgets what was spooled: written, or abandoned.
func (w *txFeed) dropSpool() {
	if w.spool != nil {
		w.spool.reset()
		w.spool = nil
	}
}

func (w *txFeed) appender(dc driver.Conn, table string) (*duckdb.Appender, error) {
	if w.apps == nil {
		w.apps = map[string]*duckdb.Appender{}
	}
	return appenderIn(w.apps, dc, table)
}

// end finishes the running INSERT, then writes what waited for it.
func (w *txFeed) end(conn *sql.Conn) error {
	if w.run != nil {
		err := w.run.finish()
		w.run = nil
		if err != nil {
			w.pending, w.bytes = nil, 0
			w.dropSpool()
			_ = w.closeAppenders() // the transaction failed: nothing to keep
			return fmt.Errorf("insert events: %w", err)
		}
	}
	if len(w.pending) == 0 && len(w.apps) == 0 {
		return nil
	}
	err := conn.Raw(func(dc any) error {
		for _, op := range w.pending {
			if err := op(dc.(driver.Conn)); err != nil {
				return err
			}
		}
		return nil
	})
	w.pending, w.bytes = nil, 0
	w.dropSpool()
	if cerr := w.closeAppenders(); err == nil {
		err = cerr
	}
	return err
}

// abort stops the running INSERT and drops what waited for it.
func (w *txFeed) abort() {
	if w.run != nil {
		w.run.abort()
		w.run = nil
	}
	w.pending, w.bytes = nil, 0
	w.dropSpool()
	for t, a := range w.apps {
		_ = a.Close()
		delete(w.apps, t)
	}
}

func (w *txFeed) closeAppenders() error {
	var first error
	for t, a := range w.apps {
		if err := a.Close(); err != nil && first == nil {
			first = fmt.Errorf("flush %s: %w", t, err)
		}
		delete(w.apps, t)
	}
	return first
}
