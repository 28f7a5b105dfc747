package das

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// Options says how to read one object.
type Options struct {
	// Cluster is the cluster name written to rows; empty means the inner
	// record's clusterId (the DbClusterResourceId).
	Cluster string
	// ResourceID is the configured DbClusterResourceId. The object name's id
	// wins for the KMS encryption context when both are set (the object says
	// whose it is); a mismatch then explains a KMS refusal.
	ResourceID string
	// Mode is the stream's mode, "sync" or "async" (or empty). It does not
	// change decoding; it is validated here so a typo fails early.
	Mode string
	// BatchSize is the number of rows per emitted batch (default 1000).
	BatchSize int
}

// StageTimes is the wall time spent per stage of a Decode.
type StageTimes struct {
	KMS     time.Duration // data keys (KMS calls and keyring builds)
	Decrypt time.Duration // Encryption SDK decrypt
	Gunzip  time.Duration // inner GZIP
	JSON    time.Duration // inner JSON and row building
}

// Stats describes one Decode.
type Stats struct {
	Records         int64 // outer records read, good or rejected
	Events          int64 // record events emitted
	Heartbeats      int64 // heartbeat events emitted
	Rejects         int64 // rejected records (or events)
	UnknownVersions int64 // outer records with a version other than 1.0–1.4, decoded anyway
	KMSCalls        int64 // data keys asked of the KeyDecrypter by this Decode
	Compression     string
	Bytes           int64 // bytes of the object after its optional GZIP
	Stage           StageTimes
}

// Decoder decodes DAS objects. It holds the Encryption SDK clients and the data
// key cache for a run; it is safe for concurrent use.
type Decoder struct {
	crypto *cryptoClients
	keys   *keyCache
}

// NewDecoder builds the Encryption SDK clients once; keys turns KMS blobs into
// data keys and is asked once per distinct key for the Decoder's life.
func NewDecoder(keys KeyDecrypter) (*Decoder, error) {
	if keys == nil {
		return nil, errors.New("new DAS decoder: nil KeyDecrypter")
	}
	c, err := newCryptoClients()
	if err != nil {
		return nil, fmt.Errorf("new DAS decoder: %w", err)
	}
	return &Decoder{crypto: c, keys: newKeyCache(keys, c.newKeyring)}, nil
}

// KMSCalls is the number of data keys asked of the KeyDecrypter so far.
func (d *Decoder) KMSCalls() int64 { return d.keys.Calls() }

// Decode reads one Firehose object and emits its rows in batches. ref names the
// object in ObjectRef ("s3://bucket/key"); objectKey is its key or file name,
// used for the resource id. Bad records become model.Reject rows and decoding
// goes on; the error is non-nil only when the object could not be read to its
// end (I/O), ctx ended, emit failed, or opt is invalid.
func (d *Decoder) Decode(ctx context.Context, ref, objectKey string, r io.Reader, opt Options, emit model.Emit) (st Stats, err error) {
	switch opt.Mode {
	case "", "sync", "async", "SYNC", "ASYNC":
	default:
		return st, fmt.Errorf("decode %s: mode %q: want sync or async", ref, opt.Mode)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 1000
	}
	callsBefore := d.keys.Calls()
	defer func() { st.KMSCalls = d.keys.Calls() - callsBefore }()

	br := bufio.NewReaderSize(r, 64<<10)
	st.Compression = "none"
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		st.Compression = "gzip"
		zr, err := gzip.NewReader(br)
		if err != nil {
			if !isFormatErr(err) {
				return st, fmt.Errorf("decode %s: object gzip: %w", ref, err)
			}
			// A GZIP object whose header is broken: nothing in it can be read.
			reason := model.ReasonFraming
			if errors.Is(err, io.ErrUnexpectedEOF) {
				reason = model.ReasonTruncated
			}
			st.Records, st.Rejects = 1, 1
			return st, emit(&model.Batch{Rejects: []model.Reject{{Offset: 0, Reason: reason, Detail: "object gzip header: " + err.Error()}}})
		}
		defer zr.Close()
		src = zr
	}

	od := &objectDecoder{d: d, ctx: ctx, ref: ref, opt: opt, st: &st, emit: emit}
	od.nameID = ResourceIDFromKey(objectKey)
	od.resourceID = od.nameID
	if od.resourceID == "" {
		od.resourceID = opt.ResourceID
	}
	fr := newFramer(src)
	for {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("decode %s: %w", ref, err)
		}
		f, err := fr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			st.Bytes = fr.off
			return st, fmt.Errorf("decode %s: read at byte %d: %w", ref, fr.off, err)
		}
		st.Records++
		if f.Reason != "" {
			if err := od.reject(f.Offset, f.Reason, f.Detail); err != nil {
				return st, err
			}
			continue
		}
		rec, perr := parseOuter(f.Raw)
		if perr != nil {
			f = fr.resplit(f)
			if err := od.reject(f.Offset, model.ReasonFraming, perr.Error()); err != nil {
				return st, err
			}
			continue
		}
		if !knownVersion(rec.Version) {
			st.UnknownVersions++
		}
		if err := od.record(f.Offset, rec); err != nil {
			return st, err
		}
	}
	st.Bytes = fr.off
	if err := od.flush(); err != nil {
		return st, err
	}
	return st, nil
}

// objectDecoder is the state of one Decode call.
type objectDecoder struct {
	d          *Decoder
	ctx        context.Context
	ref        string
	opt        Options
	nameID     string
	resourceID string
	st         *Stats
	emit       model.Emit
	batch      model.Batch
	zr         *gzip.Reader
	plain      bytes.Buffer
	events     []rawEvent // reused between records
}

func (o *objectDecoder) reject(off int64, reason, detail string) error {
	o.st.Rejects++
	o.batch.Rejects = append(o.batch.Rejects, model.Reject{Offset: off, Reason: reason, Detail: detail})
	return o.maybeFlush()
}

func (o *objectDecoder) maybeFlush() error {
	if o.batch.Len() < o.opt.BatchSize {
		return nil
	}
	return o.flush()
}

func (o *objectDecoder) flush() error {
	if o.batch.Len() == 0 {
		return nil
	}
	if err := o.emit(&o.batch); err != nil {
		return fmt.Errorf("decode %s: emit: %w", o.ref, err)
	}
	o.batch.Reset()
	return nil
}

// record decodes one outer record: base64, data key, decrypt, gunzip, JSON.
func (o *objectDecoder) record(off int64, rec outerRecord) error {
	blob, err := decodeBase64(rec.Key)
	if err != nil {
		return o.reject(off, model.ReasonBase64, "key: "+err.Error())
	}
	msg, err := decodeBase64(rec.Events)
	if err != nil {
		return o.reject(off, model.ReasonBase64, "databaseActivityEvents: "+err.Error())
	}
	if o.resourceID == "" {
		return o.reject(off, model.ReasonKMSContext,
			"no DbClusterResourceId for the KMS encryption context: the object name does not carry one; set resource_id for this source")
	}

	t0 := time.Now()
	kr, _, err := o.d.keys.get(o.ctx, blob, map[string]string{EncryptionContextKey: o.resourceID})
	o.st.Stage.KMS += time.Since(t0)
	if err != nil {
		if o.ctx.Err() != nil {
			return fmt.Errorf("decode %s: %w", o.ref, o.ctx.Err())
		}
		reason, detail := o.keyFailure(err)
		return o.reject(off, reason, detail)
	}

	t1 := time.Now()
	pt, err := o.d.crypto.decryptMessage(o.ctx, kr, msg)
	o.st.Stage.Decrypt += time.Since(t1)
	if err != nil {
		return o.reject(off, model.ReasonDecryptAuth, truncate(err.Error(), 300))
	}

	t2 := time.Now()
	err = o.gunzip(pt)
	o.st.Stage.Gunzip += time.Since(t2)
	if err != nil {
		return o.reject(off, model.ReasonGzip, err.Error())
	}

	t3 := time.Now()
	defer func() { o.st.Stage.JSON += time.Since(t3) }()
	return o.inner(off, o.plain.Bytes())
}

// decodeBase64 is strict: standard alphabet, padding, no whitespace. (The
// standard library skips CR and LF even in strict mode; DAS never writes them.)
func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return nil, fmt.Errorf("line break in base64 at input byte %d", i)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (o *objectDecoder) gunzip(pt []byte) error {
	if len(pt) < 2 || pt[0] != 0x1f || pt[1] != 0x8b {
		return fmt.Errorf("payload is not GZIP (starts %q)", truncate(string(pt[:min(len(pt), 8)]), 8))
	}
	var err error
	if o.zr == nil {
		o.zr, err = gzip.NewReader(bytes.NewReader(pt))
	} else {
		err = o.zr.Reset(bytes.NewReader(pt))
	}
	if err != nil {
		return fmt.Errorf("payload gzip: %w", err)
	}
	o.plain.Reset()
	if _, err := o.plain.ReadFrom(io.LimitReader(o.zr, maxInnerBytes+1)); err != nil {
		return fmt.Errorf("payload gzip: %w", err)
	}
	if o.plain.Len() > maxInnerBytes {
		return fmt.Errorf("payload larger than %d bytes once gunzipped", maxInnerBytes)
	}
	return nil
}

// maxInnerBytes bounds a gunzipped payload (a GZIP bomb must not exhaust memory).
const maxInnerBytes = 256 << 20

// keyFailure turns a data key failure into a reason and an actionable detail.
func (o *objectDecoder) keyFailure(err error) (reason, detail string) {
	var ke *KeyError
	if !errors.As(err, &ke) {
		ke = &KeyError{Kind: KeyAccess, Code: "Error", Err: err}
	}
	ctxText := fmt.Sprintf("{%q: %q}", EncryptionContextKey, o.resourceID)
	switch ke.Kind {
	case KeyUnknown:
		if o.opt.ResourceID != "" && o.resourceID != o.opt.ResourceID {
			return model.ReasonKMSContext, fmt.Sprintf(
				"KMS refused the data key with encryption context %s (%s): the object name says resource id %s but the source is configured for %s; the object belongs to another cluster, or the configured resource_id is wrong",
				ctxText, ke.Code, o.resourceID, o.opt.ResourceID)
		}
		return model.ReasonKMSUnknownKey, fmt.Sprintf(
			"KMS does not recognise the data key blob with encryption context %s (%s): the blob is damaged, belongs to another account/region, or the resource id is wrong",
			ctxText, ke.Code)
	default:
		key := "the activity stream's KMS key (see ActivityStreamKmsKeyId of the DB cluster)"
		if ke.KeyID != "" {
			key = ke.KeyID
		}
		what := "KMS refused"
		if !ke.Final {
			what = "KMS could not be reached or kept throttling after retries"
		}
		return model.ReasonKMSAccess, fmt.Sprintf(
			"%s (%s): grant the IAM action kms:Decrypt on %s to this identity, with the condition kms:EncryptionContext:%s = %q; %s",
			what, ke.Code, key, EncryptionContextKey, o.resourceID, truncate(errText(ke.Err), 300))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// inner decodes the gunzipped inner record into rows. The record is all or
// nothing: a syntax error rejects it; an event that is not an object is
// rejected alone.
func (o *objectDecoder) inner(off int64, body []byte) error {
	in, events, err := parseInner(body, o.events)
	o.events = events[:0]
	if err != nil {
		return o.reject(off, model.ReasonJSON, "inner record: "+truncate(err.Error(), 200))
	}
	if !in.hasEvents && in.Type.V != "DatabaseActivityMonitoringRecord" {
		return o.reject(off, model.ReasonJSON, "inner record has no databaseActivityEventList")
	}
	cluster := o.opt.Cluster
	if cluster == "" {
		cluster = in.ClusterID.V
	}
	prefix := o.ref + "#" + strconv.FormatInt(off, 10) + "/"
	for i := range events {
		re := &events[i]
		if !re.isObject {
			if err := o.reject(off, model.ReasonJSON, fmt.Sprintf("event %d is not a JSON object", i)); err != nil {
				return err
			}
			continue
		}
		ev := &re.ev
		objectRef := prefix + strconv.Itoa(i)
		if ev.Type.V == "heartbeat" {
			o.st.Heartbeats++
			o.batch.Heartbeats = append(o.batch.Heartbeats, model.Heartbeat{
				Cluster:    cluster,
				Instance:   in.InstanceID.V,
				LogTime:    ev.eventTime(),
				ServerHost: ev.ServerHost.V,
				ObjectRef:  objectRef,
			})
		} else {
			o.st.Events++
			o.batch.Events = append(o.batch.Events, toEvent(ev, re.raw, cluster, in.InstanceID.V, objectRef))
		}
		if err := o.maybeFlush(); err != nil {
			return err
		}
	}
	return nil
}

func toEvent(ev *wireEvent, raw []byte, cluster, instance, objectRef string) model.Event {
	class := ev.Class.V
	if isConnectCommand(ev.Command.V) {
		class = model.ClassConnect
	}
	return model.Event{
		Source:          model.SourceDAS,
		Cluster:         cluster,
		Instance:        instance,
		LogTime:         ev.eventTime(),
		SessionID:       ev.SessionID.V,
		StatementID:     ev.StatementID.ptr64(),
		SubstatementID:  ev.SubstatementID.ptr64(),
		Class:           class,
		Command:         ev.Command.V,
		ObjectType:      ev.ObjectType.V,
		ObjectName:      ev.ObjectName.V,
		Statement:       ev.CommandText.V,
		Params:          ev.ParamList.V,
		RowCount:        ev.RowCount.ptr64(),
		DatabaseName:    ev.DatabaseName.V,
		UserName:        ev.DBUserName.V,
		ApplicationName: ev.ClientApplication.V,
		RemoteHost:      ev.RemoteHost.V,
		RemotePort:      ev.RemotePort.ptr32(),
		PID:             ev.PID.ptr32(),
		ErrorMessage:    ev.ErrorMessage.V,
		ExitCode:        ev.ExitCode.ptr32(),
		ObjectRef:       objectRef,
		Internal:        model.IsInternalUser(ev.DBUserName.V),
		Raw:             string(raw),
	}
}
