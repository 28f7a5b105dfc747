package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Row is one event as the explorer and the CLI show it.
type Row struct {
	EventID         int64
	Source          string
	Cluster         string
	Instance        string
	LogTime         time.Time
	SessionID       string
	StatementID     *int64
	SubstatementID  *int64
	AuditType       string
	Class           string
	Command         string
	ObjectType      string
	ObjectName      string
	Statement       string
	Params          []string
	RowCount        *int64
	DatabaseName    string
	UserName        string
	ApplicationName string
	RemoteHost      string
	RemotePort      *int32
	PID             *int32
	ErrorMessage    string
	ExitCode        *int32
	ObjectRef       string
	Internal        bool
}

// Cursor is a keyset position: rows are ordered by (log_time, event_id).
type Cursor struct {
	LogTime time.Time
	EventID int64
}

// CursorOf returns the cursor of a row.
func CursorOf(r Row) Cursor { return Cursor{LogTime: r.LogTime, EventID: r.EventID} }

const rowColumns = `event_id, source, cluster, instance, log_time, session_id, statement_id, substatement_id,
	audit_type, class, command, object_type, object_name, statement, params, row_count, database_name, user_name,
	application_name, remote_host, remote_port, pid, error_message, exit_code, object_ref, internal`

// Page returns up to limit rows after the cursor (nil: from the start), in time order.
func (s *Store) Page(ctx context.Context, f Filter, after *Cursor, limit int) ([]Row, error) {
	where, args := s.whereOf(ctx, f)
	var from time.Time
	if after != nil {
		// The first condition lets DuckDB prune row groups by their min/max log_time.
		where += " AND log_time >= ? AND (log_time > ? OR event_id > ?)"
		from = after.LogTime.UTC()
		args = append(args, from, from, after.EventID)
	}
	q := "SELECT " + rowColumns + " FROM events WHERE " + where + " AND log_time < ? ORDER BY log_time, event_id LIMIT ?"
	return s.windowed(ctx, from, limit, true, func(edge time.Time) ([]Row, error) {
		return s.queryRows(ctx, q, append(args, edge, limit)...)
	})
}

// PageBefore returns up to limit rows before the cursor (nil: the last rows),
// still in ascending time order.
func (s *Store) PageBefore(ctx context.Context, f Filter, before *Cursor, limit int) ([]Row, error) {
	where, args := s.whereOf(ctx, f)
	var from time.Time
	if before != nil {
		where += " AND log_time <= ? AND (log_time < ? OR event_id < ?)"
		from = before.LogTime.UTC()
		args = append(args, from, from, before.EventID)
	}
	q := "SELECT * FROM (SELECT " + rowColumns + " FROM events WHERE " + where +
		" AND log_time >= ? ORDER BY log_time DESC, event_id DESC LIMIT ?) ORDER BY log_time, event_id"
	return s.windowed(ctx, from, limit, false, func(edge time.Time) ([]Row, error) {
		return s.queryRows(ctx, q, append(args, edge, limit)...)
	})
}

// windowed runs a keyset page query over a bounded time window that grows
// until it holds limit rows or covers the whole case file. Without the bound
// DuckDB sorts every row after the cursor to return the first hundred; with it,
// zone maps skip all but a few row groups (events arrive roughly in time
// order). The result is the same: a window that yields limit rows holds the
// first limit rows of the unbounded query, because rows past its edge sort
// after every row inside it.
func (s *Store) windowed(ctx context.Context, from time.Time, limit int, forward bool, query func(edge time.Time) ([]Row, error)) ([]Row, error) {
	st, err := s.timeStats(ctx)
	if err != nil {
		return nil, err
	}
	if st.count == 0 {
		return query(farEdge(forward))
	}
	if from.IsZero() {
		from = st.last
		if forward {
			from = st.first
		}
	}
	// Start with the span that holds about 4×limit rows at average density.
	span := time.Duration(float64(st.last.Sub(st.first)) / float64(st.count) * float64(4*limit))
	if span < time.Second {
		span = time.Second
	}
	for {
		edge := from.Add(span)
		done := !edge.Before(st.last)
		if !forward {
			edge = from.Add(-span)
			done = !edge.After(st.first)
		}
		if done {
			// The window covers everything: no bound needed (and none can cut
			// off rows written after the statistics were read).
			return query(farEdge(forward))
		}
		rows, err := query(edge)
		if err != nil || len(rows) >= limit {
			return rows, err
		}
		span *= 8
	}
}

func farEdge(forward bool) time.Time {
	if forward {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
}

// timeStats are the first and last log_time and the number of events, cached
// until the next object is committed.
type timeStats struct {
	gen         uint64
	first, last time.Time
	count       int64
}

func (s *Store) timeStats(ctx context.Context) (timeStats, error) {
	gen := s.commits.Load()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.stats != nil && s.stats.gen == gen {
		return *s.stats, nil
	}
	var first, last sql.NullTime
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT min(log_time), max(log_time), count(*) FROM events").Scan(&first, &last, &n); err != nil {
		return timeStats{}, fmt.Errorf("event time range: %w", err)
	}
	s.stats = &timeStats{gen: gen, first: first.Time.UTC(), last: last.Time.UTC(), count: n}
	return *s.stats, nil
}

// Event returns one event by id.
func (s *Store) Event(ctx context.Context, id int64) (Row, error) {
	rows, err := s.queryRows(ctx, "SELECT "+rowColumns+" FROM events WHERE event_id = ?", id)
	if err != nil {
		return Row{}, err
	}
	if len(rows) == 0 {
		return Row{}, fmt.Errorf("event %d: %w", id, ErrNotFound)
	}
	return rows[0], nil
}

// Raw returns the record of an event as it was read.
func (s *Store) Raw(ctx context.Context, id int64) (string, error) {
	var raw sql.NullString
	err := s.db.QueryRowContext(ctx, "SELECT raw FROM events WHERE event_id = ?", id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("event %d: %w", id, ErrNotFound)
	}
	if err != nil || raw.String != "" || s.schema < 2 {
		return raw.String, err // case files written before raw_blocks keep it here
	}
	r, _, err := s.rawFromBlocks(ctx, id)
	return validUTF8(r), err
}

// SessionEvents returns every event of one session of a cluster, in order.
func (s *Store) SessionEvents(ctx context.Context, cluster, sessionID string, limit int) ([]Row, error) {
	q := "SELECT " + rowColumns + " FROM events WHERE cluster = ? AND session_id = ? ORDER BY log_time, statement_id NULLS FIRST, substatement_id, event_id LIMIT ?"
	return s.queryRows(ctx, q, cluster, sessionID, limit)
}

// Counterparts returns the events of the other source that record the same
// statement (same cluster, session, statement and substatement id, command).
func (s *Store) Counterparts(ctx context.Context, r Row) ([]Row, error) {
	if r.SessionID == "" || r.StatementID == nil || r.SubstatementID == nil {
		return nil, nil
	}
	q := "SELECT " + rowColumns + ` FROM events WHERE cluster = ? AND session_id = ? AND statement_id = ?
		AND substatement_id = ? AND source <> ? AND coalesce(command, '') = ? ORDER BY log_time, event_id LIMIT 10`
	return s.queryRows(ctx, q, r.Cluster, r.SessionID, *r.StatementID, *r.SubstatementID, r.Source, r.Command)
}

// Count returns the number of events matching the filter.
func (s *Store) Count(ctx context.Context, f Filter) (int64, error) {
	where, args := s.whereOf(ctx, f)
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// TimeRange returns the first and last log_time matching the filter.
func (s *Store) TimeRange(ctx context.Context, f Filter) (first, last time.Time, err error) {
	where, args := s.whereOf(ctx, f)
	var a, b sql.NullTime
	err = s.db.QueryRowContext(ctx, "SELECT min(log_time), max(log_time) FROM events WHERE "+where, args...).Scan(&a, &b)
	return a.Time, b.Time, err
}

func (s *Store) queryRows(ctx context.Context, q string, args ...any) ([]Row, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var cluster, instance, session, atype, class, command, otype, oname, stmt, db, user, app, host, errm sql.NullString
		var stid, subid, rc sql.NullInt64
		var port, pid, exit sql.NullInt32
		var params any
		if err := rows.Scan(&r.EventID, &r.Source, &cluster, &instance, &r.LogTime, &session, &stid, &subid,
			&atype, &class, &command, &otype, &oname, &stmt, &params, &rc, &db, &user, &app, &host, &port, &pid,
			&errm, &exit, &r.ObjectRef, &r.Internal); err != nil {
			return nil, fmt.Errorf("read event row: %w", err)
		}
		r.Cluster, r.Instance, r.SessionID = cluster.String, instance.String, session.String
		r.AuditType, r.Class, r.Command = atype.String, class.String, command.String
		r.ObjectType, r.ObjectName, r.Statement = otype.String, oname.String, stmt.String
		r.DatabaseName, r.UserName, r.ApplicationName = db.String, user.String, app.String
		r.RemoteHost, r.ErrorMessage = host.String, errm.String
		r.StatementID, r.SubstatementID, r.RowCount = ptr64(stid), ptr64(subid), ptr64(rc)
		r.RemotePort, r.PID, r.ExitCode = ptr32(port), ptr32(pid), ptr32(exit)
		r.Params = toStrings(params)
		r.LogTime = r.LogTime.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func ptr64(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func ptr32(v sql.NullInt32) *int32 {
	if !v.Valid {
		return nil
	}
	return &v.Int32
}

func toStrings(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(list))
	for i, x := range list {
		if s, ok := x.(string); ok {
			out[i] = s
		}
	}
	return out
}

// Dim is a facet dimension.
type Dim string

// Facet dimensions, named after their columns.
const (
	DimCluster  Dim = "cluster"
	DimSource   Dim = "source"
	DimDatabase Dim = "database_name"
	DimUser     Dim = "user_name"
	DimClass    Dim = "class"
	DimCommand  Dim = "command"
)

// AllDims are the facet dimensions the explorer shows.
func AllDims() []Dim {
	return []Dim{DimCluster, DimSource, DimDatabase, DimUser, DimClass, DimCommand}
}

// FacetValue is one value of a dimension and how many events have it.
type FacetValue struct {
	Value string // NullValue for SQL NULL
	Count int64
}

// Facets counts events per value of each dimension, under the filter, in one
// scan. The top `limit` values of each dimension are returned, largest first.
func (s *Store) Facets(ctx context.Context, f Filter, dims []Dim, limit int) (map[Dim][]FacetValue, error) {
	if len(dims) == 0 {
		return map[Dim][]FacetValue{}, nil
	}
	where, args := s.whereOf(ctx, f)
	var sets []string
	for _, d := range dims {
		if !validDim(d) {
			return nil, fmt.Errorf("unknown facet dimension %q", d)
		}
		sets = append(sets, "("+string(d)+")")
	}
	// One grouped scan; GROUPING() tells which dimension a row belongs to.
	var sel []string
	for _, d := range dims {
		sel = append(sel, string(d))
	}
	var gid []string
	for _, d := range dims {
		gid = append(gid, "GROUPING("+string(d)+")")
	}
	q := fmt.Sprintf(`SELECT %s, [%s] AS g, count(*) AS n FROM events WHERE %s GROUP BY GROUPING SETS (%s)`,
		strings.Join(sel, ", "), strings.Join(gid, ", "), where, strings.Join(sets, ", "))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("facet counts: %w", err)
	}
	defer rows.Close()
	out := map[Dim][]FacetValue{}
	vals := make([]sql.NullString, len(dims))
	dest := make([]any, len(dims)+2)
	for i := range vals {
		dest[i] = &vals[i]
	}
	var g any
	var n int64
	dest[len(dims)] = &g
	dest[len(dims)+1] = &n
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		flags, _ := g.([]any)
		for i, d := range dims {
			if i < len(flags) && isZero(flags[i]) {
				v := NullValue
				if vals[i].Valid {
					v = vals[i].String
				}
				out[d] = append(out[d], FacetValue{Value: v, Count: n})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for d, fv := range out {
		sortFacet(fv)
		if limit > 0 && len(fv) > limit {
			out[d] = fv[:limit]
		}
	}
	return out, nil
}

func isZero(v any) bool {
	switch x := v.(type) {
	case int64:
		return x == 0
	case int32:
		return x == 0
	case int8:
		return x == 0
	case int16:
		return x == 0
	case uint8:
		return x == 0
	}
	return false
}

func validDim(d Dim) bool {
	for _, x := range AllDims() {
		if x == d {
			return true
		}
	}
	return false
}

func sortFacet(fv []FacetValue) {
	// insertion sort is plenty for the few hundred values a facet has
	for i := 1; i < len(fv); i++ {
		for j := i; j > 0 && (fv[j].Count > fv[j-1].Count || (fv[j].Count == fv[j-1].Count && fv[j].Value < fv[j-1].Value)); j-- {
			fv[j], fv[j-1] = fv[j-1], fv[j]
		}
	}
}

// Bucket is one bar of the time histogram.
type Bucket struct {
	Start time.Time
	Count int64
}

// Histogram counts events per time bucket of the given width under the filter.
// Empty buckets are not returned.
func (s *Store) Histogram(ctx context.Context, f Filter, width time.Duration) ([]Bucket, error) {
	if width <= 0 {
		return nil, errors.New("histogram bucket width must be positive")
	}
	where, args := s.whereOf(ctx, f)
	us := width.Microseconds()
	q := `SELECT (epoch_us(log_time) // ?) * ? AS b, count(*) FROM events WHERE ` + where + ` GROUP BY b ORDER BY b`
	rows, err := s.db.QueryContext(ctx, q, append([]any{us, us}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, err
		}
		out = append(out, Bucket{Start: time.UnixMicro(b).UTC(), Count: n})
	}
	return out, rows.Err()
}

// Session summarises one database session.
type Session struct {
	Cluster, SessionID, User, Database, Host, Application string
	Sources                                               []string
	Start, End                                            time.Time
	Statements, Errors                                    int64
}

// Sessions lists sessions with events under the filter, most recent first.
func (s *Store) Sessions(ctx context.Context, f Filter, limit int) ([]Session, error) {
	where, args := s.whereOf(ctx, f)
	q := `SELECT cluster, session_id, coalesce(any_value(user_name), ''), coalesce(any_value(database_name), ''),
			coalesce(any_value(remote_host), ''), coalesce(any_value(application_name), ''),
			list(DISTINCT source ORDER BY source), min(log_time), max(log_time),
			count(*) FILTER (WHERE coalesce(class, '') <> 'CONNECT'), count(error_message)
		FROM events WHERE session_id IS NOT NULL AND ` + where + `
		GROUP BY cluster, session_id ORDER BY min(log_time) DESC LIMIT ?`
	rows, err := s.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var se Session
		var cluster sql.NullString
		var srcs any
		if err := rows.Scan(&cluster, &se.SessionID, &se.User, &se.Database, &se.Host, &se.Application, &srcs,
			&se.Start, &se.End, &se.Statements, &se.Errors); err != nil {
			return nil, err
		}
		se.Cluster = cluster.String
		se.Sources = toStrings(srcs)
		se.Start, se.End = se.Start.UTC(), se.End.UTC()
		out = append(out, se)
	}
	return out, rows.Err()
}
