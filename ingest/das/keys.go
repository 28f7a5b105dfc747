package das

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// EncryptionContextKey is the KMS encryption context key DAS binds data keys to.
const EncryptionContextKey = "aws:rds:dbc-id"

// KeyDecrypter turns a KMS ciphertext blob into the 32-byte data key.
//
// Implementations return a *KeyError when KMS gave a definite answer (unknown
// ciphertext, access denied) so the decoder can say why a record was refused;
// other errors are treated as transient access failures. They must honour ctx.
type KeyDecrypter interface {
	DecryptDataKey(ctx context.Context, blob []byte, encCtx map[string]string) ([]byte, error)
}

// KeyErrorKind classifies why a data key could not be obtained.
type KeyErrorKind int

const (
	// KeyUnknown: KMS does not recognise the blob with this encryption context
	// (InvalidCiphertextException). A wrong context looks exactly the same.
	KeyUnknown KeyErrorKind = iota + 1
	// KeyAccess: the caller may not use the key, the key is disabled, or KMS
	// could not be reached after retries.
	KeyAccess
)

// KeyError is a refusal of KMS to decrypt a data key.
type KeyError struct {
	Kind  KeyErrorKind
	Code  string // KMS error code, e.g. "AccessDeniedException"
	KeyID string // key id or ARN when KMS named it
	// Final is true when retrying later will not help without a change
	// (permissions, key state, a wrong ciphertext); false for exhausted retries.
	Final bool
	Err   error
}

func (e *KeyError) Error() string {
	if e.KeyID != "" {
		return fmt.Sprintf("kms decrypt (key %s): %s: %v", e.KeyID, e.Code, e.Err)
	}
	return fmt.Sprintf("kms decrypt: %s: %v", e.Code, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// keyEntry is one cached data key: the keyring built from it, or why there is none.
type keyEntry struct {
	done    chan struct{} // closed when the fields below are set
	keyring keyring
	err     error
}

// keyCache turns blobs into keyrings, asking the KeyDecrypter once per distinct
// (blob, encryption context) for the life of the cache. Concurrent callers of
// the same key wait for the one call in flight. Plaintext keys live only inside
// the keyrings, in memory.
type keyCache struct {
	keys    KeyDecrypter
	build   func(ctx context.Context, dataKey []byte) (keyring, error)
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*keyEntry
	calls   int64 // guarded by mu
}

func newKeyCache(keys KeyDecrypter, build func(context.Context, []byte) (keyring, error)) *keyCache {
	return &keyCache{keys: keys, build: build, entries: make(map[[sha256.Size]byte]*keyEntry)}
}

// cacheKey hashes the blob and the context so that one blob asked for with two
// contexts (one of them wrong) gives two entries.
func cacheKey(blob []byte, encCtx map[string]string) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	putLen := func(l int) {
		for i := range n {
			n[i] = byte(uint64(l) >> (8 * i))
		}
		h.Write(n[:])
	}
	putLen(len(blob))
	h.Write(blob)
	names := make([]string, 0, len(encCtx))
	for k := range encCtx {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		putLen(len(k))
		h.Write([]byte(k))
		putLen(len(encCtx[k]))
		h.Write([]byte(encCtx[k]))
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// get returns the keyring for blob; called reports whether this call asked KMS.
func (c *keyCache) get(ctx context.Context, blob []byte, encCtx map[string]string) (kr keyring, called bool, err error) {
	k := cacheKey(blob, encCtx)
	for {
		c.mu.Lock()
		e, ok := c.entries[k]
		if !ok {
			e = &keyEntry{done: make(chan struct{})}
			c.entries[k] = e
			c.calls++
			c.mu.Unlock()
			c.fill(ctx, e, k, blob, encCtx)
			return e.keyring, true, e.err
		}
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if e.err != nil && !cacheable(e.err) {
			// The caller that filled it gave up (its ctx, a transient failure):
			// try again ourselves.
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			continue
		}
		return e.keyring, false, e.err
	}
}

func (c *keyCache) fill(ctx context.Context, e *keyEntry, k [sha256.Size]byte, blob []byte, encCtx map[string]string) {
	defer close(e.done)
	dataKey, err := c.keys.DecryptDataKey(ctx, blob, encCtx)
	if err == nil {
		e.keyring, err = c.build(ctx, dataKey)
		clear(dataKey)
	}
	e.err = err
	if err != nil && !cacheable(err) {
		c.mu.Lock()
		if c.entries[k] == e {
			delete(c.entries, k)
		}
		c.mu.Unlock()
	}
}

// cacheable reports whether a failure is definite for this run: asking again
// would cost a KMS call and give the same answer.
func cacheable(err error) bool {
	var ke *KeyError
	if errors.As(err, &ke) {
		return ke.Final
	}
	var be *keyringError
	return errors.As(err, &be)
}

// Calls is the number of data key requests made to the KeyDecrypter.
func (c *keyCache) Calls() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}
