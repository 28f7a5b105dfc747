package store

// AllocStats are the totals of DuckDB's own allocator (jemalloc, on Linux)
// in bytes: allocated by DuckDB, in active pages, resident (including freed
// pages not yet returned to the system), and freed pages kept for reuse
// (dirty) or lazily returned (muzzy). Benchmarks read them to tell DuckDB's
// memory from the Go heap's.
type AllocStats struct {
	Allocated, Active, Resident, Dirty, Muzzy uint64
}
