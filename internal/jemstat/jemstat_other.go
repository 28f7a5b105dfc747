//go:build !linux || !cgo

package jemstat

// Read reports false: DuckDB allocates through its own jemalloc only on Linux.
func Read() (Stats, bool) { return Stats{}, false }
