package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

func TestQueryNamedReadOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	writeObject(t, s, "/logs/a", []model.Event{ev(1, "alice", "READ", "SELECT", "SELECT 1"), ev(2, "bob", "DDL", "DROP TABLE", "DROP TABLE t")})
	count := func(q string, params map[string]any) (int64, error) {
		var n int64
		err := s.QueryNamedReadOnly(ctx, q, params, func(_ []ResultColumn, row []any) error {
			if row != nil {
				n = row[0].(int64)
			}
			return nil
		})
		return n, err
	}
	n, err := count(`SELECT count(*) FROM audit_events WHERE user_name = $user AND log_time >= $since`,
		map[string]any{"user": "bob", "since": t0, "unused": 1})
	if err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
	// A value is data, never SQL.
	if n, err := count(`SELECT count(*) FROM audit_events WHERE user_name = $user`, map[string]any{"user": "x' OR '1'='1"}); err != nil || n != 0 {
		t.Errorf("injection attempt counted %d, %v", n, err)
	}
	if _, err := count(`SELECT count(*) FROM audit_events WHERE user_name = $usr`, map[string]any{"user": "bob"}); !errors.Is(err, ErrUnknownParameter) {
		t.Errorf("unknown parameter: %v", err)
	}
	if _, err := count(`SELECT count(*) FROM audit_events WHERE user_name = ?`, map[string]any{"user": "bob"}); !errors.Is(err, ErrUnknownParameter) {
		t.Errorf("positional parameter: %v", err)
	}
	// Nothing writes, on a case file open read-write.
	for _, q := range []string{
		`DELETE FROM events`,
		`SELECT 1; DELETE FROM events`,
		`SELECT nextval('note_ids')`,
		`CREATE TEMP TABLE x AS SELECT 1`,
		`COMMIT`,
	} {
		if _, err := count(q, nil); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
	if n, err := count(`SELECT count(*) FROM events`, nil); err != nil || n != 2 {
		t.Errorf("events after the attempts: %d, %v", n, err)
	}
	// The connection is usable afterwards (the transaction was rolled back).
	if _, err := s.AddNote(ctx, 0, "note", "still writable", ""); err != nil {
		t.Errorf("write after a guarded query: %v", err)
	}
	// Durations bind as intervals.
	var got any
	err = s.QueryNamedReadOnly(ctx, `SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + $d`, map[string]any{"d": IntervalParam(90 * time.Second)},
		func(_ []ResultColumn, row []any) error {
			if row != nil {
				got = row[0]
			}
			return nil
		})
	if want := time.Date(2026, 1, 1, 0, 1, 30, 0, time.UTC); err != nil || !got.(time.Time).Equal(want) {
		t.Errorf("interval: %v, %v", got, err)
	}
}
