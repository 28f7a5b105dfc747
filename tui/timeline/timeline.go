// Package timeline owns the time histogram: a one-line sparkline of events per
// time bucket under the current filter, and the zoom arithmetic that narrows or
// widens the filter's time range around a moment.
//
// timeline imports store (types and the Histogrammer contract it defines) and
// common; it must not import other tui components, ingest or AWS.
package timeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Histogrammer is what the sparkline needs. *store.Store satisfies it.
type Histogrammer interface {
	TimeRange(ctx context.Context, f store.Filter) (first, last time.Time, err error)
	Histogram(ctx context.Context, f store.Filter, width time.Duration) ([]store.Bucket, error)
}

type loadedMsg struct {
	gen         int
	from, to    time.Time
	bucketWidth time.Duration
	counts      []int64
	err         error
}

// Model is the histogram line.
type Model struct {
	data     Histogrammer
	ctx      context.Context
	gen      int
	from, to time.Time
	bw       time.Duration
	counts   []int64
	err      error
	width    int
}

// New returns an empty histogram.
func New(ctx context.Context, data Histogrammer) Model { return Model{data: data, ctx: ctx} }

// SetWidth sets the line's cells.
func (m *Model) SetWidth(w int) { m.width = w }

// bars is how many buckets fit next to the labels.
func (m Model) bars() int {
	return max(m.width-2*len("2006-01-02 15:04")-len(" 10m/bar +/- zoom")-4, 8)
}

// Range is the span the histogram covers (the filter's bounds, or the data's).
func (m Model) Range() (from, to time.Time) { return m.from, m.to }

// Load computes the histogram of f in the background: the range is the
// filter's own bounds where set, the data's first and last event otherwise.
func (m *Model) Load(f store.Filter) tea.Cmd {
	m.gen++
	gen, ctx, data, bars := m.gen, m.ctx, m.data, m.bars()
	return func() tea.Msg {
		first, last, err := data.TimeRange(ctx, f)
		if err != nil {
			return loadedMsg{gen: gen, err: err}
		}
		from, to := f.Since, f.Until
		if from.IsZero() {
			from = first
		}
		if to.IsZero() {
			to = last.Add(time.Second)
		}
		if first.IsZero() || !to.After(from) {
			return loadedMsg{gen: gen, from: from, to: to}
		}
		bw := (to.Sub(from) + time.Duration(bars) - 1) / time.Duration(bars)
		bw = max(bw.Round(time.Second), time.Second)
		// Buckets are aligned to multiples of their width; start on one.
		from = from.Truncate(bw)
		buckets, err := data.Histogram(ctx, f, bw)
		if err != nil {
			return loadedMsg{gen: gen, err: err}
		}
		counts := make([]int64, min(int(to.Sub(from)/bw)+1, bars))
		for _, b := range buckets {
			// Aligning the start may add one bucket at the end: fold it into the last bar.
			i := min(int(b.Start.Sub(from)/bw), len(counts)-1)
			if i >= 0 {
				counts[i] += b.Count
			}
		}
		return loadedMsg{gen: gen, from: from, to: to, bucketWidth: bw, counts: counts}
	}
}

// Update takes loaded histograms of the current generation.
func (m Model) Update(msg tea.Msg) Model {
	if msg, ok := msg.(loadedMsg); ok && msg.gen == m.gen {
		m.err, m.from, m.to, m.bw, m.counts = msg.err, msg.from, msg.to, msg.bucketWidth, msg.counts
	}
	return m
}

const levels = "▁▂▃▄▅▆▇█"

// View draws the line in width cells.
func (m Model) View(c common.Context) string {
	t := c.Theme
	if m.err != nil {
		return common.Fit(t.Error.Render("histogram: "+sanitize.LineOf(m.err.Error())), m.width)
	}
	if len(m.counts) == 0 {
		return common.Fit(t.Dim.Render("histogram: no events"), m.width)
	}
	var peak int64
	for _, n := range m.counts {
		peak = max(peak, n)
	}
	ramp := []rune(levels)
	var b strings.Builder
	for _, n := range m.counts {
		switch {
		case n == 0:
			b.WriteRune(' ')
		default:
			b.WriteRune(ramp[int((n*int64(len(ramp)-1)+peak-1)/peak)])
		}
	}
	layout := "2006-01-02 15:04"
	left := m.from.In(c.Location()).Format(layout)
	right := m.to.In(c.Location()).Format(layout)
	info := fmt.Sprintf(" %s/bar +/- zoom", shortDuration(m.bw))
	return common.Fit(t.Dim.Render(left+" ")+t.Spark.Render(b.String())+t.Dim.Render(" "+right+info), m.width)
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// ZoomIn halves the range around at (the selected event), clamped to the range.
func ZoomIn(from, to, at time.Time) (time.Time, time.Time) {
	span := to.Sub(from) / 2
	if span < 2*time.Second {
		return from, to
	}
	if at.IsZero() || at.Before(from) || !at.Before(to) {
		at = from.Add(to.Sub(from) / 2)
	}
	nf := at.Add(-span / 2)
	if nf.Before(from) {
		nf = from
	}
	nt := nf.Add(span)
	if nt.After(to) {
		nt = to
		nf = to.Add(-span)
	}
	return nf.Truncate(time.Second), nt.Add(time.Second - 1).Truncate(time.Second)
}

// ZoomOut doubles the range around its middle.
func ZoomOut(from, to time.Time) (time.Time, time.Time) {
	span := to.Sub(from)
	return from.Add(-span / 2).Truncate(time.Second), to.Add(span / 2).Truncate(time.Second)
}
