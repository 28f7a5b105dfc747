//go:build !linux || !cgo

package store

// DuckDB allocates through its own jemalloc only on Linux.
func allocatorDecay() (dirty, muzzy int, ok bool) { return 0, 0, false }

func setAllocatorDecay(dirty, muzzy int) bool { return false }

// AllocatorStats reports false: see the Linux version.
func AllocatorStats() (AllocStats, bool) { return AllocStats{}, false }
