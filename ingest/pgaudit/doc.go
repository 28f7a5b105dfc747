// Package pgaudit decodes PostgreSQL server logs written with pgAudit into
// audit events, connection rows and server messages (store/model rows).
//
// It owns the log readers and the AUDIT payload parser:
//
//   - stderr logs with any log_line_prefix (Amazon RDS/Aurora default
//     "%t:%r:%u@%d:[%p]:"), auto-detected or given. User and database names
//     are not escaped by PostgreSQL, so a line is anchored on "SEVERITY:  "
//     and the prefix fields are fitted to the text before it. Multi-line
//     messages continue on lines that start with a TAB; DETAIL, HINT,
//     STATEMENT, CONTEXT, QUERY and LOCATION lines belong to the record
//     before them. Files from `aws rds download-db-log-file-portion` may
//     start or end inside a line and contain "[Your log message was
//     truncated]": those lines are counted as rejects, the rest is decoded.
//   - csvlog (23 columns in PostgreSQL 13, 26 from 14) and jsonlog (15+).
//   - CloudWatch Logs export objects. Assumed shape (what an export task
//     writes for the RDS/Aurora postgresql log group): a gzip object of
//     lines, each event's first line being
//     "<ISO-8601 UTC timestamp> <original stderr log line>", e.g.
//     "2026-11-25T11:42:17.000Z 2026-11-25 11:42:17 UTC:127.0.0.1(45884):app@db:[12519]:LOG:  AUDIT: …",
//     and the continuation lines of a multi-line event following raw
//     (starting with a TAB). The prefix's own time is used; the export's
//     timestamp only when the prefix has none. Events of one stream are
//     assumed to be in log order: session ids derived from pids rely on it.
//
// Session ids come from %c (or the csvlog/jsonlog session_id). Without it
// they are derived as PostgreSQL does: hex(backend start epoch seconds) "."
// hex(pid), with the start read from the backend's first line ("connection
// received"). PostgreSQL's start can be a fraction of a second earlier than
// that line, so across a second boundary a derived id can be one second off.
//
// Decode reads one object as a stream with bounded memory and never fails on
// bad content: malformed records become model.Reject rows.
//
// This package must not import DuckDB, the store (other than store/model),
// AWS or Charm packages.
package pgaudit
