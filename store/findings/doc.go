// Package findings owns the rules that point an investigator at suspicious
// activity in a case file, and the engine that runs them.
//
// A rule is SQL over the case file (the public view audit_events, or the
// events table when it needs the internal flag, plus heartbeats,
// server_messages and sources) with an id, a title, a severity, a
// description that says why it matters, and typed parameters with defaults.
// Built-in rules are embedded from rules/*.yaml; a user's rules file adds
// rules and overrides built-ins by id. Every rule runs as one guarded,
// read-only SELECT (store.QueryNamedReadOnly) with its parameters bound by
// name, never spliced into the SQL; a rule that fails is reported with its id
// and the other rules still run.
//
// # What a rule returns
//
// One row per finding, columns matched by name:
//
//	group_key   VARCHAR       required  what the finding is about ("orders-prod alice DROP TABLE")
//	count       BIGINT        required  occurrences: statements, login attempts, sessions, silences
//	first_time  TIMESTAMPTZ   required
//	last_time   TIMESTAMPTZ   required
//	event_ids   BIGINT[]      required  the events behind it, earliest first (at most $max_event_ids)
//	records     BIGINT        optional  audit records behind it (default: len(event_ids))
//	severity    VARCHAR       optional  per-row override of the rule's severity
//	detail      VARCHAR       optional  one line for the investigator
//	clusters, users, databases, hosts, applications, objects
//	            VARCHAR[]     optional
//
// Other columns are an error, so a misspelt column is not silently lost.
//
// # Parameters
//
// Every rule can use $since and $until (TIMESTAMPTZ; the requested range,
// unbounded by default), $max_event_ids (BIGINT) and $include_internal
// (BOOLEAN: rows of RDS housekeeping users such as rdsadmin; false by
// default). A rule declares its own parameters with a type (int, float, bool,
// string, strings, duration, time, timezone, weekdays) and a default;
// Options.Params and Settings override them by name for every rule that
// declares them.
//
// # Counting once per statement
//
// pgAudit writes a SESSION and an OBJECT record for the same statement, DROP
// SCHEMA … CASCADE writes one record per dropped object, and a cluster
// captured by both DAS and pgAudit has two copies of everything. The built-in
// rules count statements, not records: records with the same (cluster,
// session_id, statement_id, substatement_id, command) are one statement, and
// a record without a session or statement id counts on its own (event_id).
// Connection rows have no statement id in pgAudit (DAS gives them 1/1), so
// login attempts are one per (cluster, session_id). Findings also carry
// Records, the number of audit records, and event ids of every copy.
//
// findings imports store, the standard library and goccy/go-yaml; it must not
// import Charm, AWS, tui or ingest packages.
package findings
