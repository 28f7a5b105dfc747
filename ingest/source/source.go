// Package source lists and opens the objects that sync ingests: S3 buckets
// (subpackage s3) and local folders or globs (subpackage local).
//
// It owns the Source contract and nothing else; it must not import the store,
// the decoders or any AWS package (only source/s3 imports the S3 SDK).
package source

import (
	"context"
	"errors"
	"io"
	"time"
)

// Object describes one listed object.
type Object struct {
	// Key is the object key (S3) or the path relative to the root (local),
	// always with forward slashes.
	Key string
	// URI is the canonical, unique address: s3://bucket/key or an absolute path.
	URI          string
	Size         int64
	ETag         string // S3 ETag without quotes; local: hex of size+mtime
	VersionID    string // S3 version id when versioning is on; "" otherwise
	LastModified time.Time
}

// ListOptions narrows a listing.
type ListOptions struct {
	// Since and Until, when non-zero, restrict the listing to objects whose key
	// carries a Firehose date prefix YYYY/MM/DD/HH/ inside the range (hours that
	// overlap it), and skip the listing of other date prefixes entirely. Objects
	// without a date prefix are always listed.
	Since, Until time.Time
}

// Source is a place objects are read from.
//
// List calls fn once per object, in lexical key order, paginating as needed; it
// stops and returns fn's error if fn returns one. Open returns the object's bytes
// as a stream; for a versioned object it reads obj.VersionID when set. Open of an
// object that no longer exists returns an error wrapping ErrNotFound. Errors that
// a retry may cure (throttling, 5xx, resets, timeouts) are reported by
// IsRetryable; the retry policy itself is a wrapper (see Retrying), not part of
// each implementation.
type Source interface {
	List(ctx context.Context, opts ListOptions, fn func(Object) error) error
	Open(ctx context.Context, obj Object) (io.ReadCloser, error)
	// String names the source root for messages: "s3://bucket/prefix" or a path.
	String() string
}

// ErrNotFound is returned (wrapped) by Open for an object that does not exist.
var ErrNotFound = errors.New("object not found")
