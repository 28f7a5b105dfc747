package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest"
)

// While one large object is read, nothing is committed yet: the progress
// line says how many events were read rather than a frozen 0 events (0/s).
func TestProgressLineCountsReadEvents(t *testing.T) {
	var buf bytes.Buffer
	p := &progressPrinter{w: &buf}
	p.update(ingest.Progress{Phase: "syncing", ObjectsTotal: 1, Bytes: 400 << 20, BytesTotal: 1 << 30,
		Decoded: 1_500_000, Elapsed: 5 * time.Second})
	line := buf.String()
	if !strings.Contains(line, "1500000 events read, 0 committed (300000/s)") {
		t.Errorf("running: %q", line)
	}
	buf.Reset()
	p.update(ingest.Progress{Phase: "done", ObjectsTotal: 1, ObjectsDone: 1, Bytes: 1 << 30, BytesTotal: 1 << 30,
		Decoded: 4_000_000, Events: 4_000_000, Elapsed: 10 * time.Second, Done: true})
	if line := buf.String(); !strings.Contains(line, ", 4000000 events (400000/s),") {
		t.Errorf("done: %q", line)
	}
}
