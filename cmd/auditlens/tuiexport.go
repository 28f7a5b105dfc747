package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/store/export"
	"github.com/auditlens/auditlens/tui"
)

// tuiExporter backs the explorer's export form with store/export on the
// explorer's open case file.
func (a *app) tuiExporter(st *store.Store) tui.Exporter { return &explorerExporter{st: st} }

// explorerExporter writes the events of the explorer's current filter.
type explorerExporter struct{ st *store.Store }

var _ tui.Exporter = (*explorerExporter)(nil)

func (e *explorerExporter) Export(ctx context.Context, req tui.ExportRequest, progress func(done, total int64)) (string, error) {
	f := req.Filter
	m, err := export.Export(ctx, e.st, export.Request{
		Filter: &f, FilterText: req.FilterText,
		Format: export.Format(strings.ToLower(req.Format)), Out: req.Path,
		Redact: export.Redaction(req.Redact),
	}, export.Progress(progress))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("exported %d rows to %s (%s, redaction %s); manifest %s",
		m.Rows, req.Path, m.Format, m.Redaction, export.ManifestPath(req.Path)), nil
}
