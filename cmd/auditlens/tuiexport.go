package main

import (
	"github.com/auditlens/auditlens/store"
	"github.com/auditlens/auditlens/tui"
)

// tuiExporter backs the explorer's export key; nil until export is available.
func (a *app) tuiExporter(_ *store.Store) tui.Exporter { return nil }
