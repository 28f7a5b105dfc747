// Package source lists and opens the objects that sync ingests: S3 buckets
// (subpackage s3) and local folders or globs (subpackage local).
//
// It owns the Source contract, the retry wrapper (Retrying, IsRetryable) and
// nothing else; it must not import the store, the decoders or any AWS package
// (only source/s3 imports the S3 SDK).
package source

import (
	"context"
	"errors"
	"io"
	"time"
)

// Object describes one listed object.
type Object struct {
	// Key is the object's name relative to the source root, always with
	// forward slashes: for S3 the object key without the source prefix
	// (s3://bucket/orders/ + "2024/05/01/13/x" -> Key "2024/05/01/13/x"), for
	// local the path relative to the root folder. Both implementations thus
	// share one key space, so Firehose date segments start the key and
	// ListOptions.StartAfter means the same thing everywhere.
	Key string
	// URI is the canonical, unique address: s3://bucket/full/key or an
	// absolute path. It is what the store records as the object's origin.
	URI  string
	Size int64
	// ETag is a cheap change fingerprint, not a content hash: the S3 ETag
	// without quotes, or for local files the hex of size and mtime. The
	// pipeline computes sha256 of the content itself while reading.
	ETag         string
	VersionID    string // S3 version id when versioning is on; "" otherwise
	LastModified time.Time
}

// ListOptions narrows a listing.
type ListOptions struct {
	// Since and Until, when non-zero, restrict the listing to the Firehose
	// date layout YYYY/MM/DD/HH/ at the start of the key: date directories
	// whose span does not overlap [Since, Until) are not listed at all (Since
	// inclusive, Until exclusive, either may be zero for an open end; times
	// are compared in UTC). The hour is Firehose's delivery hour, so a record
	// can sit in the hour after it happened: callers that want every event
	// of a range should widen Until by the delivery buffer (at most 15 min).
	//
	// A root with at least one year directory (4 digits) is date-structured:
	// with Since or Until set, only keys under overlapping date directories
	// are listed, and keys outside the date layout (a README, Firehose's
	// processing-failed/ folder) are not. A root without year directories
	// cannot be narrowed by name, so it is listed in full and the caller
	// filters by event time.
	Since, Until time.Time
	// StartAfter, when set, lists only keys lexically greater than it. It lets
	// a listing resume after the last key it delivered (Retrying uses it).
	StartAfter string
}

// Source is a place objects are read from.
//
// List calls fn once per object, in lexical key order, paginating as needed; it
// stops and returns fn's error, unwrapped, if fn returns one. Open returns the
// object's bytes as a stream; obj must come from List (Key, and ETag/VersionID
// when set, select what is read). For a versioned object it reads
// obj.VersionID; otherwise an implementation that can should refuse to read
// content other than the listed ETag (ErrChanged). Open of an object that no
// longer exists returns an error wrapping ErrNotFound.
//
// Implementations do not retry: errors that a retry may cure (throttling, 5xx,
// resets, timeouts, short bodies) are recognised by IsRetryable, and the retry
// policy is a wrapper (see Retrying) around any Source.
type Source interface {
	List(ctx context.Context, opts ListOptions, fn func(Object) error) error
	Open(ctx context.Context, obj Object) (io.ReadCloser, error)
	// String names the source root for messages: "s3://bucket/prefix" or a path.
	String() string
}

// RangeOpener is implemented by sources that can open an object from a byte
// offset. Retrying uses it to resume a body that failed mid-way instead of
// downloading it again from the start.
type RangeOpener interface {
	// OpenRange reads obj from byte offset to its end, with the same version
	// and change checks as Open. offset must be in [0, obj.Size).
	OpenRange(ctx context.Context, obj Object, offset int64) (io.ReadCloser, error)
}

// ErrNotFound is returned (wrapped) by Open for an object that does not exist.
var ErrNotFound = errors.New("object not found")

// ErrChanged is returned (wrapped) when an object's content is no longer the
// one that was listed (another ETag, another size). Retrying does not retry
// it: the next listing shows the new version.
var ErrChanged = errors.New("object changed since it was listed")

// ContextReader reads r until ctx is done and then fails every read with
// ctx's error, so a cancelled sync stops reading an object at once; Close
// closes c.
func ContextReader(ctx context.Context, r io.Reader, c io.Closer) io.ReadCloser {
	return &ctxReader{ctx: ctx, r: r, c: c}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
	c   io.Closer
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

func (r *ctxReader) Close() error { return r.c.Close() }
