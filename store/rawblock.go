package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/auditlens/auditlens/store/model"
)

// rawBlockBytes is the raw text gathered before a block is compressed and
// appended: large enough for zstd to find the repetition between records,
// small enough that showing one record decompresses little.
const rawBlockBytes = 512 << 10

const rawCodec = "zstd"

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// zstdCodec returns the shared encoder and decoder (EncodeAll and DecodeAll
// are safe for concurrent use).
func zstdCodec() (*zstd.Encoder, *zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if zstdErr != nil {
			return
		}
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
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
	scratch := rawScratch.Get().(*[]byte)
	blk := rawBlock{buf: (*scratch)[:0]}
	for i := range b.Events {
		blk.add(0, b.Events[i].Raw)
		b.Events[i].Raw = ""
	}
	// A reused batch brings the buffer of its last block.
	b.PackedRaw = enc.EncodeAll(blk.buf, b.PackedRaw[:0])
	*scratch = blk.buf
	rawScratch.Put(scratch)
	return nil
}

// rawScratch holds the uncompressed text of blocks being packed.
var rawScratch = sync.Pool{New: func() any { return new([]byte) }}

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
	if err := a.AppendRow(tx.id, first, int32(n), rawCodec, data); err != nil {
		return fmt.Errorf("append to raw_blocks: %w", err)
	}
	return nil
}

// flushRaw compresses the gathered records into one raw_blocks row.
func (tx *ObjectTx) flushRaw(dc driver.Conn) error {
	b := &tx.raw
	if b.n == 0 {
		return nil
	}
	enc, _, err := zstdCodec()
	if err != nil {
		return err
	}
	a, err := tx.appender(dc, "raw_blocks")
	if err != nil {
		return err
	}
	data := enc.EncodeAll(b.buf, make([]byte, 0, len(b.buf)/4))
	if err := a.AppendRow(tx.id, b.first, int32(b.n), rawCodec, data); err != nil {
		return fmt.Errorf("append to raw_blocks: %w", err)
	}
	b.buf, b.n = b.buf[:0], 0
	return nil
}

// rawFromBlocks finds event id's raw record in raw_blocks ("" and false when
// no block holds it).
func (s *Store) rawFromBlocks(ctx context.Context, id int64) (string, bool, error) {
	var first int64
	var n int32
	var codec string
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT first_event, events, codec, data FROM raw_blocks
		WHERE first_event <= ? AND first_event + events > ? ORDER BY first_event DESC LIMIT 1`, id, id).Scan(&first, &n, &codec, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
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
