package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

// TestEncryptedCaseFile exercises the key plumbing. Writing an encrypted file
// needs DuckDB's httpfs extension, which cannot be installed offline, so this
// test uses the unexported unsafe-crypto mode that no CLI flag can select.
func TestEncryptedCaseFile(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "secret.duckdb")
	s, err := Open(ctx, p, Options{EncryptionKey: "correct horse battery staple", allowUnsafeCrypto: true})
	if err != nil {
		t.Fatal(err)
	}
	writeObject(t, s, "/x", []model.Event{ev(1, "alice", "READ", "SELECT", "SELECT secret_marker_42 FROM cards")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "secret_marker_42") || strings.Contains(string(raw), "alice") {
		t.Error("plaintext found in the encrypted case file")
	}

	_, err = Open(ctx, p, Options{ReadOnly: true})
	if !errors.Is(err, ErrEncrypted) {
		t.Errorf("open without key: %v", err)
	}
	_, err = Open(ctx, p, Options{ReadOnly: true, EncryptionKey: "wrong"})
	if !errors.Is(err, ErrEncrypted) {
		t.Errorf("open with wrong key: %v", err)
	}
	ro, err := Open(ctx, p, Options{ReadOnly: true, EncryptionKey: "correct horse battery staple"})
	if err != nil {
		t.Fatalf("open with key: %v", err)
	}
	defer ro.Close()
	if n, _ := ro.Count(ctx, Filter{}); n != 1 {
		t.Errorf("rows after reopen = %d", n)
	}

	plain := filepath.Join(t.TempDir(), "plain.duckdb")
	ps, err := Open(ctx, plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = ps.Close()
	_, err = Open(ctx, plain, Options{ReadOnly: true, EncryptionKey: "x"})
	if !errors.Is(err, ErrEncrypted) {
		t.Errorf("key for a plain file: %v", err)
	}
}

func TestEncryptedWriteNeedsHTTPFS(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret.duckdb")
	s, err := Open(context.Background(), p, Options{EncryptionKey: "k"})
	if err == nil {
		// httpfs is installed here: the secure path works, which is the point.
		_ = s.Close()
		return
	}
	if !errors.Is(err, ErrEncrypted) || !strings.Contains(err.Error(), "httpfs") {
		t.Errorf("message does not say what to do: %v", err)
	}
}
