// Package store owns the case file: one DuckDB database holding every ingested
// audit event, the objects they came from, sync runs, heartbeats, server
// messages and case notes. It applies embedded numbered migrations, writes
// objects atomically (an object is all in or not at all) and offers the typed,
// parameterised read API the explorer and the CLI share.
//
// store must not import Charm, AWS, tui or ingest packages; decoders hand it
// rows through the stdlib-only store/model package.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditlens/auditlens/store/model"
	"github.com/duckdb/duckdb-go/v2"
)

// Options control how a case file is opened.
type Options struct {
	// ReadOnly opens the file for forensic review: nothing can be written, and
	// other read-only processes may open it at the same time.
	ReadOnly bool
	// EncryptionKey opens (or creates) a case file encrypted with DuckDB's
	// AES-GCM encryption. Empty means unencrypted.
	EncryptionKey string
	// allowUnsafeCrypto lets tests write encrypted files without the httpfs
	// extension. It is unexported on purpose: no CLI flag can reach it.
	allowUnsafeCrypto bool
}

// Store is an open case file. It is safe for concurrent use; writes go through
// one Writer at a time.
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool
	schema   int // schema version of the case file as opened

	writeMu sync.Mutex // serialises object transactions and id allocation
	ids     *idState

	lockMu  sync.Mutex    // serialises the one-time session lock of user SQL
	commits atomic.Uint64 // bumped by every committed object; invalidates stats
	writeNs atomic.Int64  // time spent appending and committing (WriteTime)

	feedOK bool        // the parallel insert feed is registered (feed.go)
	feedOn atomic.Bool // new transactions write events through the feed
	// feedThreads is how many DuckDB threads the feed's INSERTs use (set
	// before feedOn).
	feedThreads int

	memLimit  atomic.Int64 // DuckDB memory limit this store set, in bytes (0: DuckDB's own)
	memRaised int64        // limit raised by roomFor (writeMu)
	bigSeen   int64        // bytes of large values written since the limit was set (writeMu)
	namesMu   sync.Mutex
	names     objectNameCache // distinct object names for text search (namesMu)
	statsMu   sync.Mutex
	stats     *timeStats
	spool     rawSpool // raw blocks waiting for the feed (writeMu)
	encrypted bool     // the case file is encrypted: nothing of it goes to disk in clear
}

// rawSpool is where raw blocks wait for a running INSERT: nil (memory) for
// an encrypted case file, whose records must not reach the disk in clear.
func (s *Store) rawSpool() *rawSpool {
	if s.encrypted {
		return nil
	}
	return &s.spool
}

// WriteTime is the time the writer has spent appending rows and committing
// them since the case file was opened: the "append" stage of a sync.
func (s *Store) WriteTime() time.Duration { return time.Duration(s.writeNs.Load()) }

// Path is the case file's path.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the case file was opened read-only.
func (s *Store) ReadOnly() bool { return s.readOnly }

// DB exposes the database handle for packages of this module that run their
// own read-only SQL (gaps, findings, export).
func (s *Store) DB() *sql.DB { return s.db }

// Open opens the case file at path, creating it (mode 0600) and applying
// migrations unless ReadOnly is set.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("no case file given: pass --db FILE or set db: in the config")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("case file %s: %w", path, err)
	}
	_, statErr := os.Stat(abs)
	exists := statErr == nil
	if opts.ReadOnly && !exists {
		return nil, fmt.Errorf("case file %s does not exist (read-only open cannot create it): %w", abs, ErrNotFound)
	}
	if !exists {
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, fmt.Errorf("create folder for case file %s: %w", abs, err)
		}
	}

	attach := "ATTACH IF NOT EXISTS " + quoteLiteral(abs) + " AS casefile"
	var attachOpts []string
	if opts.ReadOnly {
		attachOpts = append(attachOpts, "READ_ONLY")
	}
	if opts.EncryptionKey != "" {
		attachOpts = append(attachOpts, "ENCRYPTION_KEY "+quoteLiteral(opts.EncryptionKey))
	}
	if !exists && opts.EncryptionKey == "" {
		// An encrypted file gets the (newer) version encryption needs.
		attachOpts = append(attachOpts, "STORAGE_VERSION "+quoteLiteral(caseFileStorage))
	}
	if len(attachOpts) > 0 {
		attach += " (" + strings.Join(attachOpts, ", ") + ")"
	}
	prep := []string{}
	if opts.EncryptionKey != "" && !opts.ReadOnly {
		if opts.allowUnsafeCrypto {
			prep = append(prep, "SET force_mbedtls_unsafe = 'true'")
		} else {
			prep = append(prep, "LOAD httpfs")
		}
	}
	connector, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		for _, q := range prep {
			if _, err := ex.ExecContext(ctx, q, nil); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		if _, err := ex.ExecContext(ctx, attach, nil); err != nil {
			return err
		}
		_, err := ex.ExecContext(ctx, "USE casefile", nil)
		return err
	})
	if err != nil {
		return nil, translateOpenError(abs, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, translateOpenError(abs, err)
	}
	s := &Store{db: db, path: abs, readOnly: opts.ReadOnly, spool: rawSpool{dir: filepath.Dir(abs)},
		encrypted: opts.EncryptionKey != ""}
	if !opts.ReadOnly {
		tightenMode(abs)
	}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		s.feedOK = s.registerFeed(ctx)
	}
	return s, nil
}

// Close releases the case file.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	if !s.readOnly {
		// Fold the WAL into the file so a copied case file is complete on its own.
		_, _ = s.db.Exec("CHECKPOINT")
	}
	err := s.db.Close()
	s.spool.close()
	if !s.readOnly {
		tightenMode(s.path)
	}
	return err
}

// tightenMode keeps the case file and its WAL private to the owner: audit logs
// hold statements, parameters and user names.
func tightenMode(path string) {
	for _, p := range []string{path, path + ".wal"} {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm() != 0o600 {
			_ = os.Chmod(p, 0o600)
		}
	}
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// TuneForBulkWrites sets DuckDB up for a command that only writes (sync and
// ingest from the command line): large batches go through the parallel
// insert feed (feed.go), whose INSERTs get all of DuckDB's threads and need
// insertion order not kept; everything else runs on one DuckDB thread, which
// measured about 20 % less CPU per committed event with the appender, and
// which groups of small objects need to fit the pool. A 64 MB buffer pool: DuckDB
// otherwise keeps the blocks it has just written cached up to the limit; a
// 1 GB pgAudit log peaked at 457 MB RSS with 192 MB and 312–364 MB with 64 MB,
// at the same speed (what a transaction holds beyond the limit spills to
// DuckDB's temporary files). 32 MB left too little room: groups of DAS
// objects failed to commit in it. Large values raise the limit (roomFor).
// The setting is global to the open case file, so the explorer, which
// queries while it syncs, does not use it; call the returned function to put
// it back before querying.
func (s *Store) TuneForBulkWrites(ctx context.Context) (restore func(), err error) {
	if s.readOnly {
		return func() {}, nil
	}
	// The feed's INSERTs run on up to four threads (startInsert), each
	// building its own row group; every thread past two gets 32 MB more.
	threads := min(runtime.GOMAXPROCS(0), 4)
	feed := s.feedOK && threads > 1
	pool := int64(64)
	set := "SET threads = 1"
	if feed {
		// The rest keeps one thread, which small-object groups need to fit
		// the pool.
		set += "; SET preserve_insertion_order = false"
		pool += 32 * int64(threads-2)
	}
	set += fmt.Sprintf("; SET memory_limit = '%dMB'", pool)
	if _, _, ok := allocatorDecay(); ok {
		// jemalloc returns freed pages on time (bulkDirtyDecayMs) only
		// with its background threads: otherwise only when a thread of
		// DuckDB's allocates again, and up to 60 MB waited.
		set += "; SET allocator_background_threads = true"
	}
	if _, err := s.db.ExecContext(ctx, set); err != nil {
		return nil, err
	}
	s.feedThreads = threads
	s.feedOn.Store(feed)
	s.memLimit.Store(pool << 20)
	s.memRaised, s.bigSeen = 0, 0
	// Go's heap would otherwise grow to twice what is live before each
	// collection (the decoders' batches and the rows waiting for the feed).
	// Collecting at 1.4 times the live heap took a 1 GB pgAudit log's peak
	// RSS from 284–312 to 235–257 MB (with rows waiting for the feed in
	// memory, before rawSpool). A soft memory limit of 80 MB reached
	// 240 MB too but made the collector run without pause whenever more than
	// that was live (a DAS sync ran at half speed): it is not used.
	prevGC := debug.SetGCPercent(bulkGCPercent)
	tuneAllocator()
	var once sync.Once
	return func() {
		debug.SetGCPercent(prevGC)
		once.Do(untuneAllocator)
		s.feedOn.Store(false)
		s.memLimit.Store(0)
		_, _ = s.db.ExecContext(context.WithoutCancel(ctx), "RESET threads; RESET memory_limit; RESET preserve_insertion_order; RESET allocator_background_threads")
	}, nil
}

// The allocator's settings are the process's: the first store to tune them
// saves DuckDB's own, the last to finish puts them back.
var allocTune struct {
	sync.Mutex
	users        int
	dirty, muzzy int
	ok           bool
}

func tuneAllocator() {
	allocTune.Lock()
	defer allocTune.Unlock()
	if allocTune.users++; allocTune.users == 1 {
		allocTune.dirty, allocTune.muzzy, allocTune.ok = allocatorDecay()
		if allocTune.ok {
			allocTune.ok = setAllocatorDecay(bulkDirtyDecayMs, 0)
		}
	}
}

func untuneAllocator() {
	allocTune.Lock()
	defer allocTune.Unlock()
	if allocTune.users--; allocTune.users == 0 && allocTune.ok {
		setAllocatorDecay(allocTune.dirty, allocTune.muzzy)
	}
}

// bulkGCPercent is Go's GOGC during bulk writes.
const bulkGCPercent = 40

// bulkDirtyDecayMs: during bulk writes, DuckDB's allocator (jemalloc, on
// Linux) returns pages freed this long ago to the system, at once rather
// than lazily (muzzy decay 0: lazily freed pages count as resident until
// the kernel needs them). DuckDB's own 1 s let freed blocks pile up while
// its threads compressed row groups and spilled the transaction's rows:
// 20–60 MB of the peak RSS while ingesting a 1 GB pgAudit log. 0 ms cost
// 40 % more CPU per record; 250 ms kept freed pages under ~30 MB at a few
// per cent more CPU.
const bulkDirtyDecayMs = 250

// bigValueBytes: DuckDB keeps a value larger than one of its blocks (256 KiB)
// in a block of its own that the writing transaction holds in memory until it
// commits. The writer counts such values and makes room for them.
const bigValueBytes = 256 << 10

// roomFor keeps DuckDB's memory limit above what the large values written so
// far (b's included) need, raising the limit this store set (TuneForBulkWrites,
// SetMemoryLimit) when needed; a limit DuckDB chose itself (80 % of RAM) is
// left alone. A transaction holds its large values in memory until it
// commits, and a checkpoint that rewrites a row group holding them needs them
// again, so the raise lasts until the limit is set anew: eight 10 MB
// statements in one group failed to commit within 32 MB, and at 64 MB a later
// checkpoint failed (which invalidates the database in DuckDB) whenever the
// limit had been put back. Called with the writer lock held.
func (s *Store) roomFor(ctx context.Context, b *model.Batch) {
	base := s.memLimit.Load()
	if base == 0 {
		return
	}
	big := bigBytes(b)
	if big == 0 {
		return
	}
	s.bigSeen += big
	need := base + 2*s.bigSeen
	if need <= s.memRaised {
		return
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dMB'", need>>20+1)); err == nil {
		s.memRaised = need
	}
}

// SetMemoryLimit caps DuckDB's memory for this case file ("256MB", "2GB").
// The explorer sets it so that counting and faceting tens of millions of rows
// stays within a laptop's budget; DuckDB spills to disk beyond it.
func (s *Store) SetMemoryLimit(ctx context.Context, limit string) error {
	if !memoryLimitRE.MatchString(limit) {
		return fmt.Errorf("memory limit %q: use a size like 256MB or 2GB", limit)
	}
	if _, err := s.db.ExecContext(ctx, "SET memory_limit = '"+limit+"'"); err != nil {
		return err
	}
	var n int64
	_, _ = fmt.Sscan(strings.TrimRight(limit, "KMGTB"), &n)
	shift := map[string]uint{"KB": 10, "MB": 20, "GB": 30, "TB": 40}[limit[len(limit)-2:]]
	s.writeMu.Lock()
	s.memLimit.Store(n << shift)
	s.memRaised, s.bigSeen = 0, 0
	s.writeMu.Unlock()
	return nil
}

var memoryLimitRE = regexp.MustCompile(`^[0-9]{1,6}(KB|MB|GB|TB)$`)
