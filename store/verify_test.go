package store

import (
	"context"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

func TestVerifyChain(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) *Store {
		s, _ := openTemp(t)
		for i, uri := range []string{"s3://b/one", "s3://b/two", "s3://b/three"} {
			writeObject(t, s, uri, []model.Event{ev(i*2, "a", "READ", "SELECT", "s"), ev(i*2+1, "b", "READ", "SELECT", "s")})
		}
		return s
	}
	s := setup(t)
	rep, err := s.VerifyChain(ctx)
	if err != nil || !rep.OK() || rep.Objects != 3 || rep.Events != 6 || len(rep.Head) != 64 {
		t.Fatalf("clean case file: %+v %v", rep, err)
	}

	tamper := []struct {
		name, sql, uri, want string
	}{
		{"flip a byte of an object hash", `UPDATE objects SET sha256 = 'b' || substr(sha256, 2) WHERE uri = 's3://b/two'`, "s3://b/two", "altered"},
		{"delete an event", `DELETE FROM events WHERE event_id = (SELECT min(event_id) FROM events WHERE object_id = 3)`, "s3://b/three", "1 events stored, 2 recorded"},
		{"lower the recorded count too", `UPDATE objects SET event_count = 1 WHERE uri = 's3://b/one'`, "s3://b/one", "altered"},
		{"remove an object", `DELETE FROM objects WHERE uri = 's3://b/two'`, "s3://b/three", "link to the previous object is broken"},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t)
			if _, err := s.DB().Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			rep, err := s.VerifyChain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("tampering not detected")
			}
			found := false
			for _, p := range rep.Problems {
				if p.URI == tc.uri && strings.Contains(p.Problem, tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %+v do not name %s with %q", rep.Problems, tc.uri, tc.want)
			}
		})
	}
}

// TestObjectGroup writes objects in groups: a committed group keeps every
// object and a valid chain; a rolled-back group leaves nothing, and the next
// objects continue the chain from what is on disk.
func TestObjectGroup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	group := func(uris []string, commit bool) {
		g, err := s.BeginGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range uris {
			tx := g.Object(ObjectMeta{Source: "g", URI: u, Key: u})
			if err := tx.Append(&model.Batch{Events: []model.Event{ev(i, "a", "READ", "SELECT", u)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Commit("sha-" + u); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			if err := g.Commit(); err != nil {
				t.Fatal(err)
			}
		} else {
			g.Rollback()
		}
	}
	group([]string{"/1", "/2", "/3"}, true)
	group([]string{"/4", "/5"}, false)
	writeObject(t, s, "/6", []model.Event{ev(9, "a", "READ", "SELECT", "x")})
	group([]string{"/7", "/8"}, true)
	rep, err := s.VerifyChain(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("chain: %+v %v", rep.Problems, err)
	}
	if rep.Objects != 6 || rep.Events != 6 {
		t.Errorf("objects %d events %d, want 6 and 6", rep.Objects, rep.Events)
	}
	var uris string
	_ = s.DB().QueryRow(`SELECT string_agg(uri, ',' ORDER BY object_id) FROM objects`).Scan(&uris)
	if uris != "/1,/2,/3,/6,/7,/8" {
		t.Errorf("objects %s", uris)
	}
}
