// Package s3 is the Source for Amazon S3 and S3-compatible stores, where
// Firehose delivers Database Activity Streams and where RDS log exports land.
//
// It owns the S3 client setup (credential chain, profile, region, endpoint,
// path style), paginated and date-narrowed listing, and GetObject. It is the
// only package that imports the S3 SDK; it must not import the store or the
// decoders. It does not retry: wrap it with source.Retrying.
//
// Objects encrypted with SSE-S3 or SSE-KMS need nothing special: S3 decrypts
// them on GetObject, provided the caller may use the KMS key (kms:Decrypt).
// A missing KMS permission is an AccessDenied, never retried. (DAS payloads
// are encrypted a second time, inside the object; that is ingest/das's job.)
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/internal/datepath"
)

var (
	_ source.Source      = (*S3)(nil)
	_ source.RangeOpener = (*S3)(nil)
)

// Config selects a bucket prefix and how to reach it. Only URL is required.
type Config struct {
	// URL is s3://bucket or s3://bucket/prefix; the prefix is taken as a
	// folder ("orders" and "orders/" both mean orders/).
	URL string
	// Region of the bucket; default from the profile or AWS_REGION. Required
	// for AWS unless an endpoint is set (S3-compatible stores get us-east-1).
	Region string
	// Profile in the shared config files; "" uses AWS_PROFILE or default. The
	// credentials come from the SDK's default chain (env, SSO, files,
	// web identity, container and instance roles), never from our config.
	Profile string
	// Endpoint of an S3-compatible store (MinIO, Ceph, a VPC endpoint). When
	// empty, the SDK honours AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL.
	Endpoint string
	// PathStyle addresses buckets as endpoint/bucket instead of
	// bucket.endpoint, which most S3-compatible stores need.
	PathStyle bool
	// PageSize is MaxKeys per ListObjectsV2 call (default and maximum 1000).
	PageSize int32
	// Credentials replaces the default chain when set; for tests and the demo
	// against a fake S3, never for users.
	Credentials aws.CredentialsProvider
}

// S3 lists and reads the objects under one bucket prefix.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ends with "/"
	pageSize int32
}

// ParseURL splits s3://bucket/prefix into the bucket and a folder prefix that
// is "" or ends with "/".
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("parse %q: %w", raw, err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("parse %q: want s3://bucket/prefix", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("parse %q: a query or fragment is not part of an S3 prefix", raw)
	}
	prefix = strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// New builds the client. It makes no request: wrong credentials or a missing
// bucket surface on the first List.
func New(ctx context.Context, cfg Config) (*S3, error) {
	bucket, prefix, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("s3 source: %w", err)
	}
	opts := []func(*config.LoadOptions) error{
		// Retries belong to source.Retrying; two retry loops would multiply.
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 source %s: aws config: %w", cfg.URL, err)
	}
	customEndpoint := cfg.Endpoint != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	if awsCfg.Region == "" {
		if !customEndpoint {
			return nil, fmt.Errorf("s3 source %s: no region: set region in the source, --region, or AWS_REGION", cfg.URL)
		}
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// The SDK logs to stderr by default, which is the terminal the TUI
		// draws on; messages worth keeping reach the caller as errors.
		o.Logger = logging.Nop{}
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	ps := cfg.PageSize
	if ps <= 0 || ps > 1000 {
		ps = 1000
	}
	return &S3{client: client, bucket: bucket, prefix: prefix, pageSize: ps}, nil
}

// String returns s3://bucket/prefix.
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// Bucket returns the bucket name.
func (s *S3) Bucket() string { return s.bucket }

// Prefix returns the folder prefix ("" or ending with "/").
func (s *S3) Prefix() string { return s.prefix }

// List lists the objects under the prefix, in key order.
//
// Without Since/Until it is one paginated ListObjectsV2 over the prefix. With
// them, and a date-structured prefix (a year folder YYYY/ right under it), it
// walks the Firehose layout YYYY/MM/DD/HH/ with delimited listings, skips the
// date folders outside the range without listing them, and lists each date
// folder that lies wholly inside the range (a whole day, month or year) in one
// paginated call, so a range costs a handful of calls rather than one per
// hour. Keys under the prefix that are outside the date layout are then not
// listed. A prefix without year folders is listed in full (see
// source.ListOptions); finding that out costs one delimited listing more.
func (s *S3) List(ctx context.Context, opts source.ListOptions, fn func(source.Object) error) error {
	rng := datepath.Range{Since: opts.Since, Until: opts.Until}.UTC()
	if rng.Set() {
		dated, err := s.hasYearDir(ctx)
		if err != nil {
			return err
		}
		if dated {
			return s.walkDated(ctx, s.prefix, 0, rng, opts.StartAfter, fn)
		}
	}
	return s.listFlat(ctx, s.prefix, opts.StartAfter, fn)
}

// listFlat lists every key under dir (a full key prefix) after startAfter (a
// key relative to s.prefix).
func (s *S3) listFlat(ctx context.Context, dir, startAfter string, fn func(source.Object) error) error {
	in := &s3.ListObjectsV2Input{
		Bucket:  aws.String(s.bucket),
		Prefix:  aws.String(dir),
		MaxKeys: aws.Int32(s.pageSize),
	}
	if startAfter != "" {
		in.StartAfter = aws.String(s.prefix + startAfter)
	}
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", s.bucket, dir, err)
		}
		for _, o := range page.Contents {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("list s3://%s/%s: %w", s.bucket, dir, err)
			}
			obj, ok := s.object(o)
			if !ok || obj.Key <= startAfter {
				continue
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// entry is one line of a delimited listing: an object or a common prefix.
type entry struct {
	name   string // full key, or full prefix ending with "/"
	object *types.Object
}

// listDir is a delimited listing of dir: its objects and sub-folders, in key
// order, page by page.
func (s *S3) listDir(ctx context.Context, dir string, fn func(entry) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:    aws.String(s.bucket),
		Prefix:    aws.String(dir),
		Delimiter: aws.String("/"),
		MaxKeys:   aws.Int32(s.pageSize),
	})
	lastPrefix := ""
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", s.bucket, dir, err)
		}
		ents := make([]entry, 0, len(page.Contents)+len(page.CommonPrefixes))
		for i := range page.Contents {
			ents = append(ents, entry{name: aws.ToString(page.Contents[i].Key), object: &page.Contents[i]})
		}
		for _, cp := range page.CommonPrefixes {
			// Some stores repeat a common prefix on the next page.
			if name := aws.ToString(cp.Prefix); name != lastPrefix {
				ents = append(ents, entry{name: name})
				lastPrefix = name
			}
		}
		slices.SortFunc(ents, func(a, b entry) int { return strings.Compare(a.name, b.name) })
		for _, e := range ents {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

var errFound = errors.New("found")

func (s *S3) hasYearDir(ctx context.Context) (bool, error) {
	err := s.listDir(ctx, s.prefix, func(e entry) error {
		if e.object == nil && datepath.Segment(0, nil, strings.TrimSuffix(strings.TrimPrefix(e.name, s.prefix), "/")) {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	return false, err
}

// walkDated lists the date folder dir at depth (0 for the prefix itself, 1 for
// a year folder…), whose span is known to overlap rng.
func (s *S3) walkDated(ctx context.Context, dir string, depth int, rng datepath.Range, startAfter string, fn func(source.Object) error) error {
	return s.listDir(ctx, dir, func(e entry) error {
		rel := strings.TrimPrefix(e.name, s.prefix)
		if e.object != nil {
			// A file directly in a date folder belongs to that folder's span;
			// files next to the year folders are outside the layout.
			obj, ok := s.object(*e.object)
			if depth == 0 || !ok || obj.Key <= startAfter {
				return nil
			}
			return fn(obj)
		}
		if rel < startAfter && !strings.HasPrefix(startAfter, rel) {
			return nil // every key below is before startAfter
		}
		segs := strings.Split(strings.TrimSuffix(rel, "/"), "/")
		if depth >= datepath.Levels || !datepath.Segment(depth, segs[:depth], segs[depth]) {
			if depth == 0 {
				return nil // outside the date layout
			}
			return s.listFlat(ctx, e.name, startAfter, fn) // inside an overlapping date folder
		}
		start, end, _ := datepath.Span(segs)
		switch {
		case !rng.Overlaps(start, end):
			return nil
		case depth+1 == datepath.Levels || rng.Contains(start, end):
			return s.listFlat(ctx, e.name, startAfter, fn)
		default:
			return s.walkDated(ctx, e.name, depth+1, rng, startAfter, fn)
		}
	})
}

// object converts a listed object; ok is false for keys that are not objects
// of the source: folder markers ("dir/" of size 0, made by consoles).
func (s *S3) object(o types.Object) (source.Object, bool) {
	key := aws.ToString(o.Key)
	if strings.HasSuffix(key, "/") || !strings.HasPrefix(key, s.prefix) {
		return source.Object{}, false
	}
	return source.Object{
		Key:          strings.TrimPrefix(key, s.prefix),
		URI:          "s3://" + s.bucket + "/" + key,
		Size:         aws.ToInt64(o.Size),
		ETag:         strings.Trim(aws.ToString(o.ETag), `"`),
		LastModified: aws.ToTime(o.LastModified).UTC(),
	}, true
}

// Open is GetObject of obj, pinned to obj.VersionID when set and otherwise to
// obj.ETag (If-Match, and a check of the answer's ETag for stores that ignore
// If-Match): a replaced object is ErrChanged, a missing one ErrNotFound.
func (s *S3) Open(ctx context.Context, obj source.Object) (io.ReadCloser, error) {
	return s.get(ctx, obj, 0)
}

// OpenRange is Open from byte offset (a Range request), with the same pins.
func (s *S3) OpenRange(ctx context.Context, obj source.Object, offset int64) (io.ReadCloser, error) {
	return s.get(ctx, obj, offset)
}

func (s *S3) get(ctx context.Context, obj source.Object, offset int64) (io.ReadCloser, error) {
	key := s.prefix + obj.Key
	uri := "s3://" + s.bucket + "/" + key
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	switch {
	case obj.VersionID != "":
		in.VersionId = aws.String(obj.VersionID)
	case obj.ETag != "":
		in.IfMatch = aws.String(`"` + obj.ETag + `"`)
	}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", uri, classify(err))
	}
	if obj.VersionID == "" && obj.ETag != "" && out.ETag != nil {
		if got := strings.Trim(*out.ETag, `"`); got != obj.ETag {
			out.Body.Close()
			return nil, fmt.Errorf("get %s: etag %s, listed %s: %w", uri, got, obj.ETag, source.ErrChanged)
		}
	}
	// The HTTP transport notices a cancelled ctx on its own goroutine, so
	// bytes already buffered could still be read; checking ctx before every
	// read makes the stop immediate.
	return source.ContextReader(ctx, out.Body, out.Body), nil
}

// classify adds the source sentinels to S3 errors that have one.
func classify(err error) error {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return fmt.Errorf("%w: %w", source.ErrNotFound, err)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NoSuchVersion", "NotFound":
			return fmt.Errorf("%w: %w", source.ErrNotFound, err)
		case "PreconditionFailed":
			return fmt.Errorf("%w: %w", source.ErrChanged, err)
		}
	}
	return err
}
