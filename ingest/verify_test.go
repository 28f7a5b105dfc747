package ingest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/auditlens/auditlens/ingest/source"
)

// TestVerifyRemote syncs DAS objects from the fake S3, changes one and deletes
// another there, and expects verify --remote to find exactly those.
func TestVerifyRemote(t *testing.T) {
	ctx := context.Background()
	env := newDASEnv(t, "orders-prod")
	var exp struct {
		ResourceID string `json:"cluster_resource_id"`
	}
	readJSON(t, filepath.Join(corpus, "das", "orders-prod", "expected.json"), &exp)
	job := env.job(t, "orders-prod", "orders-prod", exp.ResourceID, "sync")
	st := openStore(t)
	if _, err := Run(ctx, st, []Job{job}, Options{}); err != nil {
		t.Fatal(err)
	}
	objs, err := st.StoredObjects(ctx)
	if err != nil || len(objs) != 4 {
		t.Fatalf("objects: %d %v", len(objs), err)
	}
	raw, err := env.s3.Source(ctx, "orders-prod/")
	if err != nil {
		t.Fatal(err)
	}
	srcs := map[string]source.Source{job.Name: raw}
	res, err := VerifyRemote(ctx, st, srcs, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != RemoteUnchanged {
			t.Fatalf("before tampering: %+v", r)
		}
	}
	changedKey := "orders-prod/" + objs[1].Key
	if err := env.s3.Put(changedKey, []byte(`{"type":"DatabaseActivityMonitoringRecords"}`)); err != nil {
		t.Fatal(err)
	}
	if err := env.s3.Delete("orders-prod/" + objs[2].Key); err != nil {
		t.Fatal(err)
	}
	res, err = VerifyRemote(ctx, st, srcs, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{objs[0].URI: RemoteUnchanged, objs[1].URI: RemoteChanged, objs[2].URI: RemoteMissing, objs[3].URI: RemoteUnchanged}
	for _, r := range res {
		if r.Status != want[r.Object.URI] {
			t.Errorf("%s: %s (%s), want %s", r.Object.URI, r.Status, r.Detail, want[r.Object.URI])
		}
	}
}
