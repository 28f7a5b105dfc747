package store

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/auditlens/auditlens/store/model"
)

// rawBlockBytes is the raw text gathered before a block is compressed and
// appended: large enough for zstd to find the repetition between records,
// small enough that showing one record decompresses little.
const rawBlockBytes = 512 << 10

const rawCodec = "zstd"

// rawWindowBytes is the zstd window raw blocks are compressed with.
const rawWindowBytes = 1 << 20

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// zstdCodec returns the shared encoder and decoder (EncodeAll and DecodeAll
// are safe for concurrent use, up to their concurrency at a time).
func zstdCodec() (*zstd.Encoder, *zstd.Decoder, error) {
	zstdOnce.Do(func() {
		// As many encoders as decoding goroutines can pack at once; EncodeAll
		// waits for a free one beyond that.
		n := min(runtime.GOMAXPROCS(0), 4)
		// A block is one decoded batch (about 1 MB of raw text from 4096
		// pgAudit records) or rawBlockBytes: a 1 MB window reaches across
		// it, where the default 8 MB kept 8 MB of history per encoder live
		// (a quarter of the Go heap while ingesting a large log).
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(n), zstd.WithWindowSize(rawWindowBytes))
		if zstdErr != nil {
			return
		}
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(n), zstd.WithDecoderMaxMemory(256<<20))
	})
	return zstdEnc, zstdDec, zstdErr
}

// rawBlock gathers the raw records of an object's consecutive events.
type rawBlock struct {
	buf   []byte
	first int64
	n     int
}

// add records the raw text of event id (the next one after the last added).
func (b *rawBlock) add(id int64, raw string) {
	if b.n == 0 {
		b.first = id
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(len(raw)))
	b.buf = append(b.buf, raw...)
	b.n++
}

// PackRaw compresses the raw records of b's events into b.PackedRaw and
// clears them, so that the writer stores the block as it is. Call it where
// batches are decoded (it is safe to call concurrently on different
// batches); a batch without raw records, or already packed, is left alone.
func PackRaw(b *model.Batch) error {
	if len(b.PackedRaw) > 0 || len(b.Events) == 0 {
		return nil
	}
	size := 0
	for i := range b.Events {
		size += len(b.Events[i].Raw)
	}
	if size == 0 {
		return nil
	}
	enc, _, err := zstdCodec()
	if err != nil {
		return err
	}
	buf := rawScratch.get()
	// Room for every record and its length at once: growing by appends
	// allocated about as much again as the records.
	blk := rawBlock{buf: slices.Grow(buf[:0], size+binary.MaxVarintLen32*len(b.Events))}
	for i := range b.Events {
		blk.add(0, b.Events[i].Raw)
		b.Events[i].Raw = ""
	}
	// A reused batch brings the buffer of its last block.
	b.PackedRaw = enc.EncodeAll(blk.buf, b.PackedRaw[:0])
	if cap(blk.buf) <= 4<<20 { // not the buffer of a batch of huge records
		rawScratch.put(blk.buf)
	}
	return nil
}

// rawScratch holds buffers for the uncompressed text of blocks being packed,
// one per packer that may run at once (as many as the encoder's concurrency,
// zstdCodec).
var rawScratch = make(byteFreeList, min(runtime.GOMAXPROCS(0), 4))

// byteFreeList keeps a few buffers for reuse. Not a sync.Pool: the collector
// empties those, and bulk writes collect often (bulkGCPercent).
type byteFreeList chan []byte

// get returns a kept buffer, or nil when there is none.
func (l byteFreeList) get() []byte {
	select {
	case b := <-l:
		return b
	default:
		return nil
	}
}

// put keeps b unless the list is full.
func (l byteFreeList) put(b []byte) {
	select {
	case l <- b:
	default:
	}
}

// appendPacked stores a batch's packed raw records as one block of events
// first .. first+n-1, after whatever the object gathered before.
func (tx *ObjectTx) appendPacked(dc driver.Conn, first int64, n int, data []byte) error {
	if err := tx.flushRaw(dc); err != nil {
		return err
	}
	a, err := tx.appender(dc, "raw_blocks")
	if err != nil {
		return err
	}
	return appendBlock(a, tx.id, first, n, data)
}

// rawPartBytes bounds the size of one raw_blocks value so that it stays in
// the column's own segments: DuckDB keeps a value of 4 KiB or more apart, and
// a transaction holding many large ones (a group of a few hundred DAS objects,
// one block each) failed to commit within a 32 MB buffer pool ("failed to
// pin block"); with 3 KiB parts 45 MB of incompressible raw records commit
// within 32 MB (TestRawBlocksOverBulkPool).
const rawPartBytes = 3 << 10

// appendBlock appends one compressed block as its parts.
func appendBlock(a *duckdb.Appender, objectID, first int64, n int, data []byte) error {
	for part := 0; part*rawPartBytes < len(data) || part == 0; part++ {
		chunk := data[part*rawPartBytes : min(len(data), (part+1)*rawPartBytes)]
		if err := a.AppendRow(objectID, first, int32(n), rawCodec, int32(part), chunk); err != nil {
			return fmt.Errorf("append to raw_blocks: %w", err)
		}
	}
	return nil
}

// flushRaw compresses the gathered records into one raw_blocks row.
func (tx *ObjectTx) flushRaw(dc driver.Conn) error {
	first, n, data, err := tx.raw.take()
	if err != nil || n == 0 {
		return err
	}
	a, err := tx.appender(dc, "raw_blocks")
	if err != nil {
		return err
	}
	return appendBlock(a, tx.id, first, n, data)
}

// take compresses the gathered records into a block and empties b (n is 0
// when there was nothing to take).
func (b *rawBlock) take() (first int64, n int, data []byte, err error) {
	if b.n == 0 {
		return 0, 0, nil, nil
	}
	enc, _, err := zstdCodec()
	if err != nil {
		return 0, 0, nil, err
	}
	first, n = b.first, b.n
	data = enc.EncodeAll(b.buf, make([]byte, 0, len(b.buf)/4))
	b.buf, b.n = b.buf[:0], 0
	return first, n, data, nil
}

// rawFromBlocks finds event id's raw record in raw_blocks ("" and false when
// no block holds it).
func (s *Store) rawFromBlocks(ctx context.Context, id int64) (string, bool, error) {
	// The block's parts, in order (a block never straddles another: the
	// first rows are all of the one block that holds id).
	rows, err := s.db.QueryContext(ctx, `SELECT first_event, codec, data FROM raw_blocks
		WHERE first_event <= ? AND first_event + events > ? ORDER BY first_event DESC, part`, id, id)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	var (
		first, f int64
		codec    string
		part     []byte
		data     []byte
		found    bool
	)
	for rows.Next() {
		if err := rows.Scan(&f, &codec, &part); err != nil {
			return "", false, err
		}
		if found && f != first {
			break
		}
		first, found = f, true
		data = append(data, part...)
	}
	if err := rows.Err(); err != nil {
		return "", false, err
	}
	if !found {
		return "", false, nil
	}
	raw, err := rawRecord(codec, data, int(id-first))
	if err != nil {
		return "", false, fmt.Errorf("raw record of event %d: %w", id, err)
	}
	return raw, true, nil
}

// rawRecord returns record i of a block.
func rawRecord(codec string, data []byte, i int) (string, error) {
	if codec != rawCodec {
		return "", fmt.Errorf("unknown block codec %q", codec)
	}
	_, dec, err := zstdCodec()
	if err != nil {
		return "", err
	}
	buf, err := dec.DecodeAll(data, nil)
	if err != nil {
		return "", fmt.Errorf("damaged block: %w", err)
	}
	for k := 0; ; k++ {
		l, w := binary.Uvarint(buf)
		if w <= 0 || uint64(len(buf)-w) < l {
			return "", errors.New("damaged block: record lengths do not add up")
		}
		if k == i {
			return string(buf[w : w+int(l)]), nil
		}
		buf = buf[w+int(l):]
	}
}
