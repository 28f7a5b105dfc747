package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/auditlens/auditlens/ingest/das"
	"github.com/auditlens/auditlens/ingest/das/kmsfake"
)

// What DAS batching looks like in the demo: an outer record holds up to
// recordEvents events of one instance spanning at most recordSpan (Aurora
// sends smaller records more often; sealing one costs an ECDSA P-384
// signature, and the demo must generate and sync in seconds); Firehose
// writes an object per objectSpan of arrivals; the data key changes every
// keyEvery records of an instance.
const (
	recordEvents = 1000
	recordSpan   = 30 * time.Minute
	objectSpan   = 15 * time.Minute
	keyEvery     = 8
)

const (
	evStatement = iota // a statement record that takes part in gap analysis
	evOther            // connections, failed logins, errors, rdsadmin
	evHeartbeat
)

type dasEvent struct {
	at   time.Time
	kind int
	json []byte
}

type dasRecord struct {
	inst   int
	events []dasEvent
	arrive time.Time
	drop   bool
	key    int
	inner  []byte
	outer  []byte
}

type dataKey struct {
	plain, blob []byte
}

// renderDAS builds the cluster's activity stream: inner records per instance,
// the loss of async mode, encryption under rotating data keys (added to the
// fake KMS table) and Firehose objects.
func (g *gen) renderDAS(ctx context.Context, c *cluster, st *ClusterStats, table map[string]kmsfake.Key) ([]Object, error) {
	h := fnv.New64a()
	h.Write([]byte(c.name))
	rng := newRand(g.opt.Seed, h.Sum64())
	async := c.mode == "async"

	var records []*dasRecord
	for i := range c.instances {
		events := g.instanceEvents(rng, c, i, async)
		var cur *dasRecord
		inWin := false
		for _, e := range events {
			w := async && g.inLoss(e.at)
			if cur == nil || len(cur.events) >= recordEvents || e.at.Sub(cur.events[0].at) >= recordSpan || w != inWin {
				cur = &dasRecord{inst: i}
				records = append(records, cur)
				inWin = w
			}
			cur.events = append(cur.events, e)
		}
	}
	// Keys rotate per instance; drops are decided in each instance's order.
	var keys []dataKey
	perInst := map[int]int{}
	for _, r := range records {
		last := r.events[len(r.events)-1].at
		r.arrive = last.Add(200*time.Millisecond + time.Duration(rng.IntN(1300))*time.Millisecond)
		first := r.events[0].at
		if async {
			// Only the story's windows: the demo's records are large (see
			// recordEvents), so a random drop elsewhere would lose minutes.
			r.drop = g.inLoss(first)
		}
		n := perInst[r.inst]
		perInst[r.inst]++
		if n%keyEvery == 0 {
			keys = append(keys, newDataKey(rng))
		}
		r.key = len(keys) - 1
		for _, e := range r.events {
			switch {
			case r.drop && e.kind == evStatement:
				st.LostStatements++
			case r.drop && e.kind == evOther:
				st.LostOtherEvents++
			case r.drop:
				st.LostHeartbeats++
			case e.kind == evHeartbeat:
				st.DASHeartbeats++
			default:
				st.DASEvents++
			}
		}
		if r.drop {
			st.DroppedRecords++
		}
	}
	for _, k := range keys {
		table[base64.StdEncoding.EncodeToString(k.blob)] = kmsfake.Key{
			Plaintext:         k.plain,
			EncryptionContext: map[string]string{"aws:rds:dbc-id": c.resourceID},
			KeyID:             KMSKeyID,
		}
	}

	var delivered []*dasRecord
	for _, r := range records {
		if r.drop {
			continue
		}
		inner := innerRecord(c.resourceID, c.instances[r.inst].id, r.events)
		r.inner = inner
		g.plaintexts = append(g.plaintexts, inner)
		delivered = append(delivered, r)
	}
	if err := g.encrypt(ctx, delivered, keys); err != nil {
		return nil, fmt.Errorf("demo: encrypt %s: %w", c.name, err)
	}
	st.DASRecords = len(delivered)

	// Firehose: records in arrival order, one object per buffer interval.
	sort.SliceStable(delivered, func(i, j int) bool { return delivered[i].arrive.Before(delivered[j].arrive) })
	var objs []Object
	for i := 0; i < len(delivered); {
		start := delivered[i].arrive
		j := i
		var recs [][]byte
		for j < len(delivered) && delivered[j].arrive.Before(start.Add(objectSpan)) {
			recs = append(recs, delivered[j].outer)
			j++
		}
		n := len(objs)
		opt := das.ObjectOptions{}
		suffix := ""
		switch {
		case c.name == "orders-prod" && n%5 == 3:
			opt.Gzip = true // Firehose compression, no extension
		case c.name == "billing-prod" && n%9 == 4:
			opt.Gzip, suffix = true, ".gz"
		case n == 7:
			opt.Delimiter = "\n"
		}
		var buf bytes.Buffer
		if err := das.WriteObject(&buf, recs, opt); err != nil {
			return nil, err
		}
		key := fmt.Sprintf("%s/das/%s/aws-rds-das-%s-1-%s-%s%s", c.name, start.UTC().Format("2006/01/02/15"), c.resourceID,
			start.UTC().Format("2006-01-02-15-04-05"), uuid(rng), suffix)
		objs = append(objs, Object{Key: key, Data: buf.Bytes()})
		g.encrypted[key] = true
		i = j
	}
	st.DASObjects = len(objs)
	return objs, nil
}

// innerRecord is das.MarshalInner without its re-validation of every event
// (a second of CPU at the default size): the events are built here.
func innerRecord(clusterID, instanceID string, events []dasEvent) []byte {
	n := 0
	for _, e := range events {
		n += len(e.json) + 1
	}
	b := make([]byte, 0, n+200)
	b = append(b, `{"type":"DatabaseActivityMonitoringRecord","clusterId":`...)
	b = appendJSONString(b, clusterID)
	b = append(b, `,"instanceId":`...)
	b = appendJSONString(b, instanceID)
	b = append(b, `,"databaseActivityEventList":[`...)
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.json...)
	}
	return append(b, "]}"...)
}

func inWindow(w Window, t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

func (g *gen) inLoss(t time.Time) bool {
	for _, w := range g.lossWindows {
		if inWindow(w, t) {
			return true
		}
	}
	return false
}

func newDataKey(rng *rand.Rand) dataKey {
	k := dataKey{plain: make([]byte, 32), blob: make([]byte, 184)}
	fill(rng, k.plain)
	fill(rng, k.blob)
	copy(k.blob, []byte{0x01, 0x02, 0x03, 0x00, 0x78}) // the shape of a real KMS blob
	return k
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func uuid(rng *rand.Rand) string {
	b := make([]byte, 16)
	fill(rng, b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// encrypt seals the records on opt.Workers goroutines: the Encryption SDK's
// signing suite dominates the demo's generation time.
func (g *gen) encrypt(ctx context.Context, recs []*dasRecord, keys []dataKey) error {
	if g.enc == nil {
		enc, err := das.NewEncoder()
		if err != nil {
			return err
		}
		g.enc = enc
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *dasRecord)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range g.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				k := keys[r.key]
				out, err := g.enc.EncodeRecord(ctx, k.plain, k.blob, r.inner, das.EncodeOptions{})
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					continue
				}
				r.outer = out
			}
		}()
	}
	for _, r := range recs {
		if ctx.Err() != nil {
			break
		}
		work <- r
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// instanceEvents renders the DAS events of one instance in time order, with
// heartbeats wherever the instance has been quiet (none
// inside async loss windows: the stream is stalled there).
func (g *gen) instanceEvents(rng *rand.Rand, c *cluster, inst int, async bool) []dasEvent {
	host := c.instances[inst].host
	var evs []dasEvent
	for _, s := range c.sessions {
		if s.inst != inst {
			continue
		}
		connClass := "CONNECT"
		if s.internal {
			connClass = "MISC" // as RDS streams rdsadmin's connections
		}
		if s.authFail != "" {
			evs = append(evs, dasEvent{at: s.authAt, kind: evOther, json: connEvent(rng, s, host, "CONNECT", connClass, s.authAt, s.authFail)})
			continue
		}
		evs = append(evs, dasEvent{at: s.authAt, kind: evOther, json: connEvent(rng, s, host, "CONNECT", connClass, s.authAt, "")})
		for i := range s.stmts {
			x := &s.stmts[i]
			switch {
			case x.auditType == "OBJECT":
				// DAS has no object-audit layer: the SESSION record carries it.
			case x.auditType == "":
				evs = append(evs, dasEvent{at: x.at, kind: evOther, json: stmtEvent(rng, s, x, host)})
			default:
				kind := evStatement
				if s.internal {
					kind = evOther // gap analysis leaves rdsadmin out
				}
				evs = append(evs, dasEvent{at: x.at, kind: kind, json: stmtEvent(rng, s, x, host)})
			}
		}
		evs = append(evs, dasEvent{at: s.end, kind: evOther, json: connEvent(rng, s, host, "DISCONNECT", connClass, s.end, "")})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })

	every := g.opt.HeartbeatEvery
	end := g.opt.Start.Add(g.opt.Span)
	var out []dasEvent
	j := 0
	var last time.Time
	for t := g.opt.Start.Add(time.Duration(rng.IntN(int(every/time.Millisecond))) * time.Millisecond); t.Before(end); t = t.Add(every) {
		for j < len(evs) && !evs[j].at.After(t) {
			out = append(out, evs[j])
			last = evs[j].at
			j++
		}
		if async && g.inLoss(t) {
			continue
		}
		// Beat when quiet for a quarter period: an event just after that
		// threshold skips this tick, so the longest silence is a period and a
		// quarter plus the jitter (26 s by default, under the 30 s the gap
		// report flags).
		if last.IsZero() || t.Sub(last) >= every/4 {
			hb := t.Add(time.Duration(rng.IntN(1_000_000)) * time.Microsecond)
			out = append(out, dasEvent{at: hb, kind: evHeartbeat, json: heartbeat(hb, host)})
			last = hb
		}
	}
	out = append(out, evs[j:]...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// dasTime formats like the stream: PostgreSQL's timestamp with trailing
// zeros of the fraction dropped and "+00".
func dasTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999") + "+00" }

// jw writes one JSON object field by field, in the stream's field order.
type jw struct{ b []byte }

func (w *jw) key(k string) {
	if len(w.b) == 0 {
		w.b = append(w.b, '{')
	} else {
		w.b = append(w.b, ',')
	}
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

func (w *jw) strOrNull(k, v string) {
	if v == "" {
		w.null(k)
		return
	}
	w.str(k, v)
}

func (w *jw) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

func (w *jw) raw(k, v string) {
	w.key(k)
	w.b = append(w.b, v...)
}

// num writes a number, or the same number as a string, as the stream
// sometimes does.
func (w *jw) num(k string, v int64, asString bool) {
	w.key(k)
	if asString {
		w.b = append(w.b, '"')
	}
	w.b = strconv.AppendInt(w.b, v, 10)
	if asString {
		w.b = append(w.b, '"')
	}
}

func (w *jw) strs(k string, vs []string) {
	w.key(k)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, v)
	}
	w.b = append(w.b, ']')
}

func (w *jw) done() []byte { return append(w.b, '}') }

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

const (
	serverVersion = "15.4.1"
	serviceName   = "Amazon Aurora PostgreSQL-Compatible edition"
)

// common writes the fields from databaseName to sessionId.
func (w *jw) session(rng *rand.Rand, s *session) {
	w.str("databaseName", s.db)
	w.str("dbUserName", s.user)
	w.str("remoteHost", s.host)
	w.num("remotePort", int64(s.port), rng.IntN(10) != 0)
	w.str("sessionId", s.id())
}

func (w *jw) tail(rng *rand.Rand, host, errMsg string, end time.Time, xid int64) {
	w.str("serverVersion", serverVersion)
	w.str("serverType", "PostgreSQL")
	w.str("serviceName", serviceName)
	w.str("serverHost", host)
	w.str("netProtocol", "TCP")
	w.str("dbProtocol", "Postgres 3.0")
	w.str("type", "record")
	w.strOrNull("errorMessage", errMsg)
	if rng.IntN(100) < 3 {
		return // some events lack endTime and transactionId altogether
	}
	if end.IsZero() {
		w.null("endTime")
	} else {
		w.str("endTime", dasTime(end))
	}
	w.num("transactionId", xid, rng.IntN(10) != 0)
	if rng.IntN(10) == 0 {
		w.num("queryId", rng.Int64N(1<<52), false) // undocumented; readers must ignore it
	}
}

func connEvent(rng *rand.Rand, s *session, host, command, class string, at time.Time, errMsg string) []byte {
	var w jw
	w.str("startTime", dasTime(s.start.Truncate(time.Second)))
	w.str("logTime", dasTime(at))
	if command == "CONNECT" && errMsg == "" {
		w.raw("statementId", "1")
		w.raw("substatementId", "1")
	} else {
		w.null("statementId")
		w.null("substatementId")
	}
	w.null("objectType")
	w.str("command", command)
	w.null("objectName")
	w.session(rng, s)
	w.null("rowCount")
	w.null("commandText")
	w.raw("paramList", "[]")
	w.num("pid", int64(s.pid), rng.IntN(20) == 0)
	if errMsg != "" {
		w.null("clientApplication")
	} else {
		w.strOrNull("clientApplication", s.app)
	}
	if command == "DISCONNECT" {
		w.num("exitCode", 0, rng.IntN(5) == 0)
	} else {
		w.null("exitCode")
	}
	w.str("class", class)
	var end time.Time
	if command == "DISCONNECT" {
		end = at
	}
	w.tail(rng, host, errMsg, end, 0)
	return w.done()
}

func stmtEvent(rng *rand.Rand, s *session, x *stmt, host string) []byte {
	var w jw
	w.str("startTime", dasTime(x.started))
	w.str("logTime", dasTime(x.at))
	if x.auditType == "" {
		w.null("statementId")
		w.null("substatementId")
	} else {
		w.num("statementId", x.id, rng.IntN(25) == 0)
		w.num("substatementId", x.sub, false)
	}
	w.strOrNull("objectType", x.objType)
	w.str("command", x.command)
	w.strOrNull("objectName", x.objName)
	w.session(rng, s)
	if x.auditType == "" {
		w.null("rowCount")
	} else {
		w.num("rowCount", x.rows, rng.IntN(10) == 0)
	}
	w.str("commandText", x.text)
	if x.auditType == "" || x.params == nil {
		w.raw("paramList", "[]")
	} else {
		w.strs("paramList", x.params)
	}
	w.num("pid", int64(s.pid), rng.IntN(20) == 0)
	w.strOrNull("clientApplication", s.app)
	w.null("exitCode")
	w.str("class", x.class)
	w.tail(rng, host, x.errMsg, time.Time{}, x.xid)
	return w.done()
}

func heartbeat(at time.Time, host string) []byte {
	var w jw
	w.null("startTime")
	w.str("logTime", dasTime(at))
	w.null("statementId")
	w.null("substatementId")
	for _, k := range []string{"objectType", "command", "objectName", "databaseName", "dbUserName", "remoteHost", "remotePort", "sessionId"} {
		w.str(k, "")
	}
	w.null("rowCount")
	w.str("commandText", "")
	w.raw("paramList", "[]")
	w.null("pid")
	w.str("clientApplication", "")
	w.null("exitCode")
	w.str("class", "")
	w.str("serverVersion", "")
	w.str("serverType", "PostgreSQL")
	w.str("serviceName", serviceName)
	w.str("serverHost", host)
	w.str("netProtocol", "")
	w.str("dbProtocol", "")
	w.str("type", "heartbeat")
	w.null("errorMessage")
	w.null("endTime")
	w.null("transactionId")
	return w.done()
}
