package pgaudit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/auditlens/auditlens/store/model"
)

// csvlog columns (PostgreSQL 13: 23 columns, 14+: 26 with backend_type,
// leader_pid and query_id).
const (
	csvLogTime = iota
	csvUser
	csvDatabase
	csvPID
	csvConnFrom
	csvSession
	csvLineNum
	csvTag
	csvSessionStart
	csvVXID
	csvXID
	csvSeverity
	csvSQLState
	csvMessage
	csvDetail
	csvHint
	csvInternalQuery
	csvInternalQueryPos
	csvContext
	csvQuery
	csvQueryPos
	csvLocation
	csvApp
	csvMinColumns // 23
)

// readCSVLog reads csvlog rows. It does not use encoding/csv: that reader
// drops a '\r' before '\n' inside quoted fields, and pgAudit parameters can
// hold "\r\n" that must survive byte for byte.
func readCSVLog(s *sink, in io.Reader) error {
	lr := newLineReader(in)
	var buf []byte
	var row []string
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		s.stats.Lines++
		if lr.n&4095 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		first := lr.n
		buf = append(buf[:0], line...)
		tooLong := lr.tooLong
		// A quoted field may hold newlines: the row is complete when its
		// quotes balance.
		for bytes.Count(buf, []byte{'"'})%2 == 1 && !lr.partial && !tooLong {
			line, err = lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			s.stats.Lines++
			if len(buf)+len(line) > maxLine || lr.tooLong {
				tooLong = true
				break
			}
			buf = append(buf, '\n')
			buf = append(buf, line...)
		}
		if len(buf) == 0 || (len(buf) == 1 && buf[0] == '\r') {
			continue
		}
		switch {
		case tooLong:
			err = fmt.Errorf("row longer than %d bytes", maxLine)
		case bytes.Count(buf, []byte{'"'})%2 == 1:
			err = errors.New("row ends inside a quoted field (truncated file?)")
		default:
			row, err = splitRow(string(buf), row[:0])
		}
		if err != nil {
			if rerr := s.reject(first, model.ReasonParse, "csvlog: "+err.Error()); rerr != nil {
				return rerr
			}
			continue
		}
		if err := s.handle(csvRecord(s, row, first)); err != nil {
			return err
		}
	}
}

// splitRow splits one CSV row into dst. Fields are substrings of row.
func splitRow(row string, dst []string) ([]string, error) {
	i := 0
	for {
		v, next, err := nextField(row, i)
		if err != nil {
			return dst, fmt.Errorf("field %d: %w", len(dst)+1, err)
		}
		dst = append(dst, v)
		if next >= len(row) {
			return dst, nil
		}
		i = next + 1
		if i == len(row) {
			return append(dst, ""), nil
		}
	}
}

// csvRecord maps a csvlog row to a record, or to a reject.
func csvRecord(s *sink, row []string, line int64) *record {
	rec := &record{line: line}
	if len(row) < csvMinColumns {
		rec.bad = fmt.Sprintf("csvlog row has %d columns, want 23 or more", len(row))
		return rec
	}
	t, ok := parsePGTime([]byte(row[csvLogTime]))
	if !ok {
		rec.bad = "csvlog log_time " + quote(truncate(row[csvLogTime], 40)) + " is not a timestamp"
		return rec
	}
	*rec = record{
		line: line, t: t, sev: s.str([]byte(row[csvSeverity])),
		user: s.str([]byte(row[csvUser])), db: s.str([]byte(row[csvDatabase])),
		app: s.str([]byte(row[csvApp])), sid: s.str([]byte(row[csvSession])),
		sqlState: s.str([]byte(row[csvSQLState])),
		msg:      row[csvMessage], detail: row[csvDetail], stmt: row[csvQuery],
		hasUser: true, hasDB: true, hasApp: true, hasHost: true,
	}
	if p, ok := parseInt(row[csvPID]); ok && p <= 1<<31-1 {
		rec.pid, rec.hasPID = int32(p), true
	}
	rec.start, _ = parsePGTime([]byte(row[csvSessionStart]))
	rec.host, rec.port, rec.hasPort = splitConnFrom(row[csvConnFrom])
	rec.host = s.str([]byte(rec.host))
	return rec
}

// splitConnFrom splits csvlog's connection_from "host:port" at the last ':'
// (IPv6 hosts have colons of their own); "[local]" has no port.
func splitConnFrom(v string) (host string, port int32, hasPort bool) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 || v == "[local]" {
		return v, 0, false
	}
	p, ok := parsePort(v[i+1:])
	if !ok {
		return v, 0, false
	}
	return v[:i], p, true
}
