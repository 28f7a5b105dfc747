package pgaudit

import (
	"encoding/csv"
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

func readCSVLog(s *sink, in io.Reader) error {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = false
	var lastLine int
	for {
		if s.stats.Lines&1023 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("read csvlog: %w", err)
			}
			s.stats.Lines = int64(pe.Line)
			if rerr := s.reject(int64(pe.StartLine), model.ReasonParse, "csvlog: "+pe.Err.Error()); rerr != nil {
				return rerr
			}
			continue
		}
		if line > lastLine {
			lastLine = line
		}
		s.stats.Lines = int64(lastLine)
		if len(row) < csvMinColumns {
			if err := s.reject(int64(line), model.ReasonParse, fmt.Sprintf("csvlog row has %d columns, want 23 or more", len(row))); err != nil {
				return err
			}
			continue
		}
		t, ok := parsePGTime([]byte(row[csvLogTime]))
		if !ok {
			if err := s.reject(int64(line), model.ReasonParse, "csvlog log_time "+quote(truncate(row[csvLogTime], 40))+" is not a timestamp"); err != nil {
				return err
			}
			continue
		}
		rec := record{
			line: int64(line), t: t, sev: s.str([]byte(row[csvSeverity])),
			user: s.str([]byte(row[csvUser])), db: s.str([]byte(row[csvDatabase])),
			app: s.str([]byte(row[csvApp])), sid: s.str([]byte(row[csvSession])),
			sqlState: s.str([]byte(row[csvSQLState])),
			// ReuseRecord reuses the slice, not the strings: these are safe to keep.
			msg: row[csvMessage], detail: row[csvDetail], stmt: row[csvQuery],
			hasUser: true, hasDB: true, hasApp: true, hasHost: true,
		}
		if p, ok := parseInt(row[csvPID]); ok && p <= 1<<31-1 {
			rec.pid, rec.hasPID = int32(p), true
		}
		rec.start, _ = parsePGTime([]byte(row[csvSessionStart]))
		rec.host, rec.port, rec.hasPort = splitConnFrom(row[csvConnFrom])
		rec.host = s.str([]byte(rec.host))
		if err := s.handle(&rec); err != nil {
			return err
		}
	}
	// Last line of the input: FieldPos only knows where rows start.
	return nil
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
