package events

import (
	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

type column struct {
	title string
	width int
	drop  int // columns with a higher drop rank go first when the table is narrow; 0 never
	value func(common.Context, store.Row) string
}

// previewBytes bounds how much of a statement a cell sanitizes per frame: a
// megabyte statement must not cost a megabyte of work on every redraw.
const previewBytes = 1024

func cell(s string) string { return sanitize.Preview(s, previewBytes) }

func allColumns() []column {
	return []column{
		{"time", len(common.TimeLayout), 0, func(c common.Context, r store.Row) string { return c.FormatTime(r.LogTime) }},
		{"cluster", 11, 5, func(_ common.Context, r store.Row) string { return cell(r.Cluster) }},
		{"source", 7, 4, func(_ common.Context, r store.Row) string { return r.Source }},
		{"database", 9, 3, func(_ common.Context, r store.Row) string { return cell(r.DatabaseName) }},
		{"user", 10, 0, func(_ common.Context, r store.Row) string { return cell(r.UserName) }},
		{"class", 7, 2, func(_ common.Context, r store.Row) string { return cell(r.Class) }},
		{"command", 11, 0, func(_ common.Context, r store.Row) string { return cell(r.Command) }},
		{"object", 13, 1, func(_ common.Context, r store.Row) string { return cell(r.ObjectName) }},
		{"statement", 0, 0, func(_ common.Context, r store.Row) string { return cell(r.Statement) }},
	}
}

// minStatement is the narrowest statement preview worth showing before
// dropping other columns.
const minStatement = 24

// layout picks the columns that fit width; the statement takes what is left.
func layout(width int) []column {
	cols := allColumns()
	used := func() int {
		n := 0
		for _, c := range cols {
			n += c.width + 1
		}
		return n
	}
	for width-used() < minStatement {
		worst := -1
		for i, c := range cols {
			if c.drop > 0 && (worst < 0 || c.drop > cols[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		cols = append(cols[:worst], cols[worst+1:]...)
	}
	cols[len(cols)-1].width = max(width-used(), 1)
	return cols
}
