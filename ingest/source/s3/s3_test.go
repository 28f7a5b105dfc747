package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/s3"
	"github.com/auditlens/auditlens/ingest/source/s3/s3test"
	"github.com/auditlens/auditlens/ingest/source/sourcetest"
)

func TestMain(m *testing.M) {
	// Nothing here may reach AWS or read the developer's AWS files.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_S3":         "",
	} {
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	os.Exit(m.Run())
}

// newS3 returns a constructor for the conformance suite: a fresh fake S3 per
// call, the objects stored under a prefix so that keys are checked relative
// to it.
func newS3(pageSize int32, wrap func(source.Source) source.Source) sourcetest.NewSource {
	return func(t *testing.T, objects map[string][]byte) source.Source {
		srv := s3test.Start(t, "audit")
		if err := srv.Put("other/outside-the-prefix", []byte("x")); err != nil {
			t.Fatal(err)
		}
		for k, v := range objects {
			if err := srv.Put("das/"+k, v); err != nil {
				t.Fatal(err)
			}
		}
		cfg := srv.Config("das")
		cfg.PageSize = pageSize
		src, err := s3.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if wrap != nil {
			return wrap(src)
		}
		return src
	}
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, newS3(0, nil))
}

func TestConformanceSmallPages(t *testing.T) {
	sourcetest.Run(t, newS3(7, nil))
}

func TestConformanceRetrying(t *testing.T) {
	sourcetest.Run(t, newS3(0, func(s source.Source) source.Source {
		return source.Retrying(s, source.RetryPolicy{BaseDelay: time.Millisecond})
	}))
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, bucket, prefix, err string }{
		{"s3://b", "b", "", ""},
		{"s3://b/", "b", "", ""},
		{"s3://b/orders", "b", "orders/", ""},
		{"s3://b/orders/2024/", "b", "orders/2024/", ""},
		{"https://b/x", "", "", "want s3://bucket/prefix"},
		{"s3:///x", "", "", "want s3://bucket/prefix"},
		{"s3://b/x?versionId=1", "", "", "query"},
	} {
		b, p, err := s3.ParseURL(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseURL(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", c.in, b, p, err, c.bucket, c.prefix)
		}
	}
}

func put(t *testing.T, srv *s3test.Server, objects map[string][]byte) {
	t.Helper()
	if err := srv.PutAll(objects); err != nil {
		t.Fatal(err)
	}
}

func listKeys(t *testing.T, src source.Source) []string {
	t.Helper()
	return sourcetest.Keys(sourcetest.List(t, src, source.ListOptions{}))
}

// The endpoint can come from AWS_ENDPOINT_URL_S3 alone, which SDK v2 reads
// from the environment, and credentials and region from the default chain.
func TestEndpointFromEnvironment(t *testing.T) {
	srv := s3test.Start(t, "envbucket")
	put(t, srv, map[string][]byte{"k": []byte("v")})
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	t.Setenv("AWS_REGION", "")
	src, err := s3.New(t.Context(), s3.Config{URL: "s3://envbucket/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, src); len(got) != 1 || got[0] != "k" {
		t.Fatalf("keys %q", got)
	}
	if st := srv.Stats(); st.Requests == 0 {
		t.Fatal("the fake saw no request: the endpoint was not taken from the environment")
	}
}

// A named profile supplies region and credentials; path style reaches a
// store addressed by host name.
func TestProfileAndPathStyle(t *testing.T) {
	srv := s3test.Start(t, "profbucket")
	put(t, srv, map[string][]byte{"a/b": []byte("v")})
	cfgFile := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfgFile, []byte("[profile audit-readonly]\nregion = eu-west-1\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n"), 0o600)
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	endpoint := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	src, err := s3.New(t.Context(), s3.Config{URL: "s3://profbucket/a", Profile: "audit-readonly", Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, src); len(got) != 1 || got[0] != "b" {
		t.Fatalf("keys %q", got)
	}
	if _, err := s3.New(t.Context(), s3.Config{URL: "s3://profbucket/", Profile: "no-such-profile"}); err == nil {
		t.Error("New with an unknown profile succeeded")
	}
}

func TestNoRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	_, err := s3.New(t.Context(), s3.Config{URL: "s3://b/"})
	if err == nil || !strings.Contains(err.Error(), "no region") {
		t.Fatalf("New without region = %v, want a 'no region' error", err)
	}
}

func TestVersionAndChange(t *testing.T) {
	srv := s3test.Start(t, "ver")
	put(t, srv, map[string][]byte{"k": []byte("first")})
	src, err := srv.Source(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	objs := sourcetest.List(t, src, source.ListOptions{})
	put(t, srv, map[string][]byte{"k": []byte("second, longer")})
	_, err = sourcetest.ReadAll(t.Context(), src, objs[0])
	if !errors.Is(err, source.ErrChanged) {
		t.Fatalf("Open of a replaced object = %v, want ErrChanged", err)
	}
	if source.IsRetryable(err) {
		t.Error("ErrChanged is retryable")
	}
	_, err = sourcetest.ReadAll(t.Context(), src, source.Object{Key: "k", VersionID: "no-such-version"})
	if err == nil {
		t.Error("Open of an unknown version succeeded")
	}
}

// rangeCounter counts resumed reads.
type rangeCounter struct {
	*s3.S3
	n atomic.Int64
}

func (r *rangeCounter) OpenRange(ctx context.Context, obj source.Object, offset int64) (io.ReadCloser, error) {
	r.n.Add(1)
	return r.S3.OpenRange(ctx, obj, offset)
}

// TestFaults reads every object through Retrying under each injected fault,
// on listings and on bodies, and checks the exact bytes.
func TestFaults(t *testing.T) {
	objects := map[string][]byte{"empty": {}, "one": {'1'}}
	for i := range 40 {
		objects[fmt.Sprintf("2024/05/01/%02d/obj-%02d.gz", i%24, i)] = bytes.Repeat([]byte{byte('a' + i%26)}, 1000*i+7)
	}
	objects["big"] = bytes.Repeat([]byte("0123456789"), 200_000) // 2 MB: resumed with Range requests

	cases := []struct {
		name   string
		faults s3test.Faults
		want   []s3test.Fault
	}{
		{"slowdown", s3test.Faults{Schedule: []s3test.Fault{s3test.SlowDown, s3test.SlowDown, s3test.None}, Rate: 0.3, Kinds: []s3test.Fault{s3test.SlowDown}, Seed: 1}, []s3test.Fault{s3test.SlowDown}},
		{"reset", s3test.Faults{Rate: 0.3, Kinds: []s3test.Fault{s3test.Reset}, Seed: 2, Only: s3test.GetObjects}, []s3test.Fault{s3test.Reset}},
		{"truncate", s3test.Faults{Rate: 0.3, Kinds: []s3test.Fault{s3test.Truncate}, Seed: 3, Only: s3test.GetObjects}, []s3test.Fault{s3test.Truncate}},
		{"slow", s3test.Faults{Rate: 0.3, Kinds: []s3test.Fault{s3test.Slow}, Seed: 4, SlowDelay: 20 * time.Millisecond}, []s3test.Fault{s3test.Slow}},
		{"list cut", s3test.Faults{Schedule: []s3test.Fault{s3test.Truncate, s3test.Reset, s3test.None, s3test.Reset}, Only: s3test.Lists}, []s3test.Fault{s3test.Truncate, s3test.Reset}},
		{"mixed", s3test.Faults{Rate: 0.4, Seed: 5, SlowDelay: 10 * time.Millisecond}, []s3test.Fault{s3test.SlowDown, s3test.Reset, s3test.Truncate}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := s3test.Start(t, "faulty")
			put(t, srv, objects)
			cfg := srv.Config("")
			cfg.PageSize = 10
			raw, err := s3.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			retries := 0
			counted := &rangeCounter{S3: raw}
			src := source.Retrying(counted, source.RetryPolicy{Attempts: 20, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
				OnRetry: func(string, int, error) { retries++ }})
			srv.SetFaults(c.faults)

			objs := sourcetest.List(t, src, source.ListOptions{})
			if len(objs) != len(objects) {
				t.Fatalf("listed %d objects, want %d", len(objs), len(objects))
			}
			for _, o := range objs {
				got, err := sourcetest.ReadAll(t.Context(), src, o)
				if err != nil {
					t.Fatalf("read %s: %v", o.Key, err)
				}
				if !bytes.Equal(got, objects[o.Key]) {
					t.Fatalf("read %s: %d bytes, want %d identical bytes", o.Key, len(got), len(objects[o.Key]))
				}
			}
			st := srv.Stats()
			for _, f := range c.want {
				if st.Injected[f] == 0 {
					t.Errorf("no %v fault was injected (%v)", f, st.Injected)
				}
			}
			if c.name != "slow" && retries == 0 {
				t.Error("nothing was retried")
			}
			if (c.name == "reset" || c.name == "truncate") && counted.n.Load() == 0 {
				t.Error("no body was resumed with a Range request")
			}
			t.Logf("%d requests, injected %v, %d retries", st.Requests, st.Injected, retries)
		})
	}
}

// Without the wrapper each fault is an error that IsRetryable recognises.
func TestFaultsAreRetryable(t *testing.T) {
	for _, f := range []s3test.Fault{s3test.SlowDown, s3test.Reset, s3test.Truncate} {
		t.Run(f.String(), func(t *testing.T) {
			srv := s3test.Start(t, "raw")
			put(t, srv, map[string][]byte{"k": bytes.Repeat([]byte("x"), 100_000)})
			src, err := srv.Source(t.Context(), "")
			if err != nil {
				t.Fatal(err)
			}
			objs := sourcetest.List(t, src, source.ListOptions{})
			srv.SetFaults(s3test.Faults{Schedule: []s3test.Fault{f}, Only: s3test.GetObjects})
			_, err = sourcetest.ReadAll(t.Context(), src, objs[0])
			if err == nil {
				t.Fatal("read succeeded under the fault")
			}
			if !source.IsRetryable(err) {
				t.Fatalf("IsRetryable(%v) = false", err)
			}
		})
	}
}

// A retry gives up when ctx ends, even in the middle of a backoff.
func TestRetryHonoursContext(t *testing.T) {
	srv := s3test.Start(t, "ctx")
	put(t, srv, map[string][]byte{"k": []byte("v")})
	raw, err := srv.Source(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(s3test.Faults{Rate: 1, Kinds: []s3test.Fault{s3test.SlowDown}})
	src := source.Retrying(raw, source.RetryPolicy{Attempts: 1000, BaseDelay: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = src.List(ctx, source.ListOptions{}, func(source.Object) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("List under permanent SlowDown = %v after %v, want the deadline at once", err, time.Since(start))
	}
	_, err = src.Open(ctx, source.Object{Key: "k", Size: 1})
	if err == nil {
		t.Fatal("Open under permanent SlowDown succeeded")
	}
}
