package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"syscall"
	"time"
)

// RetryPolicy says how often and how patiently Retrying retries.
type RetryPolicy struct {
	// Attempts is the number of tries of one operation without progress,
	// the first included (default 6). A listing or a body that moves forward
	// between failures starts counting again.
	Attempts int
	// BaseDelay is the backoff before the first retry (default 200 ms); it
	// doubles with each further failure up to MaxDelay (default 10 s). The
	// wait is drawn uniformly from [delay/2, delay] so that workers hit by the
	// same throttling do not come back in step.
	BaseDelay, MaxDelay time.Duration
	// OnRetry, when set, is told of every failure that will be retried, for
	// logs and progress counters. It must be safe for concurrent use.
	OnRetry func(op string, attempt int, err error)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 6
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// wait sleeps before retry number attempt (1 for the first retry), or returns
// ctx's error as soon as ctx is done.
func (p RetryPolicy) wait(ctx context.Context, attempt int) error {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retrying wraps src so that transient failures are retried with jittered
// exponential backoff, honouring ctx:
//
//   - List resumes after the last key it delivered (ListOptions.StartAfter),
//     so a failed page is fetched again and fn never sees a key twice.
//   - Open retries opening, and the returned stream survives a failure in the
//     middle of the body: it re-opens from the byte offset already delivered
//     (through RangeOpener when src has it, else by reading again and
//     skipping) and checks that the body ends exactly at obj.Size; a short
//     body is retried, a longer one is ErrChanged.
//
// Errors are retried only when IsRetryable says so and ctx is not done.
func Retrying(src Source, policy RetryPolicy) Source {
	return &retrying{src: src, p: policy.withDefaults()}
}

type retrying struct {
	src Source
	p   RetryPolicy
}

func (r *retrying) String() string { return r.src.String() }

// retry decides after a failure: nil means try again (after the backoff).
func (r *retrying) retry(ctx context.Context, op string, attempt int, err error) error {
	if ctx.Err() != nil || !IsRetryable(err) {
		return err
	}
	if attempt >= r.p.Attempts {
		return fmt.Errorf("after %d attempts: %w", attempt, err)
	}
	if r.p.OnRetry != nil {
		r.p.OnRetry(op, attempt, err)
	}
	if werr := r.p.wait(ctx, attempt); werr != nil {
		return fmt.Errorf("%w (retry abandoned: %w)", err, werr)
	}
	return nil
}

func (r *retrying) List(ctx context.Context, opts ListOptions, fn func(Object) error) error {
	var fnErr error
	delivered := false
	deliver := func(o Object) error {
		if err := fn(o); err != nil {
			fnErr = err
			return err
		}
		opts.StartAfter = o.Key
		delivered = true
		return nil
	}
	for attempt := 1; ; attempt++ {
		delivered = false
		err := r.src.List(ctx, opts, deliver)
		if err == nil || fnErr != nil {
			return err
		}
		if delivered {
			attempt = 1
		}
		if rerr := r.retry(ctx, "list "+r.src.String(), attempt, err); rerr != nil {
			return rerr
		}
	}
}

func (r *retrying) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	rc, err := r.open(ctx, obj, 0, 1)
	if err != nil {
		return nil, err
	}
	return &resumingReader{ctx: ctx, r: r, obj: obj, rc: rc}, nil
}

// open opens obj at offset, retrying from attempt on.
func (r *retrying) open(ctx context.Context, obj Object, offset int64, attempt int) (io.ReadCloser, error) {
	for ; ; attempt++ {
		rc, err := r.openOnce(ctx, obj, offset)
		if err == nil {
			return rc, nil
		}
		if rerr := r.retry(ctx, "open "+obj.URI, attempt, err); rerr != nil {
			return nil, rerr
		}
	}
}

func (r *retrying) openOnce(ctx context.Context, obj Object, offset int64) (io.ReadCloser, error) {
	if offset == 0 {
		return r.src.Open(ctx, obj)
	}
	if ro, ok := r.src.(RangeOpener); ok {
		return ro.OpenRange(ctx, obj, offset)
	}
	rc, err := r.src.Open(ctx, obj)
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, rc, offset); err != nil {
		rc.Close()
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("skip to %d in %s: %w", offset, obj.URI, err)
	}
	return rc, nil
}

// resumingReader is the body returned by Retrying's Open.
type resumingReader struct {
	ctx     context.Context
	r       *retrying
	obj     Object
	rc      io.ReadCloser
	off     int64 // bytes delivered so far
	attempt int   // failures since the last byte that arrived
	err     error // sticky
}

func (b *resumingReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	for {
		n, err := b.rc.Read(p)
		if n > 0 {
			b.attempt = 0
		}
		b.off += int64(n)
		if b.off > b.obj.Size {
			b.err = fmt.Errorf("read %s: more than the listed %d bytes: %w", b.obj.URI, b.obj.Size, ErrChanged)
			return n, b.err
		}
		if err == io.EOF && b.off < b.obj.Size {
			err = fmt.Errorf("read %s: body ended at %d of %d bytes: %w", b.obj.URI, b.off, b.obj.Size, io.ErrUnexpectedEOF)
		}
		if err == nil || err == io.EOF {
			return n, err
		}
		if n > 0 {
			return n, nil // deliver what arrived; the error comes back on the next Read
		}
		if b.off == b.obj.Size && IsRetryable(err) {
			// Every byte arrived and only the end of the stream failed.
			b.err = io.EOF
			return 0, io.EOF
		}
		b.attempt++
		if rerr := b.r.retry(b.ctx, "read "+b.obj.URI, b.attempt, err); rerr != nil {
			b.err = rerr
			return 0, rerr
		}
		b.rc.Close()
		b.rc = nil
		rc, err := b.r.open(b.ctx, b.obj, b.off, b.attempt+1)
		if err != nil {
			b.err = err
			return 0, err
		}
		b.rc = rc
	}
}

func (b *resumingReader) Close() error {
	if b.rc == nil {
		return nil
	}
	return b.rc.Close()
}

// IsRetryable reports whether err is transient, so that the same request may
// succeed later: HTTP 5xx and 429, S3/AWS throttling and timeout codes
// (SlowDown, Throttling, RequestTimeout, InternalError, ServiceUnavailable…),
// connection resets and refusals, broken pipes, short bodies
// (io.ErrUnexpectedEOF) and network timeouts. It is false for a missing object
// (ErrNotFound, NoSuchKey), a changed one (ErrChanged), denied access, other
// 4xx answers and context cancellation; callers must also check their own
// ctx, since an expired deadline can look like a network timeout.
//
// It recognises AWS errors by their methods (ErrorCode, HTTPStatusCode), so
// this package needs no AWS import.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || err == context.DeadlineExceeded {
		return false
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrChanged) ||
		errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return false
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		switch coded.ErrorCode() {
		case "SlowDown", "Throttling", "ThrottlingException", "ThrottledException",
			"RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
			"RequestLimitExceeded", "BandwidthLimitExceeded", "ProvisionedThroughputExceededException",
			"RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
			"ServiceUnavailable", "ServiceUnavailableException", "EC2ThrottledException",
			"PriorRequestNotComplete", "TransactionInProgressException", "IDPCommunicationError":
			return true
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		if code := status.HTTPStatusCode(); code >= 400 {
			return code >= 500 || code == 429 || code == 408
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return false
}
