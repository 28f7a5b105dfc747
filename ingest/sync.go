package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/model"
)

// Job is one source to sync: where its objects are and how to decode them.
type Job struct {
	Name    string // source name, recorded with every object
	Source  source.Source
	Decoder Decoder
	// Only, when set, restricts the job to these objects (used by `ingest` for
	// explicit files). Listing is skipped.
	Only []source.Object
}

// Options tune a run.
type Options struct {
	Workers int // concurrent downloads+decodes; default 4 × GOMAXPROCS
	Since   time.Time
	Until   time.Time
	// Progress, when set, is called at most every ProgressEvery (default 200 ms)
	// and once more at the end with Done set.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Command names the run in sync_runs (sync | ingest | demo).
	Command string
	// BufferRows is how many rows a worker decodes before it takes the writer;
	// smaller objects are decoded fully in parallel and written in one go.
	BufferRows int
}

// Progress is a snapshot of a run.
type Progress struct {
	Source         string // the source being listed or worked on ("" when several)
	Phase          string // listing | syncing | done
	ObjectsTotal   int64  // objects to ingest (known after listing)
	ObjectsDone    int64
	ObjectsSkipped int64
	Quarantined    int64
	Failed         int64
	BytesTotal     int64
	Bytes          int64
	Events         int64 // committed: in the case file
	// Decoded counts events read so far, committed or not: a large object
	// commits only at its end, all of it or nothing.
	Decoded int64
	Rejects int64
	Elapsed time.Duration
	Done    bool
}

// Rate is events per second so far: decoded while the run goes on,
// committed once it is done.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	n := p.Events
	if !p.Done {
		n = max(n, p.Decoded)
	}
	return float64(n) / p.Elapsed.Seconds()
}

// ETA estimates the time left from bytes done.
func (p Progress) ETA() time.Duration {
	if p.Bytes <= 0 || p.BytesTotal <= p.Bytes {
		return 0
	}
	return time.Duration(float64(p.Elapsed) * float64(p.BytesTotal-p.Bytes) / float64(p.Bytes))
}

// SourceSummary is the outcome of one source in a run.
type SourceSummary struct {
	Name        string
	Kind        string
	Listed      int64
	New         int64 // objects written (ok, partial or quarantined)
	NewVersions int64 // of which: a key seen before with another ETag
	Skipped     int64 // already in the case file
	Partial     int64 // some records rejected
	Quarantined int64 // nothing usable
	Failed      int64 // could not be read; not recorded, retried next run
	Events      int64
	Heartbeats  int64
	Rejects     int64
	Bytes       int64
	Elapsed     time.Duration
	Problems    []Problem
}

// Problem is one object that was quarantined, partly rejected or not read.
type Problem struct {
	URI    string
	Status string // partial | quarantined | failed
	Reason string
	Detail string
}

// Summary is the outcome of a run.
type Summary struct {
	RunID   int64
	Sources []*SourceSummary
	Elapsed time.Duration
}

// Clean reports whether nothing was lost, rejected or quarantined.
func (s Summary) Clean() bool {
	for _, ss := range s.Sources {
		if ss.Partial+ss.Quarantined+ss.Failed+ss.Rejects > 0 {
			return false
		}
	}
	return true
}

// Totals adds up the sources.
func (s Summary) Totals() SourceSummary {
	var t SourceSummary
	t.Name = "total"
	for _, ss := range s.Sources {
		t.Listed += ss.Listed
		t.New += ss.New
		t.NewVersions += ss.NewVersions
		t.Skipped += ss.Skipped
		t.Partial += ss.Partial
		t.Quarantined += ss.Quarantined
		t.Failed += ss.Failed
		t.Events += ss.Events
		t.Heartbeats += ss.Heartbeats
		t.Rejects += ss.Rejects
		t.Bytes += ss.Bytes
	}
	t.Elapsed = s.Elapsed
	return t
}

type work struct {
	job        *Job
	sum        *SourceSummary
	obj        source.Object
	newVersion bool
}

type runner struct {
	st      *store.Store
	decoded chan decodedObject
	opt     Options
	mu      sync.Mutex // guards summaries
	prog    struct {
		total, done, skipped, quar, failed, bytesTotal, bytes, events, decoded, rejects atomic.Int64
	}
	phase   atomic.Value
	started time.Time
}

// Run syncs the jobs into the store. It returns the summary even when it
// returns an error (ctx cancelled, store failure): committed objects stay.
func Run(ctx context.Context, st *store.Store, jobs []Job, opt Options) (Summary, error) {
	if opt.Workers <= 0 {
		opt.Workers = 4 * runtime.GOMAXPROCS(0)
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 200 * time.Millisecond
	}
	if opt.BufferRows <= 0 {
		opt.BufferRows = 50_000
	}
	if opt.Command == "" {
		opt.Command = "sync"
	}
	r := &runner{st: st, opt: opt, started: time.Now()}
	r.phase.Store("listing")
	sum := Summary{}
	runID, err := st.BeginRun(ctx, opt.Command)
	if err != nil {
		return sum, err
	}
	sum.RunID = runID

	stopProgress := r.startProgress()
	var queue []work
	for i := range jobs {
		j := &jobs[i]
		ss := &SourceSummary{Name: j.Name, Kind: j.Decoder.Kind()}
		sum.Sources = append(sum.Sources, ss)
		items, err := r.plan(ctx, j, ss)
		if err != nil {
			stopProgress()
			_ = st.FinishRun(context.WithoutCancel(ctx), runID, runStatus(ctx, err), runStats(sum), err)
			return sum, err
		}
		queue = append(queue, items...)
	}
	r.phase.Store("syncing")

	ch := make(chan work)
	var wg sync.WaitGroup
	var fatalOnce sync.Once
	var fatal error
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) { fatalOnce.Do(func() { fatal = err; cancel() }) }
	// The group writer commits decoded objects; it keeps going after Ctrl-C so
	// that every object already decoded is committed.
	r.decoded = make(chan decodedObject, 2*opt.Workers)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		if err := r.groupWriter(context.WithoutCancel(ctx)); err != nil {
			fail(err)
		}
	}()
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := r.ingestObject(wctx, runID, it); err != nil {
					fail(err)
				}
			}
		}()
	}
feed:
	for _, it := range queue {
		select {
		case ch <- it:
		case <-wctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	close(r.decoded)
	<-writerDone
	stopProgress()
	sum.Elapsed = time.Since(r.started)
	for _, ss := range sum.Sources {
		sort.Slice(ss.Problems, func(i, j int) bool { return ss.Problems[i].URI < ss.Problems[j].URI })
	}

	runErr := fatal
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	fctx := context.WithoutCancel(ctx)
	if runErr == nil {
		for _, j := range jobs {
			_ = st.MarkSynced(fctx, j.Name, time.Now())
		}
	}
	status := runStatus(ctx, runErr)
	if status == "ok" && !sum.Clean() {
		status = "partial"
	}
	if err := st.FinishRun(fctx, runID, status, runStats(sum), runErr); err != nil && runErr == nil {
		runErr = err
	}
	return sum, runErr
}

func runStatus(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return "ok"
	case ctx.Err() != nil:
		return "interrupted"
	default:
		return "failed"
	}
}

func runStats(s Summary) store.RunStats {
	t := s.Totals()
	return store.RunStats{ObjectsNew: t.New, ObjectsSkipped: t.Skipped, ObjectsQuarantined: t.Quarantined,
		Events: t.Events, Rejects: t.Rejects}
}

// plan lists a job's objects and keeps those not yet in the case file.
func (r *runner) plan(ctx context.Context, j *Job, ss *SourceSummary) ([]work, error) {
	known, err := r.st.KnownObjects(ctx, j.Name)
	if err != nil {
		return nil, err
	}
	var out []work
	consider := func(o source.Object) error {
		ss.Listed++
		versions := known[o.URI]
		for _, k := range versions {
			if k.ETag == o.ETag && (o.VersionID == "" || k.VersionID == "" || k.VersionID == o.VersionID) {
				ss.Skipped++
				r.prog.skipped.Add(1)
				return nil
			}
		}
		out = append(out, work{job: j, sum: ss, obj: o, newVersion: len(versions) > 0})
		r.prog.total.Add(1)
		r.prog.bytesTotal.Add(o.Size)
		return nil
	}
	if j.Only != nil {
		for _, o := range j.Only {
			if err := consider(o); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	err = j.Source.List(ctx, source.ListOptions{Since: r.opt.Since, Until: r.opt.Until}, consider)
	if err != nil {
		return nil, fmt.Errorf("list %s (%s): %w", j.Name, j.Source, err)
	}
	return out, nil
}

// ingestObject downloads, decodes and writes one object. It returns an error
// only for failures that must stop the run (the store failing, ctx); a bad or
// unreadable object is recorded in the summary and the run goes on.
func (r *runner) ingestObject(ctx context.Context, runID int64, it work) error {
	if ctx.Err() != nil {
		return nil
	}
	obj := it.obj
	ref := obj.URI
	if it.newVersion {
		// Rows of a changed object must not collide with the earlier version's refs.
		ref = obj.URI + "@" + obj.ETag
	}
	meta := store.ObjectMeta{Source: it.job.Name, URI: obj.URI, Key: obj.Key, ETag: obj.ETag, VersionID: obj.VersionID,
		Size: obj.Size, LastModified: obj.LastModified, RunID: runID, NewVersion: it.newVersion}

	rc, err := it.job.Source.Open(ctx, obj)
	if err != nil {
		return r.readFailed(ctx, it, err)
	}
	defer rc.Close()
	hr := &hashingReader{r: rc, h: sha256.New(), onRead: func(n int) { r.prog.bytes.Add(int64(n)) }}

	w := &objectWriter{ctx: ctx, st: r.st, meta: meta, limit: r.opt.BufferRows, decoded: &r.prog.decoded}
	if obj.Size >= streamFromStart {
		w.limit = 0 // surely more rows than a buffer: stream from the first batch
	}
	ds, decErr := it.job.Decoder.Decode(ctx, ref, obj, hr, w.emit)
	if decErr == nil {
		// Hash the whole object even if the decoder stopped early.
		_, decErr = io.Copy(io.Discard, hr)
	}
	if decErr == nil && obj.Size > 0 && hr.n != obj.Size {
		decErr = fmt.Errorf("read %d of %d bytes: %w", hr.n, obj.Size, io.ErrUnexpectedEOF)
	}
	if decErr != nil {
		w.rollback()
		if w.storeErr != nil {
			return w.storeErr
		}
		return r.readFailed(ctx, it, decErr)
	}
	w.meta.Format = ds.Format
	sha := hex.EncodeToString(hr.h.Sum(nil))
	if w.tx == nil {
		// Decoded whole in memory: the group writer commits it together with
		// other small objects. Its raw records are compressed here, on the
		// decoding goroutine.
		if err := store.PackRaw(&w.buf); err != nil {
			return err
		}
		select {
		case r.decoded <- decodedObject{it: it, meta: w.meta, rows: w.buf, sha: sha}:
			return nil
		case <-ctx.Done():
			return nil // interrupted before it was handed over: not committed, re-read next run
		}
	}
	rec, err := w.commit(sha)
	if err != nil {
		return err
	}
	r.account(it, rec)
	return nil
}

// decodedObject is an object decoded whole, waiting for the group writer.
type decodedObject struct {
	it   work
	meta store.ObjectMeta
	rows model.Batch
	sha  string
}

// streamFromStart is the object size from which an object streams into its
// own transaction from its first batch instead of being buffered first: the
// writer starts at once rather than after BufferRows rows.
const streamFromStart = 16 << 20

// Group limits: a group commits when it holds this many objects or rows, when
// it has been open for groupMaxAge, or when no further object arrives within
// groupWait. Large groups are cheaper per row: once a transaction holds a full
// row group (about 120 k rows), DuckDB compresses it straight into the file
// instead of logging the rows to the WAL and compressing them again at the
// next checkpoint. groupMaxAge bounds how long synced objects stay invisible
// to a query running next to the sync, and what a group of small objects
// holds (10 s let a sync of 10,000 small objects peak at 480 MB RSS instead
// of 187 MB); a bulk sync (the command line, where nothing queries) has its
// own row count (store.GroupRows).
const (
	groupObjects = 1024
	groupWait    = 20 * time.Millisecond
	groupMaxAge  = 2 * time.Second
)

// groupWriter commits decoded objects in groups, one transaction each: every
// object is still all in or not at all (the group commits or rolls back as a
// whole), and small objects no longer pay a commit each. Each object is
// appended as soon as it arrives, so DuckDB's work overlaps the decoding of
// the next ones.
func (r *runner) groupWriter(ctx context.Context) error {
	for first := range r.decoded {
		if err := r.writeGroup(ctx, first); err != nil {
			// Drain so workers never block on a writer that stopped.
			for range r.decoded {
			}
			return err
		}
	}
	return nil
}

// writeGroup writes first and the objects that follow it into one group.
func (r *runner) writeGroup(ctx context.Context, first decodedObject) error {
	g, err := r.st.BeginGroup(ctx)
	if err != nil {
		return err
	}
	var (
		written []decodedObject
		recs    []store.ObjectRecord
		rows    int
	)
	add := func(d decodedObject) error {
		tx := g.Object(d.meta)
		if d.rows.Len() > 0 {
			if err := tx.Append(&d.rows); err != nil {
				g.Rollback()
				return err
			}
		}
		tx.SetFormat(d.meta.Format)
		rec, err := tx.Commit(d.sha)
		if err != nil {
			g.Rollback()
			return err
		}
		rows += d.rows.Len()
		d.rows = model.Batch{} // the rows are in DuckDB now
		written = append(written, d)
		recs = append(recs, rec)
		return nil
	}
	if err := add(first); err != nil {
		return err
	}
	groupRows := r.st.GroupRows()
	deadline := time.Now().Add(groupMaxAge)
	idle := time.NewTimer(groupWait)
	defer idle.Stop()
collect:
	for len(written) < groupObjects && rows < groupRows && time.Now().Before(deadline) {
		select {
		case d, ok := <-r.decoded:
			if !ok {
				break collect
			}
			if err := add(d); err != nil {
				return err
			}
			idle.Reset(groupWait)
		case <-idle.C:
			break collect
		}
	}
	if err := g.Commit(); err != nil {
		return err
	}
	for i, d := range written {
		r.account(d.it, recs[i])
	}
	return nil
}

func (r *runner) readFailed(ctx context.Context, it work, err error) error {
	if ctx.Err() != nil {
		return nil // interrupted: not a problem of the object
	}
	slog.Warn("object not ingested", "uri", it.obj.URI, "err", err)
	r.prog.failed.Add(1)
	r.mu.Lock()
	it.sum.Failed++
	it.sum.Problems = append(it.sum.Problems, Problem{URI: it.obj.URI, Status: "failed", Reason: model.ReasonRead, Detail: err.Error()})
	r.mu.Unlock()
	return nil
}

func (r *runner) account(it work, rec store.ObjectRecord) {
	r.prog.done.Add(1)
	r.prog.events.Add(rec.Events)
	r.prog.rejects.Add(rec.Rejects)
	r.mu.Lock()
	defer r.mu.Unlock()
	ss := it.sum
	ss.New++
	if it.newVersion {
		ss.NewVersions++
	}
	ss.Events += rec.Events
	ss.Heartbeats += rec.Heartbeats
	ss.Rejects += rec.Rejects
	ss.Bytes += it.obj.Size
	switch rec.Status {
	case store.StatusPartial:
		ss.Partial++
		ss.Problems = append(ss.Problems, Problem{URI: it.obj.URI, Status: rec.Status, Reason: rec.Reason, Detail: rec.Detail})
	case store.StatusQuarantined:
		ss.Quarantined++
		r.prog.quar.Add(1)
		ss.Problems = append(ss.Problems, Problem{URI: it.obj.URI, Status: rec.Status, Reason: rec.Reason, Detail: rec.Detail})
	}
	ss.Elapsed = time.Since(r.started)
}

func (r *runner) snapshot(done bool) Progress {
	ph, _ := r.phase.Load().(string)
	if done {
		ph = "done"
	}
	return Progress{
		Phase: ph, ObjectsTotal: r.prog.total.Load(), ObjectsDone: r.prog.done.Load(),
		ObjectsSkipped: r.prog.skipped.Load(), Quarantined: r.prog.quar.Load(), Failed: r.prog.failed.Load(),
		BytesTotal: r.prog.bytesTotal.Load(), Bytes: r.prog.bytes.Load(), Events: r.prog.events.Load(),
		Decoded: r.prog.decoded.Load(),
		Rejects: r.prog.rejects.Load(), Elapsed: time.Since(r.started), Done: done,
	}
}

func (r *runner) startProgress() (stop func()) {
	if r.opt.Progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.opt.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.opt.Progress(r.snapshot(false))
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
			r.opt.Progress(r.snapshot(true))
		})
	}
}

// objectWriter buffers a decoded object in memory while it is small, so that
// decoding runs in parallel, and takes the store's single writer only to write.
// A large object starts its transaction early and streams the rest through a
// writer goroutine, so decoding and appending overlap on two cores.
type objectWriter struct {
	ctx      context.Context
	st       *store.Store
	meta     store.ObjectMeta
	limit    int
	buf      model.Batch
	tx       *store.ObjectTx
	storeErr error

	stream chan *model.Batch
	done   chan error
	free   chan *model.Batch // batches the writer goroutine has appended

	decoded *atomic.Int64 // Progress.Decoded
}

func (w *objectWriter) emit(b *model.Batch) error {
	if len(b.PackedRaw) > 0 {
		return errors.New("decoder emitted a batch with packed raw records") // packing is the pipeline's job
	}
	if w.decoded != nil {
		w.decoded.Add(int64(len(b.Events)))
	}
	if w.tx == nil && w.buf.Len()+b.Len() <= w.limit {
		w.buf.Events = append(w.buf.Events, b.Events...)
		w.buf.Heartbeats = append(w.buf.Heartbeats, b.Heartbeats...)
		w.buf.Messages = append(w.buf.Messages, b.Messages...)
		w.buf.Rejects = append(w.buf.Rejects, b.Rejects...)
		return nil
	}
	if err := w.begin(); err != nil {
		return err
	}
	// The decoder reuses b: hand the writer its own copy, in a batch the
	// writer has finished with when there is one (a large object's batches
	// are otherwise most of what the pipeline allocates).
	var cp *model.Batch
	select {
	case cp = <-w.free:
		cp.Reset()
	default:
		cp = &model.Batch{}
	}
	cp.Events = append(cp.Events, b.Events...)
	cp.Heartbeats = append(cp.Heartbeats, b.Heartbeats...)
	cp.Messages = append(cp.Messages, b.Messages...)
	cp.Rejects = append(cp.Rejects, b.Rejects...)
	// Compressing the raw records here keeps that work off the writer.
	if err := store.PackRaw(cp); err != nil {
		return err
	}
	select {
	case w.stream <- cp:
		return nil
	case err := <-w.done:
		// The writer stopped early: it failed.
		w.done = nil
		w.storeErr = err
		return err
	}
}

func (w *objectWriter) begin() error {
	if w.tx != nil {
		return nil
	}
	tx, err := w.st.BeginObject(w.ctx, w.meta)
	if err != nil {
		w.storeErr = err
		return err
	}
	w.tx = tx
	if w.buf.Len() > 0 {
		if err := tx.Append(&w.buf); err != nil {
			w.storeErr = err
			return err
		}
	}
	w.buf = model.Batch{}
	stream, done := make(chan *model.Batch, 2), make(chan error, 1)
	free := make(chan *model.Batch, cap(stream)+1)
	w.stream, w.done, w.free = stream, done, free
	go func() {
		var err error
		for b := range stream {
			if err == nil {
				err = tx.Append(b)
				if err != nil {
					done <- err
				}
			}
			select {
			case free <- b:
			default:
			}
		}
		if err == nil {
			done <- nil
		}
	}()
	return nil
}

// finishStream waits for the writer goroutine to append everything sent.
func (w *objectWriter) finishStream() error {
	if w.stream == nil {
		return nil
	}
	close(w.stream)
	w.stream = nil
	if w.done == nil {
		return w.storeErr
	}
	err := <-w.done
	w.done = nil
	if err != nil {
		w.storeErr = err
	}
	return err
}

func (w *objectWriter) commit(sha string) (store.ObjectRecord, error) {
	if err := w.begin(); err != nil {
		return store.ObjectRecord{}, err
	}
	if err := w.finishStream(); err != nil {
		w.tx.Rollback()
		return store.ObjectRecord{}, err
	}
	w.tx.SetFormat(w.meta.Format)
	return w.tx.Commit(sha)
}

func (w *objectWriter) rollback() {
	_ = w.finishStream()
	if w.tx != nil {
		w.tx.Rollback()
	}
}

type hashingReader struct {
	r      io.Reader
	h      hash.Hash
	n      int64
	onRead func(int)
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.h.Write(p[:n])
		h.n += int64(n)
		h.onRead(n)
	}
	return n, err
}

// ErrNothingToDo is returned by helpers when a run had no sources.
var ErrNothingToDo = errors.New("no sources to sync")
