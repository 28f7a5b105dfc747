-- requires-storage: v1.2.0
--
-- Statements are stored with zstd instead of DuckDB's own choice (FSST).
-- Statements are text built from a few templates with literals in them;
-- zstd over a whole column segment finds the repeats FSST's 8-byte symbols
-- cannot: on a synthetic mix of 2 M events the statement column went from
-- 44 to 17 bytes per event, and appending got ~10 % faster. Scans and text
-- search over it measured the same.
--
-- zstd for strings needs DuckDB storage version v1.2.0, which case files are
-- created with since this migration. Older case files keep their storage
-- version, and with it FSST; on them this migration is recorded and skipped
-- (their rows are unchanged, so readers do not care either way).
--
-- A column's compression is set when its table is created, so the table is
-- rebuilt: on a new case file it is still empty.
CREATE TABLE events_v3 (
    event_id         BIGINT NOT NULL,
    object_id        BIGINT NOT NULL,
    source           VARCHAR NOT NULL,
    cluster          VARCHAR,
    instance         VARCHAR,
    log_time         TIMESTAMPTZ NOT NULL,
    session_id       VARCHAR,
    statement_id     BIGINT,
    substatement_id  BIGINT,
    audit_type       VARCHAR,
    class            VARCHAR,
    command          VARCHAR,
    object_type      VARCHAR,
    object_name      VARCHAR,
    statement        VARCHAR USING COMPRESSION zstd,
    params           VARCHAR[],
    row_count        BIGINT,
    database_name    VARCHAR,
    user_name        VARCHAR,
    application_name VARCHAR,
    remote_host      VARCHAR,
    remote_port      INTEGER,
    pid              INTEGER,
    error_message    VARCHAR,
    exit_code        INTEGER,
    object_ref       VARCHAR NOT NULL,
    internal         BOOLEAN NOT NULL DEFAULT false,
    raw              VARCHAR
);

INSERT INTO events_v3 SELECT * FROM events;
DROP VIEW audit_events;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;

-- The public view, unchanged.
CREATE VIEW audit_events AS
SELECT event_id, source, cluster, instance, log_time, session_id, statement_id,
       substatement_id, audit_type, class, command, object_type, object_name, statement,
       params, row_count, database_name, user_name, application_name, remote_host,
       remote_port, pid, error_message, exit_code, object_ref
FROM events;
