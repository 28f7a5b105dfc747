package store

import (
	"context"
	"fmt"
)

// ChainProblem is one object whose provenance does not check out.
type ChainProblem struct {
	ObjectID int64
	URI      string
	Problem  string
}

// ChainReport is the outcome of VerifyChain.
type ChainReport struct {
	Objects  int64
	Events   int64
	Head     string // the last link: record it elsewhere to detect a rewritten chain
	Problems []ChainProblem
}

// OK reports whether nothing was found.
func (r ChainReport) OK() bool { return len(r.Problems) == 0 }

// VerifyChain recomputes the object hash chain in ingest order and the number
// of events and heartbeats stored for each object, and reports every object
// whose link, predecessor or row counts differ from what was recorded.
func (s *Store) VerifyChain(ctx context.Context) (ChainReport, error) {
	var rep ChainReport
	rows, err := s.db.QueryContext(ctx, `
		WITH ev AS (SELECT object_id, count(*) AS n FROM events GROUP BY object_id),
		     hb AS (SELECT object_id, count(*) AS n FROM heartbeats GROUP BY object_id)
		SELECT o.object_id, o.uri, coalesce(o.sha256, ''), o.event_count, o.heartbeat_count,
		       coalesce(o.prev_hash, ''), coalesce(o.chain_hash, ''),
		       coalesce(ev.n, 0), coalesce(hb.n, 0)
		FROM objects o LEFT JOIN ev USING (object_id) LEFT JOIN hb USING (object_id)
		ORDER BY o.object_id`)
	if err != nil {
		return rep, fmt.Errorf("read objects: %w", err)
	}
	defer rows.Close()
	prev := ""
	for rows.Next() {
		var id, events, hbs, haveEv, haveHB int64
		var uri, sha, prevHash, chain string
		if err := rows.Scan(&id, &uri, &sha, &events, &hbs, &prevHash, &chain, &haveEv, &haveHB); err != nil {
			return rep, err
		}
		rep.Objects++
		rep.Events += haveEv
		add := func(format string, a ...any) {
			rep.Problems = append(rep.Problems, ChainProblem{ObjectID: id, URI: uri, Problem: fmt.Sprintf(format, a...)})
		}
		if prevHash != prev {
			add("link to the previous object is broken (an object was removed, reordered or rewritten before it)")
		}
		if want := ChainLink(prevHash, uri, sha, events, hbs); want != chain {
			add("chain link does not match its content hash and counts (the object row was altered)")
		}
		if haveEv != events {
			add("%d events stored, %d recorded at ingest", haveEv, events)
		}
		if haveHB != hbs {
			add("%d heartbeats stored, %d recorded at ingest", haveHB, hbs)
		}
		prev = chain
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	rep.Head = prev
	var orphans int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE object_id NOT IN (SELECT object_id FROM objects)`).Scan(&orphans); err != nil {
		return rep, err
	}
	if orphans > 0 {
		rep.Problems = append(rep.Problems, ChainProblem{Problem: fmt.Sprintf("%d events belong to no recorded object (rows were added)", orphans)})
	}
	return rep, nil
}

// StoredObject is an object row as verify --remote needs it.
type StoredObject struct {
	ObjectID                          int64
	Source, URI, Key, ETag, VersionID string
	SHA256                            string
	Size                              int64
}

// StoredObjects lists the recorded objects, in ingest order.
func (s *Store) StoredObjects(ctx context.Context) ([]StoredObject, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT object_id, source, uri, object_key, coalesce(etag, ''), coalesce(version_id, ''),
		coalesce(sha256, ''), coalesce(size, 0) FROM objects ORDER BY object_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredObject
	for rows.Next() {
		var o StoredObject
		if err := rows.Scan(&o.ObjectID, &o.Source, &o.URI, &o.Key, &o.ETag, &o.VersionID, &o.SHA256, &o.Size); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
