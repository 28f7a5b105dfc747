// Package ingest moves objects from sources into the case file: it lists each
// source, skips objects already ingested with the same ETag, downloads and
// decodes the rest on a bounded worker pool, and writes each object atomically
// through the store (an object is all in or not at all, so a killed run loses
// and duplicates nothing). Progress is reported through a throttled callback.
//
// ingest imports store, its decoders (ingest/das, ingest/pgaudit) and sources;
// it never imports tui or Charm packages.
package ingest
