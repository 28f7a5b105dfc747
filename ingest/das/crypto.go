package das

import (
	"context"
	"fmt"
	"strings"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	esdk "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygenerated"
	esdktypes "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygeneratedtypes"
)

// DAS wraps its data keys with a raw AES keyring of this namespace and name.
const (
	keyNamespace = "BC"
	keyName      = "DataKey"
)

type keyring = mpltypes.IKeyring

// keyringError is a data key the keyring could not be built from (wrong size):
// definite, so it is cached like a KMS refusal.
type keyringError struct{ err error }

func (e *keyringError) Error() string { return "build AES keyring: " + e.err.Error() }
func (e *keyringError) Unwrap() error { return e.err }

// cryptoClients holds the Material Providers and Encryption SDK clients. They
// are built once (construction is costly and panics on bad configuration)
// and shared by every record.
type cryptoClients struct {
	mpl *mpl.Client
	// decrypt uses REQUIRE_ENCRYPT_ALLOW_DECRYPT: DAS writes non-committing
	// suites (0x0378), which the SDK's default policy refuses.
	decrypt *esdk.Client
}

func newCryptoClients() (c *cryptoClients, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("build encryption SDK clients: panic: %v", r)
		}
	}()
	m, err := mpl.NewClient(mpltypes.MaterialProvidersConfig{})
	if err != nil {
		return nil, fmt.Errorf("build material providers client: %w", err)
	}
	d, err := newESDKClient(mpltypes.ESDKCommitmentPolicyRequireEncryptAllowDecrypt)
	if err != nil {
		return nil, err
	}
	return &cryptoClients{mpl: m, decrypt: d}, nil
}

func newESDKClient(policy mpltypes.ESDKCommitmentPolicy) (c *esdk.Client, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("build encryption SDK client (%s): panic: %v", policy, r)
		}
	}()
	c, err = esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{CommitmentPolicy: &policy})
	if err != nil {
		return nil, fmt.Errorf("build encryption SDK client (%s): %w", policy, err)
	}
	return c, nil
}

// newKeyring builds the raw AES keyring for one 32-byte data key.
func (c *cryptoClients) newKeyring(ctx context.Context, dataKey []byte) (kr keyring, err error) {
	if len(dataKey) != 32 {
		return nil, &keyringError{fmt.Errorf("data key is %d bytes, want 32", len(dataKey))}
	}
	defer func() {
		if r := recover(); r != nil {
			kr, err = nil, &keyringError{fmt.Errorf("panic: %v", r)}
		}
	}()
	// The keyring keeps its own copy; the caller clears dataKey.
	key := append([]byte(nil), dataKey...)
	kr, err = c.mpl.CreateRawAesKeyring(ctx, mpltypes.CreateRawAesKeyringInput{
		KeyNamespace: keyNamespace,
		KeyName:      keyName,
		WrappingKey:  key,
		WrappingAlg:  mpltypes.AesWrappingAlgAlgAes256GcmIv12Tag16,
	})
	if err != nil {
		return nil, &keyringError{err}
	}
	return kr, nil
}

// decryptMessage decrypts one Encryption SDK message. Any failure, including a
// panic inside the SDK on hostile input, is an authentication failure of the
// record; the SDK's error text is kept for the detail but never matched on.
func (c *cryptoClients) decryptMessage(ctx context.Context, kr keyring, msg []byte) (pt []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			pt, err = nil, fmt.Errorf("encryption SDK decrypt: panic: %v", r)
		}
	}()
	out, err := c.decrypt.Decrypt(ctx, esdktypes.DecryptInput{Ciphertext: msg, Keyring: kr})
	if err != nil {
		return nil, fmt.Errorf("encryption SDK decrypt: %w", sdkError{err})
	}
	return out.Plaintext, nil
}

// sdkError hides the SDK's broken message prefix ("%!s(*string=<nil>): ") from
// the text users read; the error itself is kept for errors.As.
type sdkError struct{ err error }

func (e sdkError) Error() string {
	msg := e.err.Error()
	if strings.HasPrefix(msg, "%!") {
		if i := strings.Index(msg, "): "); i >= 0 {
			return msg[i+3:]
		}
	}
	return msg
}

func (e sdkError) Unwrap() error { return e.err }
