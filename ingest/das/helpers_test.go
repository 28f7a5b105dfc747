package das

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/store/model"
)

const corpusDir = "../../testdata/das"

// fakeKMS serves table over real HTTP on 127.0.0.1 and returns a real SDK client for it.
func fakeKMS(t testing.TB, table map[string]kmsfake.Key) (*kmsfake.Server, *kms.Client) {
	t.Helper()
	srv := kmsfake.New(table)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := kms.New(kms.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(hs.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	return srv, client
}

func folderKMS(t testing.TB, folder string) (*kmsfake.Server, *kms.Client) {
	t.Helper()
	table, err := kmsfake.LoadKeysJSON(filepath.Join(corpusDir, folder, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	return fakeKMS(t, table)
}

// collected is what a Decode emitted, copied out of the reused batches.
type collected struct {
	mu         sync.Mutex
	events     []model.Event
	heartbeats []model.Heartbeat
	rejects    []model.Reject
}

func (c *collected) emit(b *model.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, b.Events...)
	c.heartbeats = append(c.heartbeats, b.Heartbeats...)
	c.rejects = append(c.rejects, b.Rejects...)
	return nil
}

// recordOffsets lists the distinct outer record offsets seen, in order: index i
// is the i-th record of the object.
func (c *collected) recordOffsets() []int64 {
	seen := map[int64]bool{}
	add := func(off int64) { seen[off] = true }
	for _, e := range c.events {
		add(refOffset(e.ObjectRef))
	}
	for _, h := range c.heartbeats {
		add(refOffset(h.ObjectRef))
	}
	for _, r := range c.rejects {
		add(r.Offset)
	}
	out := make([]int64, 0, len(seen))
	for off := range seen {
		out = append(out, off)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// refOffset reads the record offset of "ref#offset/index".
func refOffset(ref string) int64 {
	i := strings.LastIndexByte(ref, '#')
	j := strings.LastIndexByte(ref, '/')
	n, _ := strconv.ParseInt(ref[i+1:j], 10, 64)
	return n
}

func refIndex(ref string) int {
	j := strings.LastIndexByte(ref, '/')
	n, _ := strconv.Atoi(ref[j+1:])
	return n
}

func decodeFile(t testing.TB, d *Decoder, folder, key string, opt Options) (*collected, Stats) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, folder, "s3", key))
	if err != nil {
		t.Fatal(err)
	}
	var c collected
	st, err := d.Decode(context.Background(), "s3://bucket/"+key, key, bytes.NewReader(b), opt, c.emit)
	if err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
	return &c, st
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readCorpus(t testing.TB, folder, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, folder, "s3", key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
