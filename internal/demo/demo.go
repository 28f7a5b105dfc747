// Package demo generates the demo case: three Aurora PostgreSQL clusters with a
// few days of audited traffic and a story an investigator can find, rendered
// as the objects the real product reads — Database Activity Stream objects in
// Firehose framing, encrypted with the Encryption SDK under data keys the
// in-process fake KMS serves, and pgAudit logs in the RDS stderr and csvlog
// formats.
//
// Everything but the ciphertext is a function of Options.Seed: the same seed
// gives the same sessions, statements, log files, inner DAS records, object
// names and loss. Ciphertexts carry random IVs, so Dataset.Digest covers the
// plaintext content, not the encrypted bytes.
//
// The package imports ingest/das only for its Encoder (the one place that may
// touch the Encryption SDK) and the fake KMS's key type.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/auditlens/auditlens/ingest/das/kmsfake"
)

// Bucket is the fake S3 bucket the demo objects live in.
const Bucket = "auditlens-demo"

// KMSKeyID is the KMS key every demo data key is reported under.
const KMSKeyID = "arn:aws:kms:us-east-1:111122223333:key/5d1c6a2e-7f3b-4c88-9e1a-0b2c3d4e5f60"

// Options shape a generated case.
type Options struct {
	Seed uint64 // default 1
	// Events is about how many rows audit_events will hold after a sync of
	// the dataset (DAS and pgAudit together); default 200,000. The incidents
	// are always there, so very small values give a larger case.
	Events int
	// Start and Span place the traffic (default 2026-11-23T00:00Z, 60 h).
	// The incidents sit at fixed offsets from Start, so Span must be at
	// least 60 h.
	Start time.Time
	Span  time.Duration
	// Workers encrypt DAS records in parallel (default 4).
	Workers int
	// HeartbeatEvery is the DAS heartbeat period of an idle instance
	// (default 20 s). Real streams beat every 10 s whether busy or not; the
	// demo beats only when an instance has been quiet for a quarter period,
	// which keeps every silence below the gap report's 30 s threshold for a
	// fraction of the events.
	HeartbeatEvery time.Duration
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Events <= 0 {
		o.Events = 200_000
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	}
	o.Start = o.Start.UTC().Truncate(time.Hour)
	if o.Span < 60*time.Hour {
		o.Span = 60 * time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 20 * time.Second
	}
	return o
}

// Source is one source the demo configures: where its objects are under the
// bucket and how to read them.
type Source struct {
	Name       string
	Kind       string // das | pgaudit
	Cluster    string
	Prefix     string // key prefix in Bucket, ending in "/"
	Mode       string // das: sync | async
	ResourceID string // das: DbClusterResourceId (KMS encryption context)
	Format     string // pgaudit: auto
}

// Object is one S3 object of the dataset.
type Object struct {
	Key  string
	Data []byte
}

// ClusterStats count what was generated for one cluster.
type ClusterStats struct {
	Cluster  string
	Mode     string // sync | async | "" (no DAS)
	Sessions int    // backends, failed logins included
	// Statements is the number of pgAudit SESSION lines; PgAuditEvents the
	// rows the pgAudit decoder makes (AUDIT lines, connections, failed logins).
	Statements    int
	PgAuditEvents int
	LogFiles      int
	// DAS: record events delivered (heartbeats apart), heartbeats delivered,
	// outer records and objects written, and what async mode dropped.
	DASEvents        int
	DASHeartbeats    int
	DASRecords       int
	DASObjects       int
	DroppedRecords   int
	LostStatements   int // statement events in dropped records (the gap report's missing_in_das)
	LostOtherEvents  int // connections, errors and rdsadmin events in dropped records
	LostHeartbeats   int // heartbeats in dropped records
	InternalSessions int // rdsadmin housekeeping (DAS only)
}

// Incident is one thing the story hides in the traffic.
type Incident struct {
	Kind      string // failed-logins | login-new-host | privilege-escalation | bulk-read | drop-table | async-loss
	Cluster   string
	At        time.Time
	User      string
	Host      string
	SessionID string
	What      string
}

// Dataset is a generated case.
type Dataset struct {
	Options   Options
	Sources   []Source
	Objects   []Object
	Keys      map[string]kmsfake.Key // the fake KMS's table: blob base64 → data key
	Stats     []ClusterStats
	Incidents []Incident
	// LossWindows are the spans in which the async cluster's stream dropped
	// whole outer records.
	LossWindows []Window
	// Digest is the SHA-256 of everything deterministic: object keys, log
	// files and the plaintext inner DAS records.
	Digest string
}

// Window is a span of time.
type Window struct{ Start, End time.Time }

// Bytes is the total size of the objects.
func (d *Dataset) Bytes() int64 {
	var n int64
	for _, o := range d.Objects {
		n += int64(len(o.Data))
	}
	return n
}

// Generate builds the dataset. It is CPU-bound (encryption); ctx stops it.
func Generate(ctx context.Context, opt Options) (*Dataset, error) {
	opt = opt.withDefaults()
	g := newGen(opt)
	g.plan()
	ds := &Dataset{Options: opt, Keys: map[string]kmsfake.Key{}}
	h := sha256.New()
	for _, c := range g.clusters {
		st := ClusterStats{Cluster: c.name, Mode: c.mode}
		files, err := renderLogs(c, &st)
		if err != nil {
			return nil, err
		}
		ds.Objects = append(ds.Objects, files...)
		ds.Sources = append(ds.Sources, Source{Name: c.short + "-logs", Kind: "pgaudit", Cluster: c.name,
			Prefix: c.name + "/logs/", Format: "auto"})
		if c.mode != "" {
			objs, err := g.renderDAS(ctx, c, &st, ds.Keys)
			if err != nil {
				return nil, err
			}
			ds.Objects = append(ds.Objects, objs...)
			ds.Sources = append(ds.Sources, Source{Name: c.short + "-das", Kind: "das", Cluster: c.name,
				Prefix: c.name + "/das/", Mode: c.mode, ResourceID: c.resourceID})
		}
		ds.Stats = append(ds.Stats, st)
	}
	// DAS sources first, as an investigator would list them.
	sort.SliceStable(ds.Sources, func(i, j int) bool { return ds.Sources[i].Kind < ds.Sources[j].Kind })
	sort.Slice(ds.Objects, func(i, j int) bool { return ds.Objects[i].Key < ds.Objects[j].Key })
	for _, o := range ds.Objects {
		fmt.Fprintf(h, "%s\n", o.Key)
		if !g.encrypted[o.Key] {
			h.Write(o.Data)
		}
	}
	for _, p := range g.plaintexts {
		h.Write(p)
	}
	ds.Digest = hex.EncodeToString(h.Sum(nil))
	ds.Incidents = g.incidents
	ds.LossWindows = append(ds.LossWindows, g.lossWindows...)
	return ds, nil
}

// newRand is the generator's only source of randomness.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream^0x9e3779b97f4a7c15))
}
