package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sync"

	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/store"
)

// Remote verification outcomes.
const (
	RemoteUnchanged = "unchanged"  // same bytes as ingested
	RemoteChanged   = "changed"    // different bytes now
	RemoteMissing   = "missing"    // gone from the source
	RemoteUnread    = "unreadable" // could not be read (access, network, unknown source)
)

// RemoteResult is what re-reading one object found.
type RemoteResult struct {
	Object store.StoredObject
	Status string
	SHA256 string // of the bytes read now
	Detail string
}

// VerifyRemote re-reads every recorded object from its source (by version id
// where one was recorded, else the current object) and compares the SHA-256 of
// its bytes with the one recorded at ingest. sources maps source names to
// where their objects are; objects of other sources are reported unreadable.
// Pass the sources themselves, not wrapped by Retrying: a length that differs
// from the recorded one is a finding here, not a transfer fault to retry.
func VerifyRemote(ctx context.Context, st *store.Store, sources map[string]source.Source, workers int) ([]RemoteResult, error) {
	objs, err := st.StoredObjects(ctx)
	if err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = 8
	}
	out := make([]RemoteResult, len(objs))
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				out[i] = verifyOne(ctx, objs[i], sources[objs[i].Source])
			}
		}()
	}
	for i := range objs {
		select {
		case idx <- i:
		case <-ctx.Done():
		}
	}
	close(idx)
	wg.Wait()
	return out, ctx.Err()
}

func verifyOne(ctx context.Context, o store.StoredObject, src source.Source) RemoteResult {
	res := RemoteResult{Object: o}
	if src == nil {
		res.Status, res.Detail = RemoteUnread, "source "+o.Source+" is not in the configuration"
		return res
	}
	if o.URI != "" && len(o.URI) > 6 && o.URI[:6] == "stdin:" {
		res.Status, res.Detail = RemoteUnread, "read from standard input; nothing to re-read"
		return res
	}
	// No ETag: read what is there now (or the recorded version), not a pinned copy.
	rc, err := src.Open(ctx, source.Object{Key: o.Key, URI: o.URI, VersionID: o.VersionID})
	if err != nil {
		return failed(res, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return failed(res, err)
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	if res.SHA256 == o.SHA256 {
		res.Status = RemoteUnchanged
	} else {
		res.Status = RemoteChanged
		res.Detail = "recorded sha256 " + o.SHA256 + ", now " + res.SHA256
	}
	return res
}

func failed(res RemoteResult, err error) RemoteResult {
	res.Detail = err.Error()
	switch {
	case errors.Is(err, source.ErrNotFound):
		res.Status = RemoteMissing
	case errors.Is(err, source.ErrChanged):
		res.Status = RemoteChanged
	default:
		res.Status = RemoteUnread
	}
	return res
}
