package sources

import (
	"context"
	"database/sql"
	"fmt"
)

// problemsPerSource bounds the list of bad objects shown per source.
const problemsPerSource = 200

// FromDB reads the summary from the case file's sources and objects tables with
// read-only SQL. It belongs in store (a Store.Sources method) and lives here
// until it moves there.
func FromDB(db *sql.DB) Lister { return dbLister{db} }

type dbLister struct{ db *sql.DB }

func (l dbLister) Sources(ctx context.Context) ([]Status, error) {
	// Objects may name sources the config no longer lists (ingest runs, removed
	// sources): list both.
	const q = `WITH names AS (SELECT name FROM sources UNION SELECT DISTINCT source FROM objects),
		agg AS (SELECT source, count(*) AS objects, sum(event_count) AS events,
			count(*) FILTER (WHERE status = 'quarantined') AS quarantined,
			count(*) FILTER (WHERE status = 'partial') AS partial
			FROM objects GROUP BY source)
		SELECT n.name, coalesce(s.kind, ''), coalesce(s.cluster, ''), coalesce(s.url, ''), coalesce(s.mode, ''),
			s.last_sync, coalesce(a.objects, 0), coalesce(a.events, 0), coalesce(a.quarantined, 0), coalesce(a.partial, 0)
		FROM names n LEFT JOIN sources s ON s.name = n.name LEFT JOIN agg a ON a.source = n.name
		ORDER BY n.name`
	rows, err := l.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	defer rows.Close()
	var out []Status
	for rows.Next() {
		var s Status
		var last sql.NullTime
		if err := rows.Scan(&s.Name, &s.Kind, &s.Cluster, &s.URL, &s.Mode, &last, &s.Objects, &s.Events, &s.Quarantined, &s.Partial); err != nil {
			return nil, fmt.Errorf("read sources: %w", err)
		}
		if last.Valid {
			s.LastSync = last.Time.UTC()
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	for i := range out {
		if out[i].Quarantined+out[i].Partial == 0 {
			continue
		}
		p, err := l.problems(ctx, out[i].Name)
		if err != nil {
			return nil, err
		}
		out[i].Problems = p
	}
	return out, nil
}

func (l dbLister) problems(ctx context.Context, source string) ([]Problem, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT uri, status, coalesce(reason, ''), coalesce(detail, ''), reject_count
		FROM objects WHERE source = ? AND status <> 'ok' ORDER BY ingested_at DESC, object_id DESC LIMIT ?`, source, problemsPerSource)
	if err != nil {
		return nil, fmt.Errorf("read quarantined objects of %s: %w", source, err)
	}
	defer rows.Close()
	var out []Problem
	for rows.Next() {
		var p Problem
		if err := rows.Scan(&p.URI, &p.Status, &p.Reason, &p.Detail, &p.Rejects); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
