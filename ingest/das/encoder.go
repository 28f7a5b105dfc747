package das

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	esdk "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygenerated"
	esdktypes "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygeneratedtypes"
)

// Algorithm suites of the Encryption SDK that DAS payloads use.
const (
	SuiteDAS          = "0x0378" // AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: what DAS writes
	SuiteHKDF         = "0x0178" // AES_256_GCM_IV12_TAG16_HKDF_SHA256
	SuiteCommit       = "0x0478" // AES_256_GCM_HKDF_SHA512_COMMIT_KEY
	SuiteCommitSigned = "0x0578" // AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
)

// EncodeOptions shapes one encoded outer record.
type EncodeOptions struct {
	Suite       string // one of the Suite* constants; default SuiteDAS
	FrameLength int64  // Encryption SDK frame length; 0 means the SDK default (4096)
	Version     string // outer record version; default "1.2"
}

// Encoder builds DAS outer records the way Aurora does, for the product's own
// generator (demo data, benchmarks). It is safe for concurrent use.
type Encoder struct {
	crypto *cryptoClients
	// forbid encrypts with the non-committing suites DAS uses, which a client
	// with a REQUIRE_ENCRYPT policy refuses to produce.
	forbid *esdk.Client
	mu     sync.Mutex
	rings  map[[sha256.Size]byte]keyring
}

// NewEncoder builds the Encryption SDK clients once.
func NewEncoder() (*Encoder, error) {
	c, err := newCryptoClients()
	if err != nil {
		return nil, fmt.Errorf("new DAS encoder: %w", err)
	}
	f, err := newESDKClient(mpltypes.ESDKCommitmentPolicyForbidEncryptAllowDecrypt)
	if err != nil {
		return nil, fmt.Errorf("new DAS encoder: %w", err)
	}
	return &Encoder{crypto: c, forbid: f, rings: make(map[[sha256.Size]byte]keyring)}, nil
}

func (e *Encoder) keyring(ctx context.Context, dataKey []byte) (keyring, error) {
	h := sha256.Sum256(dataKey)
	e.mu.Lock()
	kr, ok := e.rings[h]
	e.mu.Unlock()
	if ok {
		return kr, nil
	}
	kr, err := e.crypto.newKeyring(ctx, dataKey)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.rings[h] = kr
	e.mu.Unlock()
	return kr, nil
}

// EncryptPayload gzips inner (an inner record's JSON) and encrypts it with the
// raw AES keyring BC/DataKey wrapping dataKey: the databaseActivityEvents bytes.
func (e *Encoder) EncryptPayload(ctx context.Context, dataKey, inner []byte, opt EncodeOptions) ([]byte, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(inner); err != nil {
		return nil, fmt.Errorf("encrypt payload: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encrypt payload: gzip: %w", err)
	}
	return e.encrypt(ctx, dataKey, gz.Bytes(), opt)
}

// encrypt seals plaintext as it is (no gzip): tests use it to build bad payloads.
func (e *Encoder) encrypt(ctx context.Context, dataKey, plaintext []byte, opt EncodeOptions) (ct []byte, err error) {
	kr, err := e.keyring(ctx, dataKey)
	if err != nil {
		return nil, fmt.Errorf("encrypt payload: %w", err)
	}
	suite := mpltypes.ESDKAlgorithmSuiteId(opt.Suite)
	if opt.Suite == "" {
		suite = mpltypes.ESDKAlgorithmSuiteId(SuiteDAS)
	}
	client := e.forbid
	switch suite {
	case mpltypes.ESDKAlgorithmSuiteIdAlgAes256GcmHkdfSha512CommitKey,
		mpltypes.ESDKAlgorithmSuiteIdAlgAes256GcmHkdfSha512CommitKeyEcdsaP384:
		client = e.crypto.decrypt // REQUIRE_ENCRYPT_ALLOW_DECRYPT encrypts committing suites
	case mpltypes.ESDKAlgorithmSuiteIdAlgAes256GcmIv12Tag16HkdfSha384EcdsaP384,
		mpltypes.ESDKAlgorithmSuiteIdAlgAes256GcmIv12Tag16HkdfSha256:
	default:
		return nil, fmt.Errorf("encrypt payload: unsupported suite %q", opt.Suite)
	}
	in := esdktypes.EncryptInput{Plaintext: plaintext, Keyring: kr, AlgorithmSuiteId: &suite}
	if opt.FrameLength > 0 {
		fl := opt.FrameLength
		in.FrameLength = &fl
	}
	defer func() {
		if r := recover(); r != nil {
			ct, err = nil, fmt.Errorf("encrypt payload: panic: %v", r)
		}
	}()
	out, err := client.Encrypt(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("encrypt payload: %w", sdkError{err})
	}
	return out.Ciphertext, nil
}

// EncodeRecord returns one outer record's JSON: inner gzipped, encrypted under
// dataKey, base64'd, next to keyBlob (the KMS ciphertext of dataKey).
func (e *Encoder) EncodeRecord(ctx context.Context, dataKey, keyBlob, inner []byte, opt EncodeOptions) ([]byte, error) {
	ct, err := e.EncryptPayload(ctx, dataKey, inner, opt)
	if err != nil {
		return nil, err
	}
	return OuterRecord(opt.Version, ct, keyBlob)
}

// OuterRecord marshals an outer record from the encrypted payload and key blob.
func OuterRecord(version string, payload, keyBlob []byte) ([]byte, error) {
	if version == "" {
		version = "1.2"
	}
	b, err := json.Marshal(outerRecord{
		Type:    outerType,
		Version: version,
		Events:  base64.StdEncoding.EncodeToString(payload),
		Key:     base64.StdEncoding.EncodeToString(keyBlob),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal outer record: %w", err)
	}
	return b, nil
}

// MarshalInner builds the inner record JSON of one instance's events.
func MarshalInner(clusterID, instanceID string, events []json.RawMessage) ([]byte, error) {
	if events == nil {
		events = []json.RawMessage{}
	}
	b, err := json.Marshal(struct {
		Type       string            `json:"type"`
		ClusterID  string            `json:"clusterId"`
		InstanceID string            `json:"instanceId"`
		Events     []json.RawMessage `json:"databaseActivityEventList"`
	}{"DatabaseActivityMonitoringRecord", clusterID, instanceID, events})
	if err != nil {
		return nil, fmt.Errorf("marshal inner record: %w", err)
	}
	return b, nil
}

// ObjectOptions shapes a Firehose object.
type ObjectOptions struct {
	Gzip      bool   // GZIP the whole object, as Firehose compression does
	Delimiter string // between records: "" (Firehose's default) or "\n"
}

// WriteObject writes records as one Firehose object.
func WriteObject(w io.Writer, records [][]byte, opt ObjectOptions) error {
	var zw *gzip.Writer
	if opt.Gzip {
		zw = gzip.NewWriter(w)
		w = zw
	}
	for _, r := range records {
		if _, err := w.Write(r); err != nil {
			return fmt.Errorf("write DAS object: %w", err)
		}
		if opt.Delimiter != "" {
			if _, err := io.WriteString(w, opt.Delimiter); err != nil {
				return fmt.Errorf("write DAS object: %w", err)
			}
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("write DAS object: %w", err)
		}
	}
	return nil
}
