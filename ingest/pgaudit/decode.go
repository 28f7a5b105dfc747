package pgaudit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/auditlens/auditlens/ingest/compress"
	"github.com/auditlens/auditlens/store/model"
)

// Formats accepted by Options.Format.
const (
	FormatAuto       = "auto"
	FormatStderr     = "stderr"
	FormatCSVLog     = "csvlog"
	FormatJSONLog    = "jsonlog"
	FormatCloudWatch = "cloudwatch"
)

// RDSPrefix is the log_line_prefix of Amazon RDS and Aurora PostgreSQL.
const RDSPrefix = "%t:%r:%u@%d:[%p]:"

// KnownPrefixes returns the prefixes tried, in order, when the prefix is
// auto-detected.
func KnownPrefixes() []string {
	return []string{
		RDSPrefix,
		"%m [%p] %q%u@%d ", // Debian and Ubuntu packages
		"%m [%p] ",         // PostgreSQL's default
		"%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ", // pgBadger's recommendation
		"%t [%p]: user=%u,db=%d,app=%a,client=%h ",
		"%m:%r:%u@%d:[%p]:", // RDS-like with milliseconds
		"%t [%p]: ",
		"%m [%p] %u@%d ",
	}
}

// headSize is how much of an object is read ahead to detect its format and
// prefix. It is also the memory the detection holds.
const headSize = 256 << 10

// Options configure Decode.
type Options struct {
	Cluster, Instance string
	Format            string // auto|stderr|csvlog|jsonlog|cloudwatch ("" = auto)
	LinePrefix        string // "" = auto-detect
	BatchSize         int    // events per emitted batch, default 4096
}

// Stats describe one decoded object.
type Stats struct {
	Format, LinePrefix string
	// Lines read, Records (log entries) found, Events and server Messages
	// produced, Rejects counted (listed or not).
	Lines, Records, Events, Messages, Rejects int64
	Compression                               string
	// SessionsDerived counts sessions whose id was computed from the pid and
	// the first line's time (formats without %c); SessionsConnected those of
	// them that began with a "connection received" line.
	SessionsDerived, SessionsConnected int64
}

// Decode reads one log object from r (gzip and zstd are unwrapped) and hands
// its rows to emit in batches of opt.BatchSize; a batch is reused after emit
// returns. ref names the object in every row's object_ref ("<ref>:<line>"):
// events carry it as ObjectRef = ref and RefLine = line (model.Event.Ref),
// server messages whole in ObjectRef.
//
// Bad input never fails the call: it becomes Rejects. Decode returns an error
// only for a read error, ctx cancellation, a bad option or an emit error.
func Decode(ctx context.Context, ref string, r io.Reader, opt Options, emit model.Emit) (Stats, error) {
	var st Stats
	dr, kind, err := compress.Reader(r)
	if err != nil {
		return st, fmt.Errorf("decode %s: %w", ref, err)
	}
	st.Compression = kind

	head := make([]byte, headSize)
	n, err := io.ReadFull(dr, head)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	case err != nil:
		return st, fmt.Errorf("decode %s: read: %w", ref, err)
	}
	head = head[:n]
	in := io.MultiReader(bytes.NewReader(head), dr)

	format := opt.Format
	if format == "" || format == FormatAuto {
		format = DetectFormat(head)
	}
	st.Format = format
	s := newSink(ctx, ref, opt, emit, &st)
	noMatch := ""
	switch format {
	case FormatStderr, FormatCloudWatch:
		spec := opt.LinePrefix
		if spec == "" {
			spec = DetectPrefix(head, format == FormatCloudWatch)
		}
		p, err := CompilePrefix(spec)
		if err != nil {
			return st, fmt.Errorf("decode %s: %w", ref, err)
		}
		st.LinePrefix = spec
		rd := &stderrReader{s: s, p: p, cloudwatch: format == FormatCloudWatch}
		err = rd.run(in)
		if err != nil {
			return st, wrapRead(ref, err)
		}
		noMatch = fmt.Sprintf("no line matched the %s format with log_line_prefix %q; set the server's log_line_prefix with --line-prefix, or the format with --format (stderr|csvlog|jsonlog|cloudwatch)", format, spec)
	case FormatCSVLog:
		if err := readCSVLog(s, in); err != nil {
			return st, wrapRead(ref, err)
		}
		noMatch = "no csvlog row found; if this is not a csvlog file, set --format (stderr|jsonlog|cloudwatch)"
	case FormatJSONLog:
		if err := readJSONLog(s, in); err != nil {
			return st, wrapRead(ref, err)
		}
		noMatch = "no jsonlog entry found; if this is not a jsonlog file, set --format (stderr|csvlog|cloudwatch)"
	default:
		return st, fmt.Errorf("decode %s: unknown format %q (want auto, stderr, csvlog, jsonlog or cloudwatch)", ref, format)
	}
	if st.Lines == 0 {
		noMatch = "" // an empty object is not a mismatch
	}
	st.SessionsDerived, st.SessionsConnected = s.sessionsDerived, s.sessionsConnected
	if err := s.finish(noMatch); err != nil {
		return st, wrapRead(ref, err)
	}
	return st, nil
}

func wrapRead(ref string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("decode %s: %w", ref, err)
}

// DetectFormat guesses the format from the first lines: a JSON object is
// jsonlog, an ISO-8601 "T…Z " lead is a CloudWatch export, a timestamp
// followed by a comma is csvlog, anything else is stderr. Lines that fit
// nothing (a partial first line of a download portion) are skipped.
func DetectFormat(head []byte) string {
	lines := 0
	for len(head) > 0 && lines < 50 {
		i := bytes.IndexByte(head, '\n')
		var line []byte
		if i < 0 {
			line, head = head, nil
		} else {
			line, head = head[:i], head[i+1:]
		}
		lines++
		line = bytes.TrimLeft(line, " \ufeff")
		if len(line) == 0 || line[0] == '\t' {
			continue
		}
		if line[0] == '{' {
			return FormatJSONLog
		}
		if _, _, ok := scanISO(line); ok {
			return FormatCloudWatch
		}
		if n := scanTimestamp(line, true); n > 0 && n < len(line) && line[n] == ',' {
			return FormatCSVLog
		}
		if n := scanTimestamp(line, false); n > 0 {
			return FormatStderr
		}
		if n := digits(line); n >= 9 && n < len(line) && line[n] == '.' {
			return FormatStderr // %n epoch prefix
		}
	}
	return FormatStderr
}

// DetectPrefix returns the known prefix that matches the most of the first
// lines of head (ties go to the earlier, more specific entry); RDSPrefix when
// none matches.
func DetectPrefix(head []byte, cloudwatch bool) string {
	known := KnownPrefixes()
	prefixes := make([]*Prefix, 0, len(known))
	for _, spec := range known {
		p, err := CompilePrefix(spec)
		if err != nil {
			continue
		}
		prefixes = append(prefixes, p)
	}
	counts := make([]int, len(prefixes))
	rd := &stderrReader{cloudwatch: cloudwatch}
	var m prefixMatch
	lines := 0
	for len(head) > 0 && lines < 500 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			break // the last, possibly cut, line
		}
		line := head[:i]
		head = head[i+1:]
		if len(line) == 0 || line[0] == '\t' {
			continue
		}
		lines++
		line = rd.stripCloudWatch(line)
		for k, p := range prefixes {
			if p.match(line, &m) {
				counts[k]++
			}
		}
	}
	best := -1
	for k, c := range counts {
		if c > 0 && (best < 0 || c > counts[best]) {
			best = k
		}
	}
	if best < 0 {
		return RDSPrefix
	}
	return prefixes[best].spec
}
