package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest/source"
)

type apiErr struct {
	code   string
	status int
}

func (e apiErr) Error() string       { return fmt.Sprintf("api error %s (%d)", e.code, e.status) }
func (e apiErr) ErrorCode() string   { return e.code }
func (e apiErr) HTTPStatusCode() int { return e.status }

type statusErr int

func (e statusErr) Error() string       { return fmt.Sprintf("http %d", int(e)) }
func (e statusErr) HTTPStatusCode() int { return int(e) }

func TestIsRetryable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("get s3://b/k: %w", err) }
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{wrap(apiErr{"SlowDown", 503}), true},
		{wrap(apiErr{"Throttling", 400}), true},
		{wrap(apiErr{"RequestTimeout", 400}), true},
		{wrap(apiErr{"InternalError", 500}), true},
		{wrap(statusErr(502)), true},
		{wrap(statusErr(429)), true},
		{wrap(apiErr{"NoSuchKey", 404}), false},
		{wrap(apiErr{"AccessDenied", 403}), false},
		{wrap(statusErr(403)), false},
		{wrap(io.ErrUnexpectedEOF), true},
		{wrap(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), true},
		{wrap(syscall.EPIPE), true},
		{wrap(&net.DNSError{Err: "timeout", IsTimeout: true}), true},
		{wrap(source.ErrNotFound), false},
		{fmt.Errorf("%w: %w", source.ErrNotFound, apiErr{"NoSuchKey", 404}), false},
		{wrap(source.ErrChanged), false},
		{wrap(context.Canceled), false},
		{context.DeadlineExceeded, false},
		{fmt.Errorf("op: %w", fmt.Errorf("%w: %w", context.Canceled, io.ErrUnexpectedEOF)), false},
	} {
		if got := source.IsRetryable(c.err); got != c.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// flaky is an in-memory source that fails on a schedule: List fails once
// after delivering failAfter objects, Open fails openFails times, and bodies
// break after cutAt bytes cuts times.
type flaky struct {
	objs      map[string][]byte
	failAfter int
	listErrs  int
	openFails int
	cuts      int
	cutAt     int
	extra     []byte // appended to every body: an object longer than listed
	opens     []int64
}

func (f *flaky) String() string { return "flaky" }

func (f *flaky) List(ctx context.Context, opts source.ListOptions, fn func(source.Object) error) error {
	n := 0
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range f.objs {
			if !yield(k) {
				return
			}
		}
	}) {
		if k <= opts.StartAfter {
			continue
		}
		if n == f.failAfter && f.listErrs > 0 {
			f.listErrs--
			return fmt.Errorf("list: %w", apiErr{"SlowDown", 503})
		}
		n++
		if err := fn(source.Object{Key: k, Size: int64(len(f.objs[k]))}); err != nil {
			return err
		}
	}
	return nil
}

func (f *flaky) Open(ctx context.Context, obj source.Object) (io.ReadCloser, error) {
	return f.open(obj, 0)
}

func (f *flaky) open(obj source.Object, off int64) (io.ReadCloser, error) {
	f.opens = append(f.opens, off)
	if f.openFails > 0 {
		f.openFails--
		return nil, statusErr(500)
	}
	data, ok := f.objs[obj.Key]
	if !ok {
		return nil, source.ErrNotFound
	}
	data = append(slices.Clone(data), f.extra...)[off:]
	if f.cuts > 0 && len(data) > f.cutAt {
		f.cuts--
		return io.NopCloser(io.MultiReader(bytes.NewReader(data[:f.cutAt]), errReader{syscall.ECONNRESET})), nil
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// ranged adds OpenRange to flaky.
type ranged struct{ *flaky }

func (r ranged) OpenRange(ctx context.Context, obj source.Object, off int64) (io.ReadCloser, error) {
	return r.open(obj, off)
}

var fast = source.RetryPolicy{Attempts: 4, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}

func TestRetryingListResumes(t *testing.T) {
	f := &flaky{objs: map[string][]byte{"a": nil, "b": nil, "c": nil, "d": nil}, failAfter: 2, listErrs: 3}
	var keys []string
	err := source.Retrying(f, fast).List(t.Context(), source.ListOptions{}, func(o source.Object) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil || !slices.Equal(keys, []string{"a", "b", "c", "d"}) {
		t.Fatalf("List = %q, %v; want every key once", keys, err)
	}

	f = &flaky{objs: map[string][]byte{"a": nil}, failAfter: 0, listErrs: 100}
	err = source.Retrying(f, fast).List(t.Context(), source.ListOptions{}, func(source.Object) error { return nil })
	if err == nil || f.listErrs != 100-fast.Attempts {
		t.Fatalf("List without progress = %v after %d attempts, want failure after %d", err, 100-f.listErrs, fast.Attempts)
	}

	stop := errors.New("stop")
	f = &flaky{objs: map[string][]byte{"a": nil, "b": nil}}
	calls := 0
	err = source.Retrying(f, fast).List(t.Context(), source.ListOptions{}, func(source.Object) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Fatalf("List with fn error = %v after %d calls, want fn's error at once", err, calls)
	}
}

func TestRetryingOpenResumes(t *testing.T) {
	data := []byte(strings.Repeat("abcdefghij", 100))
	obj := source.Object{Key: "k", Size: int64(len(data))}
	for _, c := range []struct {
		name      string
		src       func(*flaky) source.Source
		wantOpens []int64
	}{
		{"range", func(f *flaky) source.Source { return ranged{f} }, []int64{0, 0, 300, 600}},
		{"reread", func(f *flaky) source.Source { return f }, []int64{0, 0, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &flaky{objs: map[string][]byte{"k": data}, openFails: 1, cuts: 2, cutAt: 300}
			rc, err := source.Retrying(c.src(f), fast).Open(t.Context(), obj)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, %v; want the %d bytes", len(got), err, len(data))
			}
			if !slices.Equal(f.opens, c.wantOpens) {
				t.Errorf("opened at offsets %v, want %v", f.opens, c.wantOpens)
			}
		})
	}
}

func TestRetryingOpenChecksLength(t *testing.T) {
	data := []byte("0123456789")
	// Longer than listed: the object changed.
	f := &flaky{objs: map[string][]byte{"k": data}, extra: []byte("more")}
	_, err := readAll(source.Retrying(f, fast), source.Object{Key: "k", Size: 10})
	if !errors.Is(err, source.ErrChanged) {
		t.Errorf("longer body: %v, want ErrChanged", err)
	}
	// Shorter than listed, every time: retried, then a short-body error.
	f = &flaky{objs: map[string][]byte{"k": data}}
	_, err = readAll(source.Retrying(ranged{f}, fast), source.Object{Key: "k", Size: 20})
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(f.opens) < 2 {
		t.Errorf("short body: %v after %d opens, want io.ErrUnexpectedEOF after retries", err, len(f.opens))
	}
	// Missing: not retried.
	f = &flaky{objs: map[string][]byte{}}
	_, err = readAll(source.Retrying(f, fast), source.Object{Key: "k"})
	if !errors.Is(err, source.ErrNotFound) || len(f.opens) != 1 {
		t.Errorf("missing: %v after %d opens, want ErrNotFound at once", err, len(f.opens))
	}
}

func readAll(src source.Source, obj source.Object) ([]byte, error) {
	rc, err := src.Open(context.Background(), obj)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
