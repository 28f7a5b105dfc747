package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SourceRow is a configured source as recorded in the case file.
type SourceRow struct {
	Name, Kind, URL, Cluster, Mode, ResourceID, Format, LinePrefix, Region, Profile string
}

// UpsertSource records (or updates) a source's configuration.
func (s *Store) UpsertSource(ctx context.Context, r SourceRow) error {
	if s.readOnly {
		return ErrReadOnly
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sources (name, kind, url, cluster, mode, resource_id, format, line_prefix, region, profile)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, url = excluded.url, cluster = excluded.cluster,
			mode = excluded.mode, resource_id = excluded.resource_id, format = excluded.format,
			line_prefix = excluded.line_prefix, region = excluded.region, profile = excluded.profile`,
		r.Name, r.Kind, r.URL, r.Cluster, nullStr(r.Mode), nullStr(r.ResourceID), nullStr(r.Format),
		nullStr(r.LinePrefix), nullStr(r.Region), nullStr(r.Profile))
	if err != nil {
		return fmt.Errorf("record source %s: %w", r.Name, err)
	}
	return nil
}

// MarkSynced sets a source's last successful sync time.
func (s *Store) MarkSynced(ctx context.Context, name string, at time.Time) error {
	if s.readOnly {
		return ErrReadOnly
	}
	_, err := s.db.ExecContext(ctx, `UPDATE sources SET last_sync = ? WHERE name = ?`, at.UTC(), name)
	return err
}

// ClusterModes returns the DAS mode (sync|async) of each cluster that has a DAS source.
func (s *Store) ClusterModes(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT cluster, any_value(mode) FROM sources WHERE kind = 'das' AND mode IS NOT NULL GROUP BY cluster`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, m string
		if err := rows.Scan(&c, &m); err != nil {
			return nil, err
		}
		out[c] = m
	}
	return out, rows.Err()
}

// KnownVersion is an already ingested version of an object.
type KnownVersion struct {
	ETag, VersionID string
	Size            int64
}

// KnownObjects maps each URI of a source already in the case file to the
// versions ingested, so sync can skip unchanged objects.
func (s *Store) KnownObjects(ctx context.Context, source string) (map[string][]KnownVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT uri, coalesce(etag, ''), coalesce(version_id, ''), coalesce(size, 0) FROM objects WHERE source = ?`, source)
	if err != nil {
		return nil, fmt.Errorf("read known objects of %s: %w", source, err)
	}
	defer rows.Close()
	out := map[string][]KnownVersion{}
	for rows.Next() {
		var uri string
		var k KnownVersion
		if err := rows.Scan(&uri, &k.ETag, &k.VersionID, &k.Size); err != nil {
			return nil, err
		}
		out[uri] = append(out[uri], k)
	}
	return out, rows.Err()
}

// RunStats are the totals of a sync run.
type RunStats struct {
	ObjectsNew, ObjectsSkipped, ObjectsQuarantined, Events, Rejects int64
}

// BeginRun records the start of a sync (or ingest) run and returns its id.
func (s *Store) BeginRun(ctx context.Context, command string) (int64, error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(run_id), 0) + 1 FROM sync_runs`).Scan(&id); err != nil {
		return 0, err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_runs (run_id, started_at, command, status) VALUES (?, now(), ?, 'running')`, id, command)
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	return id, nil
}

// FinishRun records the end of a run with its status (ok|partial|failed|interrupted).
func (s *Store) FinishRun(ctx context.Context, id int64, status string, st RunStats, runErr error) error {
	var msg sql.NullString
	if runErr != nil {
		msg = sql.NullString{String: runErr.Error(), Valid: true}
	}
	_, err := s.db.ExecContext(ctx, `UPDATE sync_runs SET finished_at = now(), status = ?, objects_new = ?, objects_skipped = ?,
		objects_quarantined = ?, events = ?, rejects = ?, error = ? WHERE run_id = ?`,
		status, st.ObjectsNew, st.ObjectsSkipped, st.ObjectsQuarantined, st.Events, st.Rejects, msg, id)
	return err
}

// ObjectProblem is an object that was not fully ingested, with its rejects.
type ObjectProblem struct {
	Source, URI, Status, Reason, Detail string
	Events, Rejects                     int64
	IngestedAt                          time.Time
	Rejected                            []RejectRow
}

// RejectRow is one rejected record of an object.
type RejectRow struct {
	Offset         int64
	Reason, Detail string
}

// Problems lists objects with status partial or quarantined, with up to
// perObject of their rejected records each.
func (s *Store) Problems(ctx context.Context, source string, perObject int) ([]ObjectProblem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT object_id, source, uri, status, coalesce(reason, ''), coalesce(detail, ''),
			event_count, reject_count, ingested_at
		FROM objects WHERE status <> 'ok' AND (? = '' OR source = ?) ORDER BY object_id`, source, source)
	if err != nil {
		return nil, fmt.Errorf("list quarantined objects: %w", err)
	}
	var out []ObjectProblem
	var ids []int64
	for rows.Next() {
		var p ObjectProblem
		var id int64
		if err := rows.Scan(&id, &p.Source, &p.URI, &p.Status, &p.Reason, &p.Detail, &p.Events, &p.Rejects, &p.IngestedAt); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		rr, err := s.db.QueryContext(ctx, `SELECT coalesce("offset", 0), reason, coalesce(detail, '') FROM rejects WHERE object_id = ? ORDER BY "offset" LIMIT ?`, id, perObject)
		if err != nil {
			return nil, err
		}
		for rr.Next() {
			var r RejectRow
			if err := rr.Scan(&r.Offset, &r.Reason, &r.Detail); err != nil {
				rr.Close()
				return nil, err
			}
			out[i].Rejected = append(out[i].Rejected, r)
		}
		rr.Close()
	}
	return out, nil
}

// SourceStatus summarises one source for the sources page and reports.
type SourceStatus struct {
	Name, Kind, Cluster, URL, Mode string
	LastSync                       time.Time
	Objects, Events, Quarantined   int64
	Partial                        int64
}

// SourceStatuses lists the recorded sources with their object and event counts.
func (s *Store) SourceStatuses(ctx context.Context) ([]SourceStatus, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.name, s.kind, s.cluster, s.url, coalesce(s.mode, ''), s.last_sync,
			count(o.object_id), coalesce(sum(o.event_count), 0),
			count(*) FILTER (WHERE o.status = 'quarantined'), count(*) FILTER (WHERE o.status = 'partial')
		FROM sources s LEFT JOIN objects o ON o.source = s.name
		GROUP BY ALL ORDER BY s.name`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	defer rows.Close()
	var out []SourceStatus
	for rows.Next() {
		var st SourceStatus
		var last sql.NullTime
		if err := rows.Scan(&st.Name, &st.Kind, &st.Cluster, &st.URL, &st.Mode, &last, &st.Objects, &st.Events, &st.Quarantined, &st.Partial); err != nil {
			return nil, err
		}
		st.LastSync = last.Time
		out = append(out, st)
	}
	return out, rows.Err()
}
