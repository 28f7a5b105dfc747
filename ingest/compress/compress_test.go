package compress

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&buf)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func zs(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReader(t *testing.T) {
	line := "2026-11-25 11:42:16 UTC:[local]:postgres@postgres:[12478]:LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,x,<none>,0\n"
	tests := []struct {
		name, kind, want string
		in               []byte
		wantErr          bool
	}{
		{name: "plain", in: []byte(line), kind: KindNone, want: line},
		{name: "empty", in: nil, kind: KindNone, want: ""},
		{name: "one byte", in: []byte{0x1f}, kind: KindNone, want: "\x1f"},
		{name: "gzip", in: gz(t, line), kind: KindGzip, want: line},
		{name: "gzip multi-member", in: gz(t, line, "second\n", "third\n"), kind: KindGzip, want: line + "second\nthird\n"},
		{name: "zstd", in: zs(t, line), kind: KindZstd, want: line},
		{name: "gzip header broken", in: []byte{0x1f, 0x8b, 0, 0}, kind: KindGzip, wantErr: true},
		{name: "gzip truncated", in: gz(t, line)[:20], kind: KindGzip, wantErr: true},
		{name: "zstd truncated", in: zs(t, line)[:10], kind: KindZstd, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, kind, err := Reader(bytes.NewReader(tt.in))
			if err != nil {
				if !tt.wantErr {
					t.Fatalf("Reader: %v", err)
				}
				return
			}
			if kind != tt.kind {
				t.Errorf("kind = %q, want %q", kind, tt.kind)
			}
			got, err := io.ReadAll(r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadAll err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("2026-11-25 11:42:16 UTC::@:[1]:LOG:  x\n"))
	f.Add(gz(f, "a\n", "b\n"))
	f.Add(zs(f, "hello\n"))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, _, err := Reader(bytes.NewReader(in))
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	})
}
