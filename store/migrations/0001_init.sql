-- The case file's first schema. Later changes are new numbered files, never edits.

CREATE TABLE sources (
    name        VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,          -- das | pgaudit
    url         VARCHAR NOT NULL,
    cluster     VARCHAR NOT NULL,
    mode        VARCHAR,                   -- DAS: sync | async
    resource_id VARCHAR,
    format      VARCHAR,
    line_prefix VARCHAR,
    region      VARCHAR,
    profile     VARCHAR,
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_sync   TIMESTAMPTZ
);

CREATE TABLE sync_runs (
    run_id      BIGINT PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    command     VARCHAR,                   -- sync | ingest | demo
    status      VARCHAR,                   -- running | ok | partial | failed | interrupted
    objects_new BIGINT DEFAULT 0,
    objects_skipped BIGINT DEFAULT 0,
    objects_quarantined BIGINT DEFAULT 0,
    events      BIGINT DEFAULT 0,
    rejects     BIGINT DEFAULT 0,
    error       VARCHAR
);

-- Every ingested object, in ingest order. chain_hash links each object to the
-- previous one: sha256(prev_chain || sha256 || event_count || heartbeat_count).
CREATE TABLE objects (
    object_id     BIGINT PRIMARY KEY,
    source        VARCHAR NOT NULL,
    uri           VARCHAR NOT NULL,
    object_key    VARCHAR NOT NULL,
    etag          VARCHAR,
    version_id    VARCHAR,
    size          BIGINT,
    last_modified TIMESTAMPTZ,
    sha256        VARCHAR,
    status        VARCHAR NOT NULL,        -- ok | partial | quarantined
    reason        VARCHAR,                 -- first reject reason when not ok
    detail        VARCHAR,
    format        VARCHAR,
    event_count   BIGINT NOT NULL DEFAULT 0,
    heartbeat_count BIGINT NOT NULL DEFAULT 0,
    message_count BIGINT NOT NULL DEFAULT 0,
    reject_count  BIGINT NOT NULL DEFAULT 0,
    new_version   BOOLEAN NOT NULL DEFAULT false, -- same key seen before with another ETag
    run_id        BIGINT,
    ingested_at   TIMESTAMPTZ NOT NULL,
    prev_hash     VARCHAR,
    chain_hash    VARCHAR
);

-- Records that could not be decoded; the rest of their object was kept.
CREATE TABLE rejects (
    object_id BIGINT NOT NULL,
    "offset"  BIGINT,
    reason    VARCHAR NOT NULL,
    detail    VARCHAR
);

CREATE TABLE events (
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
    statement        VARCHAR,
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

CREATE TABLE heartbeats (
    object_id   BIGINT NOT NULL,
    cluster     VARCHAR,
    instance    VARCHAR,
    log_time    TIMESTAMPTZ NOT NULL,
    server_host VARCHAR,
    object_ref  VARCHAR
);

CREATE TABLE server_messages (
    object_id     BIGINT NOT NULL,
    cluster       VARCHAR,
    instance      VARCHAR,
    log_time      TIMESTAMPTZ NOT NULL,
    severity      VARCHAR,
    session_id    VARCHAR,
    pid           INTEGER,
    user_name     VARCHAR,
    database_name VARCHAR,
    remote_host   VARCHAR,
    sql_state     VARCHAR,
    message       VARCHAR,
    detail        VARCHAR,
    statement     VARCHAR,
    object_ref    VARCHAR
);

CREATE SEQUENCE note_ids START 1;

CREATE TABLE notes (
    note_id    BIGINT PRIMARY KEY DEFAULT nextval('note_ids'),
    event_id   BIGINT,
    kind       VARCHAR NOT NULL DEFAULT 'note', -- note | bookmark
    text       VARCHAR,
    author     VARCHAR,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The public view: users and scripts write SQL against it. Its columns are a contract.
CREATE VIEW audit_events AS
SELECT event_id, source, cluster, instance, log_time, session_id, statement_id,
       substatement_id, audit_type, class, command, object_type, object_name, statement,
       params, row_count, database_name, user_name, application_name, remote_host,
       remote_port, pid, error_message, exit_code, object_ref
FROM events;
