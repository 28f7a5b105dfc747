package das

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/auditlens/auditlens/store/model"
)

// outerRecord is one Firehose record of the stream.
type outerRecord struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	Events  string `json:"databaseActivityEvents"`
	Key     string `json:"key"`
}

// outerType is the value of "type" in every outer record; resync looks for it.
const outerType = "DatabaseActivityMonitoringRecords"

// maxRecordBytes bounds one outer record. Kinesis records are at most a few MiB;
// a run-away record (an unterminated string) must not eat the whole object.
const maxRecordBytes = 64 << 20

// knownVersion reports whether v is an outer record version this decoder was
// written for. Others are decoded the same way but counted.
func knownVersion(v string) bool {
	switch v {
	case "1.0", "1.1", "1.2", "1.3", "1.4":
		return true
	}
	return false
}

// frame is what the framer yields: a complete outer record, or a byte range
// that could not be framed.
type frame struct {
	Offset int64  // byte offset of the record in the (decompressed) object
	Raw    []byte // the record's bytes; valid until the next call
	Reason string // "" for a complete record, else model.ReasonFraming/ReasonTruncated
	Detail string
}

// framer splits a Firehose object into outer JSON records. Records are found by
// matching braces outside strings, so a delimiter is optional and whitespace
// between records is skipped. Broken input is reported as a frame with a
// reason, and scanning resumes at the next record header when there is one.
type framer struct {
	r       *bufio.Reader
	pending []byte // bytes handed back after a resync, read before r
	off     int64  // offset of the next byte to read
	buf     []byte
	ioErr   error // a read error that is not a clean EOF
}

func newFramer(r io.Reader) *framer {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &framer{r: br}
}

func (f *framer) readByte() (byte, error) {
	if len(f.pending) > 0 {
		c := f.pending[0]
		f.pending = f.pending[1:]
		f.off++
		return c, nil
	}
	c, err := f.r.ReadByte()
	if err == nil {
		f.off++
	}
	return c, err
}

// unread hands b back to be read again, b having been read just now.
func (f *framer) unread(b []byte) {
	f.off -= int64(len(b))
	if len(f.pending) == 0 {
		f.pending = append([]byte(nil), b...)
		return
	}
	f.pending = append(append([]byte(nil), b...), f.pending...)
}

// next returns the next frame, or io.EOF at the end of the object. Any other
// error is a read error of the underlying reader.
func (f *framer) next() (frame, error) {
	// Skip whitespace between records.
	var c byte
	var err error
	for {
		c, err = f.readByte()
		if err != nil {
			return frame{}, f.endErr(err)
		}
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			break
		}
	}
	start := f.off - 1
	f.buf = append(f.buf[:0], c)
	if c != '{' {
		return f.garbage(start)
	}
	depth := 1
	inString, escaped := false, false
	for depth > 0 {
		if len(f.buf) > maxRecordBytes {
			return f.broken(start, fmt.Sprintf("outer record longer than %d bytes", maxRecordBytes))
		}
		c, err = f.readByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				f.ioErr = err
				if !isFormatErr(err) {
					return frame{}, err
				}
			}
			return f.truncated(start)
		}
		f.buf = append(f.buf, c)
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{':
			depth++
		case c == '}':
			depth--
		}
	}
	return frame{Offset: start, Raw: f.buf}, nil
}

// endErr maps the error seen between records.
func (f *framer) endErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if isFormatErr(err) {
		// The object's own GZIP is broken between records: nothing more to read.
		f.ioErr = err
		return io.EOF
	}
	return err
}

// garbage handles bytes that do not start a record: skip to the next header.
func (f *framer) garbage(start int64) (frame, error) {
	for {
		if i := headerIndex(f.buf, 1); i >= 0 {
			rest := f.buf[i:]
			f.unread(rest)
			return frame{Offset: start, Raw: f.buf[:i], Reason: model.ReasonFraming,
				Detail: fmt.Sprintf("%d bytes that are not an outer record", i)}, nil
		}
		if len(f.buf) > maxRecordBytes {
			return f.broken(start, "no outer record header")
		}
		c, err := f.readByte()
		if err != nil {
			if !errors.Is(err, io.EOF) && !isFormatErr(err) {
				return frame{}, err
			}
			if !errors.Is(err, io.EOF) {
				f.ioErr = err
			}
			return frame{Offset: start, Raw: f.buf, Reason: model.ReasonFraming,
				Detail: fmt.Sprintf("%d trailing bytes that are not an outer record", len(f.buf))}, nil
		}
		f.buf = append(f.buf, c)
	}
}

// truncated handles an object that ends inside a record. When a later record
// header sits inside the unfinished bytes, the record was broken, not cut,
// and scanning resumes there.
func (f *framer) truncated(start int64) (frame, error) {
	if i := headerIndex(f.buf, 1); i >= 0 {
		f.unread(f.buf[i:])
		return frame{Offset: start, Raw: f.buf[:i], Reason: model.ReasonFraming,
			Detail: "outer record not closed before the next record"}, nil
	}
	detail := fmt.Sprintf("object ends inside an outer record (%d bytes read)", len(f.buf))
	if f.ioErr != nil {
		detail += ": " + f.ioErr.Error()
	}
	return frame{Offset: start, Raw: f.buf, Reason: model.ReasonTruncated, Detail: detail}, nil
}

// broken rejects a record that runs away, resyncing at the next header if any.
func (f *framer) broken(start int64, detail string) (frame, error) {
	if i := headerIndex(f.buf, 1); i >= 0 {
		f.unread(f.buf[i:])
		return frame{Offset: start, Raw: f.buf[:i], Reason: model.ReasonFraming, Detail: detail}, nil
	}
	// Drop everything read; keep scanning from here.
	return frame{Offset: start, Raw: f.buf, Reason: model.ReasonFraming, Detail: detail}, nil
}

// resplit is called when a closed record does not parse: if another record
// header sits inside it, the bytes before it are the broken record and the rest
// is handed back.
func (f *framer) resplit(fr frame) frame {
	if i := headerIndex(fr.Raw, 1); i >= 0 {
		f.unread(fr.Raw[i:])
		fr.Raw = fr.Raw[:i]
	}
	return fr
}

// headerIndex finds the '{' of a record header `{"type":"DatabaseActivityMonitoringRecords"`
// (whitespace allowed) at or after from, or -1.
func headerIndex(b []byte, from int) int {
	for from < len(b) {
		j := bytes.Index(b[from:], []byte(`"`+outerType+`"`))
		if j < 0 {
			return -1
		}
		at := from + j
		// Walk back over `"type" :` and whitespace to the brace.
		k := at - 1
		for k >= from && isSpace(b[k]) {
			k--
		}
		if k >= from && b[k] == ':' {
			k--
			for k >= from && isSpace(b[k]) {
				k--
			}
			if k-5 >= from && string(b[k-5:k+1]) == `"type"` {
				k -= 6
				for k >= from && isSpace(b[k]) {
					k--
				}
				if k >= from && b[k] == '{' {
					return k
				}
			}
		}
		from = at + 1
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// parseOuter decodes one framed record.
func parseOuter(raw []byte) (outerRecord, error) {
	var rec outerRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return outerRecord{}, fmt.Errorf("outer record JSON: %w", err)
	}
	if rec.Type != outerType {
		return outerRecord{}, fmt.Errorf("outer record type %q, want %q", truncate(rec.Type, 64), outerType)
	}
	return rec, nil
}

// ResourceIDFromKey returns the DbClusterResourceId (or DbiResourceId) in a
// Firehose object name "aws-rds-das-<resourceId>-1-YYYY-…", or "".
func ResourceIDFromKey(objectKey string) string {
	base := path.Base(objectKey)
	rest, ok := strings.CutPrefix(base, "aws-rds-das-")
	if !ok {
		return ""
	}
	var prefix string
	switch {
	case strings.HasPrefix(rest, "cluster-"):
		prefix = "cluster-"
	case strings.HasPrefix(rest, "db-"):
		prefix = "db-"
	default:
		return ""
	}
	id := rest[len(prefix):]
	if i := strings.IndexByte(id, '-'); i >= 0 {
		id = id[:i]
	}
	if id == "" {
		return ""
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return ""
		}
	}
	return prefix + id
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// isFormatErr reports whether err comes from a broken GZIP wrapper of the
// object (data, not I/O): the rest of the object is lost, the run goes on.
func isFormatErr(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &corrupt)
}
