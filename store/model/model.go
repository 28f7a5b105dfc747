// Package model holds the plain data types that flow from the ingest decoders into
// the store: audit events, heartbeats, server messages and rejected records.
//
// It exists so that decoders (ingest/pgaudit, ingest/das) can build rows without
// importing DuckDB: this package imports only the standard library.
package model

import (
	"strconv"
	"time"
)

// Source values of Event.Source.
const (
	SourceDAS     = "das"
	SourcePgAudit = "pgaudit"
)

// ClassConnect is the class of connection, disconnection and authentication rows.
const ClassConnect = "CONNECT"

// Event is one audit record from either source: one row of the public view
// audit_events. Empty strings are stored as SQL NULL; nil pointers are NULL.
type Event struct {
	Source          string // SourceDAS or SourcePgAudit
	Cluster         string
	Instance        string
	LogTime         time.Time
	SessionID       string
	StatementID     *int64
	SubstatementID  *int64
	AuditType       string // SESSION | OBJECT | "" (DAS, connections, errors)
	Class           string
	Command         string
	ObjectType      string
	ObjectName      string
	Statement       string
	Params          []string // nil: no parameters (<none>, <not logged>)
	RowCount        *int64
	DatabaseName    string
	UserName        string
	ApplicationName string
	RemoteHost      string
	RemotePort      *int32
	PID             *int32
	ErrorMessage    string
	ExitCode        *int32
	// ObjectRef says where the record came from: "s3://bucket/key#offset" or
	// "path:line", unique per event within a case file. See RefLine.
	ObjectRef string
	// RefLine, when positive, is the line the event was read from, and the
	// event's object_ref is ObjectRef + ":" + RefLine (Ref): decoders of
	// line-oriented logs share one ObjectRef string for a whole object
	// instead of allocating one per event.
	RefLine int64
	// Internal marks housekeeping users (rdsadmin, rdssec, …) so views can hide them.
	Internal bool
	// Raw is the record as it was read (DAS event JSON, pgAudit message) for fields
	// the typed columns do not carry.
	Raw string
}

// Heartbeat is a DAS heartbeat event: proof that the stream was alive at LogTime.
type Heartbeat struct {
	Cluster    string
	Instance   string
	LogTime    time.Time
	ServerHost string
	ObjectRef  string
}

// ServerMessage is a PostgreSQL ERROR/FATAL/PANIC (or WARNING) log entry.
type ServerMessage struct {
	Cluster      string
	Instance     string
	LogTime      time.Time
	Severity     string
	SessionID    string
	PID          *int32
	UserName     string
	DatabaseName string
	RemoteHost   string
	SQLState     string
	Message      string
	Detail       string
	Statement    string
	ObjectRef    string
}

// Reason categories for rejected records and quarantined objects.
const (
	ReasonFraming       = "framing"         // DAS: outer JSON record broken or truncated
	ReasonTruncated     = "truncated"       // object ends inside a record
	ReasonBase64        = "base64"          // DAS: bad base64 in key or payload
	ReasonKMSAccess     = "kms-access"      // KMS refused (AccessDenied, throttled out, network)
	ReasonKMSUnknownKey = "kms-unknown-key" // KMS: ciphertext blob not recognised
	ReasonKMSContext    = "kms-context"     // KMS: encryption context does not match
	ReasonDecryptAuth   = "decrypt-auth"    // ESDK: authentication/decryption failure
	ReasonGzip          = "gzip"            // payload is not valid gzip
	ReasonJSON          = "json"            // payload is not valid JSON
	ReasonParse         = "parse"           // pgAudit: malformed AUDIT line or log record
	ReasonNoMatch       = "no-match"        // pgAudit: no line matched the prefix/format
	ReasonRead          = "read"            // I/O error reading the object
)

// Reject is one record that could not be decoded. The rest of the object is kept.
type Reject struct {
	Offset int64  // byte offset (DAS) or line number (pgAudit) inside the object
	Reason string // one of the Reason* constants
	Detail string // human-readable, names the fix when there is one
}

// Batch is a group of decoded rows of one object, handed to the writer.
type Batch struct {
	Events     []Event
	Heartbeats []Heartbeat
	Messages   []ServerMessage
	Rejects    []Reject
	// PackedRaw, when not empty, holds the Raw of every event of Events, in order,
	// already compressed by store.PackRaw (the events' Raw are then empty):
	// decoders' goroutines pack it so the single writer does not have to.
	PackedRaw []byte
}

// Len is the number of rows of all kinds in the batch.
func (b *Batch) Len() int {
	return len(b.Events) + len(b.Heartbeats) + len(b.Messages) + len(b.Rejects)
}

// Reset empties the batch, keeping capacity.
func (b *Batch) Reset() {
	b.Events = b.Events[:0]
	b.Heartbeats = b.Heartbeats[:0]
	b.Messages = b.Messages[:0]
	b.Rejects = b.Rejects[:0]
	b.PackedRaw = b.PackedRaw[:0]
}

// Emit receives decoded batches. The batch may be reused after Emit returns, so
// an implementation that keeps rows must copy them.
type Emit func(*Batch) error

// IsInternalUser reports whether user is an Amazon RDS housekeeping role
// (rdsadmin, rdssec, …); the explorer hides these by default.
func IsInternalUser(user string) bool {
	switch user {
	case "rdsadmin", "rdssec", "rdstopmgr", "rdsrepladmin", "rds_superuser":
		return true
	}
	return false
}

// Int64 returns a pointer to v.
func Int64(v int64) *int64 { return &v }

// Int32 returns a pointer to v.
func Int32(v int32) *int32 { return &v }

// Ref is the event's object_ref (see RefLine).
func (e *Event) Ref() string {
	if e.RefLine <= 0 {
		return e.ObjectRef
	}
	return string(e.AppendRef(nil))
}

// AppendRef appends the event's object_ref to dst.
func (e *Event) AppendRef(dst []byte) []byte {
	dst = append(dst, e.ObjectRef...)
	if e.RefLine > 0 {
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, e.RefLine, 10)
	}
	return dst
}
