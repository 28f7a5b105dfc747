package ingest

import (
	"context"
	"io"

	"github.com/auditlens/auditlens/ingest/das"
	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/store/model"
)

// Decoder turns one object's bytes into rows.
type Decoder interface {
	// Decode reads r (the object's bytes) and emits batches of rows. ref is the
	// prefix of every row's object_ref. It returns an error only when the object
	// could not be read (I/O, ctx) or emit failed; bad content is emitted as
	// model.Reject rows.
	Decode(ctx context.Context, ref string, obj source.Object, r io.Reader, emit model.Emit) (DecodeStats, error)
	// Kind is "das" or "pgaudit".
	Kind() string
}

// DecodeStats is what a decoder tells about one object.
type DecodeStats struct {
	Format string
}

// PgAudit decodes PostgreSQL logs with pgAudit records.
type PgAudit struct {
	Options pgaudit.Options
}

// Kind implements Decoder.
func (PgAudit) Kind() string { return model.SourcePgAudit }

// Decode implements Decoder.
func (p PgAudit) Decode(ctx context.Context, ref string, _ source.Object, r io.Reader, emit model.Emit) (DecodeStats, error) {
	st, err := pgaudit.Decode(ctx, ref, r, p.Options, emit)
	return DecodeStats{Format: st.Format}, err
}

// DAS decodes Database Activity Stream objects delivered by Firehose.
type DAS struct {
	Decoder *das.Decoder
	Options das.Options
}

// Kind implements Decoder.
func (DAS) Kind() string { return model.SourceDAS }

// Decode implements Decoder.
func (d DAS) Decode(ctx context.Context, ref string, obj source.Object, r io.Reader, emit model.Emit) (DecodeStats, error) {
	_, err := d.Decoder.Decode(ctx, ref, obj.Key, r, d.Options, emit)
	return DecodeStats{Format: "das"}, err
}

var (
	_ Decoder = PgAudit{}
	_ Decoder = DAS{}
)
