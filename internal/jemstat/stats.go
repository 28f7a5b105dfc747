// Package jemstat reads the statistics of the jemalloc allocator that the
// DuckDB library linked into the binary uses on Linux, so that a benchmark
// can tell DuckDB's own memory (used, and freed but still resident) from the
// Go heap's. Only benchmarks import it: it refers to DuckDB's symbols.
package jemstat

// Stats are jemalloc's totals in bytes: allocated by the program, in active
// pages, resident (including freed pages not yet returned to the system),
// and freed pages kept for reuse (dirty) or lazily returned (muzzy).
type Stats struct {
	Allocated, Active, Resident, Dirty, Muzzy uint64
}
