package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditlens/auditlens/ingest"
	"github.com/auditlens/auditlens/ingest/das"
	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source"
	"github.com/auditlens/auditlens/ingest/source/local"
	s3src "github.com/auditlens/auditlens/ingest/source/s3"
	"github.com/auditlens/auditlens/internal/config"
	"github.com/auditlens/auditlens/store"
)

// jobBuilder turns configured sources into sync jobs, sharing one DAS decoder
// (and so one data-key cache) per AWS region and profile.
type jobBuilder struct {
	dasDecoders map[string]*das.Decoder
}

func newJobBuilder() *jobBuilder {
	return &jobBuilder{dasDecoders: map[string]*das.Decoder{}}
}

func (b *jobBuilder) build(ctx context.Context, sc config.Source) (ingest.Job, error) {
	src, err := openSource(ctx, sc)
	if err != nil {
		return ingest.Job{}, err
	}
	job := ingest.Job{Name: sc.Name, Source: source.Retrying(src, source.RetryPolicy{})}
	switch sc.Kind {
	case "pgaudit":
		job.Decoder = ingest.PgAudit{Options: pgaudit.Options{Cluster: sc.Cluster, Instance: sc.Instance, Format: sc.Format, LinePrefix: sc.LinePrefix}}
	case "das":
		dec, err := b.dasDecoder(ctx, sc.Region, sc.Profile)
		if err != nil {
			return ingest.Job{}, fmt.Errorf("source %s: %w", sc.Name, err)
		}
		job.Decoder = ingest.DAS{Decoder: dec, Options: das.Options{Cluster: sc.Cluster, ResourceID: sc.ResourceID, Mode: sc.Mode}}
	default:
		return ingest.Job{}, usageError("source %s: unknown kind %q (use das or pgaudit)", sc.Name, sc.Kind)
	}
	return job, nil
}

func (b *jobBuilder) dasDecoder(ctx context.Context, region, profile string) (*das.Decoder, error) {
	k := region + "\x00" + profile
	if d := b.dasDecoders[k]; d != nil {
		return d, nil
	}
	client, err := das.NewKMSClient(ctx, region, profile)
	if err != nil {
		return nil, err
	}
	d, err := das.NewDecoder(das.NewKMS(client))
	if err != nil {
		return nil, err
	}
	b.dasDecoders[k] = d
	return d, nil
}

func openSource(ctx context.Context, sc config.Source) (source.Source, error) {
	if strings.HasPrefix(sc.URL, "s3://") {
		s, err := s3src.New(ctx, s3src.Config{URL: sc.URL, Region: sc.Region, Profile: sc.Profile, Endpoint: sc.Endpoint, PathStyle: sc.PathStyle})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", sc.Name, err)
		}
		return s, nil
	}
	l, err := local.New(expandHome(sc.URL))
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", sc.Name, err)
	}
	return l, nil
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

func sourceRow(sc config.Source) store.SourceRow {
	return store.SourceRow{Name: sc.Name, Kind: sc.Kind, URL: sc.URL, Cluster: sc.Cluster, Mode: sc.Mode,
		ResourceID: sc.ResourceID, Format: sc.Format, LinePrefix: sc.LinePrefix, Region: sc.Region, Profile: sc.Profile}
}
