-- Raw records move out of events.raw into compressed blocks: the raw text is
-- the largest value of most events, and DuckDB spent more on it (WAL,
-- statistics, compression) than on all other columns; zstd over a block of
-- consecutive records also packs it several times tighter. events.raw stays
-- for case files written before this migration (NULL for new rows).
--
-- A block holds the raw records of events first_event .. first_event +
-- events - 1 of one object, in event-id order, as zstd(uvarint(len) ‖ bytes
-- for each record); an event without a raw record has length 0. The
-- compressed block is stored in parts of at most 3 KiB, in part order: DuckDB
-- keeps larger values in overflow blocks that a transaction must hold in
-- memory until it commits, and a sync commits many blocks at once.
CREATE TABLE raw_blocks (
    object_id   BIGINT NOT NULL,
    first_event BIGINT NOT NULL,
    events      INTEGER NOT NULL,
    codec       VARCHAR NOT NULL,          -- zstd
    part        INTEGER NOT NULL,
    data        BLOB NOT NULL
);
