// Package compress unwraps compressed log objects by sniffing their magic bytes,
// so that decoders can read gzip, zstd and plain input through one io.Reader.
//
// It owns only the detection and the wrapping; it must not import the store,
// AWS, DuckDB or any decoder.
package compress

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Kinds returned by Reader.
const (
	KindNone = "none"
	KindGzip = "gzip"
	KindZstd = "zstd"
)

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Reader returns a reader of the decompressed content of r and the kind of
// compression it found. Multi-member gzip (concatenated .gz files, as some log
// shippers write) is read to the end. The zstd decoder runs single-threaded so
// that its memory stays bounded; it is released when the returned reader hits
// EOF or an error.
//
// Input shorter than a magic number, or with no known magic, is returned as is
// with kind "none".
func Reader(r io.Reader) (io.Reader, string, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 4 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, "", fmt.Errorf("sniff compression: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("open gzip: %w", err)
		}
		zr.Multistream(true)
		return zr, KindGzip, nil
	case bytes.HasPrefix(head, magicZstd):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			// A hostile frame header must not make us allocate gigabytes.
			zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, "", fmt.Errorf("open zstd: %w", err)
		}
		return &zstdReader{d: zr}, KindZstd, nil
	}
	return br, KindNone, nil
}

// zstdReader closes the decoder at the end of the stream: zstd.Decoder holds
// goroutines and buffers until Close, and callers only see an io.Reader.
type zstdReader struct {
	d    *zstd.Decoder
	done bool
}

func (z *zstdReader) Read(p []byte) (int, error) {
	if z.done {
		return 0, io.EOF
	}
	n, err := z.d.Read(p)
	if err != nil {
		z.done = true
		z.d.Close()
		if err != io.EOF {
			err = fmt.Errorf("read zstd: %w", err)
		}
	}
	return n, err
}
