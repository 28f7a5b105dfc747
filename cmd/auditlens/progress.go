package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/auditlens/auditlens/ingest"
)

// progressPrinter draws a one-line progress bar on a terminal, or prints a plain
// line every few seconds when stderr is a file or pipe.
type progressPrinter struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex
	last     time.Time
	drawn    bool
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	return &progressPrinter{w: w, terminal: isTerminal(w)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progressPrinter) update(pr ingest.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		p.drawBar(pr)
		return
	}
	if pr.Done || time.Since(p.last) >= 5*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.w, "sync: %s objects %d/%d, %s/%s, %s (%.0f/s), %d skipped, %d quarantined, %d failed\n",
			pr.Phase, pr.ObjectsDone, pr.ObjectsTotal, humanBytes(pr.Bytes), humanBytes(pr.BytesTotal), eventCount(pr), pr.Rate(),
			pr.ObjectsSkipped, pr.Quarantined, pr.Failed)
	}
}

func (p *progressPrinter) drawBar(pr ingest.Progress) {
	const width = 28
	frac := 0.0
	if pr.BytesTotal > 0 {
		frac = float64(pr.Bytes) / float64(pr.BytesTotal)
	} else if pr.ObjectsTotal > 0 {
		frac = float64(pr.ObjectsDone) / float64(pr.ObjectsTotal)
	}
	if pr.Done {
		frac = 1
	}
	if frac > 1 {
		frac = 1
	}
	filled := int(frac * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	eta := ""
	if d := pr.ETA(); d > 0 && !pr.Done {
		eta = " ETA " + d.Round(time.Second).String()
	}
	line := fmt.Sprintf("\r%s %3.0f%% %d/%d objects  %s  %s  %.0f ev/s%s",
		bar, frac*100, pr.ObjectsDone, pr.ObjectsTotal, humanBytes(pr.Bytes), eventCount(pr), pr.Rate(), eta)
	if pr.Quarantined+pr.Failed > 0 {
		line += fmt.Sprintf("  ⚠ %d quarantined %d failed", pr.Quarantined, pr.Failed)
	}
	fmt.Fprint(p.w, line+"\x1b[K")
	p.drawn = true
	if pr.Done {
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// eventCount says how many events are in the case file and, while a run
// goes on, how many were read: a large object's commit at its end.
func eventCount(pr ingest.Progress) string {
	if pr.Done || pr.Decoded <= pr.Events {
		return fmt.Sprintf("%d events", pr.Events)
	}
	return fmt.Sprintf("%d events read, %d committed", pr.Decoded, pr.Events)
}
