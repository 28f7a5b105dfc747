// Package s3test runs an in-process fake S3 (gofakes3 with the s3mem backend)
// on a real HTTP listener on 127.0.0.1, for tests of any package and for the
// demo. It can inject faults into the answers: 503 SlowDown, a connection
// reset in the middle of a body, a body cut short under a correct
// Content-Length, and slow answers, on a fixed schedule or at a seeded rate.
//
// It owns the fake and its fault middleware; it must not import the store or
// the decoders. It never talks to AWS: sources it builds carry static dummy
// credentials and the fake's endpoint.
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/auditlens/auditlens/ingest/source/s3"
)

// Fault is one kind of injected failure.
type Fault int

const (
	None     Fault = iota
	SlowDown       // 503 with the S3 error code SlowDown; the request is not served
	Reset          // headers and half the body, then a TCP reset
	Truncate       // headers with the full Content-Length, half the body, then a clean close
	Slow           // the answer comes after Faults.SlowDelay
)

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case SlowDown:
		return "slowdown"
	case Reset:
		return "reset"
	case Truncate:
		return "truncate"
	case Slow:
		return "slow"
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// Faults says which requests fail and how.
type Faults struct {
	// Schedule gives the fault of the 1st, 2nd… request that Only accepts;
	// after it runs out, Rate applies.
	Schedule []Fault
	// Rate is the probability that a later request gets a fault, drawn from
	// Kinds (default: all four) with a generator seeded by Seed, so a run is
	// reproducible up to the order in which concurrent requests arrive.
	Rate  float64
	Kinds []Fault
	Seed  uint64
	// SlowDelay is the delay of Slow (default 50 ms).
	SlowDelay time.Duration
	// Only selects the requests that may fail (default: every request).
	Only func(*http.Request) bool
}

// GetObjects selects object reads (GET of a key), for Faults.Only.
func GetObjects(r *http.Request) bool {
	return r.Method == http.MethodGet && isObjectPath(r.URL.Path)
}

// Lists selects bucket listings, for Faults.Only.
func Lists(r *http.Request) bool {
	return r.Method == http.MethodGet && !isObjectPath(r.URL.Path)
}

func isObjectPath(p string) bool {
	return strings.Contains(strings.TrimPrefix(p, "/"), "/")
}

// Stats counts what the server saw.
type Stats struct {
	Requests int
	Injected map[Fault]int
}

// Server is a running fake S3 with one bucket.
type Server struct {
	URL     string // http://127.0.0.1:port
	Bucket  string
	Backend *s3mem.Backend

	srv  *http.Server
	fake http.Handler

	mu      sync.Mutex
	faults  Faults
	rng     *rand.Rand
	matched int
	stats   Stats
}

// New starts a fake S3 on 127.0.0.1 with an empty bucket.
func New(bucket string) (*Server, error) {
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		return nil, fmt.Errorf("fake s3: create bucket %s: %w", bucket, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake s3: listen: %w", err)
	}
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		Bucket:  bucket,
		Backend: backend,
		fake:    gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server(),
		stats:   Stats{Injected: map[Fault]int{}},
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed on Close
	return s, nil
}

// Start is New for a test: it fails the test on error and closes the server
// when the test ends.
func Start(tb testing.TB, bucket string) *Server {
	tb.Helper()
	s, err := New(bucket)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Close stops the server and drops open connections.
func (s *Server) Close() error { return s.srv.Close() }

// Put stores an object directly in the backend (no HTTP, no faults).
func (s *Server) Put(key string, data []byte) error {
	_, err := s.Backend.PutObject(s.Bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		return fmt.Errorf("fake s3: put %s: %w", key, err)
	}
	return nil
}

// PutAll stores every object of the map.
func (s *Server) PutAll(objects map[string][]byte) error {
	for k, v := range objects {
		if err := s.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

// SetFaults replaces the fault plan and restarts its schedule.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.SlowDelay <= 0 {
		f.SlowDelay = 50 * time.Millisecond
	}
	if len(f.Kinds) == 0 {
		f.Kinds = []Fault{SlowDown, Reset, Truncate, Slow}
	}
	s.faults = f
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	s.matched = 0
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Requests: s.stats.Requests, Injected: map[Fault]int{}}
	for k, v := range s.stats.Injected {
		st.Injected[k] = v
	}
	return st
}

// Config returns a source configuration for s3://bucket/prefix on this
// server, with dummy static credentials.
func (s *Server) Config(prefix string) s3.Config {
	return s3.Config{
		URL:         "s3://" + s.Bucket + "/" + strings.TrimPrefix(prefix, "/"),
		Region:      "us-east-1",
		Endpoint:    s.URL,
		PathStyle:   true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKES3", "fake-secret", ""),
	}
}

// Source returns an S3 source for prefix on this server.
func (s *Server) Source(ctx context.Context, prefix string) (*s3.S3, error) {
	return s3.New(ctx, s.Config(prefix))
}

// next picks the fault for r and counts it.
func (s *Server) next(r *http.Request) (Fault, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	f := s.faults
	if f.Only != nil && !f.Only(r) {
		return None, 0
	}
	if len(f.Schedule) == 0 && f.Rate <= 0 {
		return None, 0
	}
	s.matched++
	fault := None
	switch {
	case s.matched <= len(f.Schedule):
		fault = f.Schedule[s.matched-1]
	case f.Rate > 0 && s.rng.Float64() < f.Rate:
		fault = f.Kinds[s.rng.IntN(len(f.Kinds))]
	}
	return fault, f.SlowDelay
}

func (s *Server) count(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Injected[f]++
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	fault, delay := s.next(r)
	switch fault {
	case SlowDown:
		s.count(fault)
		writeError(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case Slow:
		s.count(fault)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	case Reset, Truncate:
		s.cut(w, r, fault)
		return
	}
	s.handle(w, r)
}

// handle serves r from the fake, adding what gofakes3 lacks: If-Match on GET.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if im := r.Header.Get("If-Match"); im != "" && r.Method == http.MethodGet && isObjectPath(r.URL.Path) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if obj, err := s.Backend.HeadObject(bucket, key); err == nil {
			if strings.Trim(im, `"`) != strings.Trim(gofakes3.FormatETag(obj.Hash), `"`) {
				writeError(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
				return
			}
		}
	}
	s.fake.ServeHTTP(w, r)
}

// cut serves r in full into memory, then sends its headers (with the full
// Content-Length) and only half of its body before resetting or closing the
// connection. An answer without a body is sent whole.
func (s *Server) cut(w http.ResponseWriter, r *http.Request, fault Fault) {
	rec := httptest.NewRecorder()
	s.handle(rec, r)
	body := rec.Body.Bytes()
	if len(body) == 0 || rec.Code >= 300 {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.count(fault)
	defer conn.Close()
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	// Write errors do not matter: the client is about to see a broken body anyway.
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
	if tcp, ok := conn.(*net.TCPConn); ok && fault == Reset {
		// Linger 0 makes Close send RST instead of FIN.
		_ = tcp.SetLinger(0)
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><RequestId>fake</RequestId></Error>`, code, msg)
}

// Delete removes key from the bucket, as someone cleaning up the bucket would.
func (s *Server) Delete(key string) error {
	_, err := s.Backend.DeleteObject(s.Bucket, key)
	return err
}
