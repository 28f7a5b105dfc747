package das

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
)

// KMS decrypts data keys with AWS KMS Decrypt. It retries throttling, 5xx and
// network errors itself (with jittered exponential backoff honouring ctx), so
// the SDK's own retryer is switched off for its calls. It does not cache: the
// Decoder keeps each data key for the run.
type KMS struct {
	client   *kms.Client
	attempts int
	base     time.Duration
	max      time.Duration
	calls    atomic.Int64
}

var _ KeyDecrypter = (*KMS)(nil)

// NewKMS returns a KeyDecrypter that calls KMS Decrypt through client.
func NewKMS(client *kms.Client) *KMS {
	return &KMS{client: client, attempts: 6, base: 100 * time.Millisecond, max: 5 * time.Second}
}

// WithRetry sets the number of attempts per data key and the first backoff
// delay (it doubles per attempt, with full jitter, up to 50× base).
func (k *KMS) WithRetry(attempts int, base time.Duration) *KMS {
	k.attempts = max(attempts, 1)
	k.base = base
	k.max = 50 * base
	return k
}

// Calls is the number of Decrypt requests sent, retries included.
func (k *KMS) Calls() int64 { return k.calls.Load() }

// NewKMSClient builds a KMS client from the default credential chain
// (environment, shared config and SSO, web identity, IMDS). region and profile
// are optional overrides of AWS_REGION / AWS_PROFILE. AWS_ENDPOINT_URL_KMS (or
// AWS_ENDPOINT_URL) selects a custom endpoint, as everywhere in SDK v2.
func NewKMSClient(ctx context.Context, region, profile string) (*kms.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config for KMS: %w", err)
	}
	return kms.NewFromConfig(cfg), nil
}

// DecryptDataKey calls KMS Decrypt with the blob and encryption context.
func (k *KMS) DecryptDataKey(ctx context.Context, blob []byte, encCtx map[string]string) ([]byte, error) {
	in := &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: encCtx}
	noRetry := func(o *kms.Options) { o.Retryer = aws.NopRetryer{} }
	var last error
	for attempt := 0; attempt < k.attempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, k.backoff(attempt)); err != nil {
				return nil, fmt.Errorf("kms decrypt: %w", err)
			}
		}
		k.calls.Add(1)
		out, err := k.client.Decrypt(ctx, in, noRetry)
		if err == nil {
			if len(out.Plaintext) != 32 {
				clear(out.Plaintext)
				return nil, &KeyError{Kind: KeyUnknown, Code: "BadPlaintext", KeyID: aws.ToString(out.KeyId), Final: true,
					Err: fmt.Errorf("data key is %d bytes, want 32", len(out.Plaintext))}
			}
			return out.Plaintext, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("kms decrypt: %w", ctx.Err())
		}
		ke := classifyKMSError(err)
		if ke.Final {
			return nil, ke
		}
		last = ke
	}
	return nil, last
}

func (k *KMS) backoff(attempt int) time.Duration {
	d := k.base << min(attempt-1, 20)
	if d > k.max || d <= 0 {
		d = k.max
	}
	return time.Duration(rand.Int64N(int64(d)) + 1) // full jitter
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keyARN finds a KMS key ARN in an error message (AccessDenied names it).
var keyARN = regexp.MustCompile(`arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+`)

// classifyKMSError turns an SDK error into a KeyError. Retryable errors come
// back with Final false.
func classifyKMSError(err error) *KeyError {
	ke := &KeyError{Kind: KeyAccess, Err: err}
	var api smithy.APIError
	if errors.As(err, &api) {
		ke.Code = api.ErrorCode()
		ke.KeyID = keyARN.FindString(api.ErrorMessage())
		switch ke.Code {
		case "InvalidCiphertextException", "IncorrectKeyException":
			ke.Kind, ke.Final = KeyUnknown, true
		case "ThrottlingException", "LimitExceededException", "RequestLimitExceeded",
			"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException",
			"ServiceUnavailable", "InternalFailure":
			ke.Final = false
		default:
			// AccessDeniedException, KMSInvalidStateException, DisabledException,
			// NotFoundException, InvalidGrantTokenException, …
			ke.Final = true
			var re *awshttp.ResponseError
			if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
				ke.Final = false
			}
		}
		return ke
	}
	var ne net.Error
	var re *awshttp.ResponseError
	switch {
	case errors.As(err, &re) && re.HTTPStatusCode() >= 500:
		ke.Code = fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	case errors.As(err, &ne):
		ke.Code = "NetworkError"
	default:
		ke.Code = "RequestError"
	}
	return ke
}
