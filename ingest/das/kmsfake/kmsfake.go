// Package kmsfake is an in-process fake of the AWS KMS operations a DAS reader
// and the product's generator use (TrentService.Decrypt and GenerateDataKey,
// JSON 1.1 protocol), served as an http.Handler so tests and demos reach it with
// the real SDK client through a custom endpoint (AWS_ENDPOINT_URL_KMS).
//
// It imports only the standard library. It is for tests and demos: it holds
// plaintext keys in memory and checks no signatures.
package kmsfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync"
)

// Key is one data key the fake knows, under the exact base64 text of its blob.
type Key struct {
	Plaintext         []byte            // the 32-byte data key
	EncryptionContext map[string]string // must match a Decrypt request exactly
	KeyID             string            // the KMS key ARN reported back
}

// Server is the fake KMS. It is safe for concurrent use.
type Server struct {
	mu        sync.Mutex
	keys      map[string]Key
	throttles int             // the next N requests fail with ThrottlingException
	denied    map[string]bool // key ids or blobs whose Decrypt is AccessDenied
	calls     map[string]int64
	principal string
}

var _ http.Handler = (*Server)(nil)

// New returns a fake serving table (blob base64 → key). The table is copied.
func New(table map[string]Key) *Server {
	s := &Server{
		keys:      make(map[string]Key, len(table)),
		denied:    make(map[string]bool),
		calls:     make(map[string]int64),
		principal: "arn:aws:iam::111122223333:user/auditlens-test",
	}
	for b, k := range table {
		s.keys[b] = k
	}
	return s
}

// keysFile is the shape of testdata/das/*/keys.json.
type keysFile map[string]struct {
	PlaintextB64      string            `json:"plaintext_b64"`
	EncryptionContext map[string]string `json:"encryption_context"`
	KeyID             string            `json:"key_id"`
}

// LoadKeysJSON reads a key table: {"<blob b64>": {"plaintext_b64", "encryption_context", "key_id"}}.
func LoadKeysJSON(path string) (map[string]Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load KMS key table: %w", err)
	}
	var f keysFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("load KMS key table %s: %w", path, err)
	}
	table := make(map[string]Key, len(f))
	for blob, k := range f {
		pt, err := base64.StdEncoding.DecodeString(k.PlaintextB64)
		if err != nil {
			return nil, fmt.Errorf("load KMS key table %s: plaintext of %.16s…: %w", path, blob, err)
		}
		table[blob] = Key{Plaintext: pt, EncryptionContext: k.EncryptionContext, KeyID: k.KeyID}
	}
	return table, nil
}

// Throttle makes the next n requests fail with ThrottlingException.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles = n
}

// Deny makes Decrypt of keys with this key id (or this blob) fail with
// AccessDeniedException, as KMS does when the key policy or IAM refuses.
func (s *Server) Deny(keyIDOrBlob string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[keyIDOrBlob] = true
}

// Calls is the number of requests of an operation ("Decrypt"), or of all when op is "".
func (s *Server) Calls(op string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op != "" {
		return s.calls[op]
	}
	var n int64
	for _, c := range s.calls {
		n += c
	}
	return n
}

// Table returns a copy of the key table, including generated keys.
func (s *Server) Table() map[string]Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.keys)
}

const targetPrefix = "TrentService."

// ServeHTTP implements the JSON 1.1 protocol of the operations above.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeErr(w, http.StatusBadRequest, "UnknownOperationException", "POST only")
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	if !ok {
		writeErr(w, http.StatusBadRequest, "UnknownOperationException", "unknown target "+target)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.calls[op]++
	throttled := s.throttles > 0
	if throttled {
		s.throttles--
	}
	s.mu.Unlock()
	if throttled {
		writeErr(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		return
	}
	switch op {
	case "Decrypt":
		s.decrypt(w, body)
	case "GenerateDataKey":
		s.generateDataKey(w, body)
	default:
		writeErr(w, http.StatusBadRequest, "UnknownOperationException", "unsupported operation "+op)
	}
}

func (s *Server) decrypt(w http.ResponseWriter, body []byte) {
	var req struct {
		CiphertextBlob    []byte            // base64 in JSON
		EncryptionContext map[string]string `json:",omitempty"`
		KeyId             string            `json:",omitempty"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	blob := base64.StdEncoding.EncodeToString(req.CiphertextBlob)
	s.mu.Lock()
	k, ok := s.keys[blob]
	denied := ok && (s.denied[k.KeyID] || s.denied[blob])
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusBadRequest, "InvalidCiphertextException", "")
		return
	}
	if denied {
		writeErr(w, http.StatusBadRequest, "AccessDeniedException", fmt.Sprintf(
			"User: %s is not authorized to perform: kms:Decrypt on resource: %s because no identity-based policy allows the kms:Decrypt action",
			s.principal, k.KeyID))
		return
	}
	if !sameContext(req.EncryptionContext, k.EncryptionContext) || (req.KeyId != "" && req.KeyId != k.KeyID) {
		writeErr(w, http.StatusBadRequest, "InvalidCiphertextException", "")
		return
	}
	writeJSON(w, map[string]any{
		"KeyId":               k.KeyID,
		"Plaintext":           k.Plaintext, // []byte marshals as base64
		"EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
	})
}

func (s *Server) generateDataKey(w http.ResponseWriter, body []byte) {
	var req struct {
		KeyId             string
		EncryptionContext map[string]string `json:",omitempty"`
		NumberOfBytes     int               `json:",omitempty"`
		KeySpec           string            `json:",omitempty"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if req.KeyId == "" {
		writeErr(w, http.StatusBadRequest, "ValidationException", "KeyId is required")
		return
	}
	n := 32
	switch {
	case req.NumberOfBytes > 0:
		n = req.NumberOfBytes
	case req.KeySpec == "AES_128":
		n = 16
	}
	if n > 1024 {
		writeErr(w, http.StatusBadRequest, "ValidationException", "NumberOfBytes too large")
		return
	}
	pt := make([]byte, n)
	blob := make([]byte, 184)
	_, _ = rand.Read(pt)
	_, _ = rand.Read(blob)
	copy(blob, []byte{0x01, 0x02, 0x03, 0x00, 0x78}) // the shape of a real KMS blob
	s.mu.Lock()
	s.keys[base64.StdEncoding.EncodeToString(blob)] = Key{
		Plaintext: pt, EncryptionContext: maps.Clone(req.EncryptionContext), KeyID: req.KeyId,
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"KeyId": req.KeyId, "Plaintext": pt, "CiphertextBlob": blob})
}

// sameContext is KMS's rule: the same pairs, no more, no fewer.
func sameContext(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
