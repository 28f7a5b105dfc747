//go:build linux && cgo

package store

/*
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

// DuckDB's Linux builds allocate through a jemalloc of their own, whose
// control function the library exports under this name. The reference is
// weak: a DuckDB linked without it leaves it null, and nothing is tuned.
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) __attribute__((weak));

static int auditlens_read_decay(ssize_t *dirty, ssize_t *muzzy) {
	if (duckdb_je_mallctl == NULL) return -1;
	size_t len = sizeof(ssize_t);
	if (duckdb_je_mallctl("arenas.dirty_decay_ms", dirty, &len, NULL, 0) != 0) return -1;
	len = sizeof(ssize_t);
	if (duckdb_je_mallctl("arenas.muzzy_decay_ms", muzzy, &len, NULL, 0) != 0) return -1;
	return 0;
}

// Sets the decay of every arena there is and of those created later. An
// arena index not in use yet refuses the setting; the default covers it.
static int auditlens_set_decay(ssize_t dirty, ssize_t muzzy) {
	if (duckdb_je_mallctl == NULL) return -1;
	unsigned n = 0;
	size_t len = sizeof n;
	if (duckdb_je_mallctl("arenas.narenas", &n, &len, NULL, 0) != 0) return -1;
	if (duckdb_je_mallctl("arenas.dirty_decay_ms", NULL, NULL, &dirty, sizeof dirty) != 0) return -1;
	if (duckdb_je_mallctl("arenas.muzzy_decay_ms", NULL, NULL, &muzzy, sizeof muzzy) != 0) return -1;
	char name[64];
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof name, "arena.%u.dirty_decay_ms", i);
		duckdb_je_mallctl(name, NULL, NULL, &dirty, sizeof dirty);
		snprintf(name, sizeof name, "arena.%u.muzzy_decay_ms", i);
		duckdb_je_mallctl(name, NULL, NULL, &muzzy, sizeof muzzy);
	}
	return 0;
}

static int auditlens_read_size(const char *name, size_t *out) {
	size_t len = sizeof(size_t);
	return duckdb_je_mallctl(name, out, &len, NULL, 0);
}

// Refreshes the statistics jemalloc reports.
static int auditlens_refresh_stats(void) {
	if (duckdb_je_mallctl == NULL) return -1;
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);
	return duckdb_je_mallctl("epoch", &epoch, &len, &epoch, len);
}
*/
import "C"

import "unsafe"

// allocatorDecay reports how long DuckDB's allocator keeps freed pages
// resident before it returns them to the system (dirty), and how long it
// then leaves them lazily freed (muzzy), in ms; ok is false where DuckDB
// does not allocate through its own jemalloc.
func allocatorDecay() (dirty, muzzy int, ok bool) {
	var d, m C.ssize_t
	if C.auditlens_read_decay(&d, &m) != 0 {
		return 0, 0, false
	}
	return int(d), int(m), true
}

// setAllocatorDecay sets both decays (see allocatorDecay) for every arena of
// DuckDB's allocator; it reports false where there is none.
func setAllocatorDecay(dirty, muzzy int) bool {
	return C.auditlens_set_decay(C.ssize_t(dirty), C.ssize_t(muzzy)) == 0
}

// AllocatorStats reads the totals of DuckDB's allocator; ok is false where
// DuckDB does not allocate through its own jemalloc.
func AllocatorStats() (s AllocStats, ok bool) {
	if C.auditlens_refresh_stats() != 0 {
		return s, false
	}
	get := func(name string) uint64 {
		cs := C.CString(name)
		defer C.free(unsafe.Pointer(cs))
		var v C.size_t
		if C.auditlens_read_size(cs, &v) != 0 {
			return 0
		}
		return uint64(v)
	}
	s.Allocated = get("stats.allocated")
	s.Active = get("stats.active")
	s.Resident = get("stats.resident")
	// Pages freed but kept for reuse, over all arenas (4096 = MALLCTL_ARENAS_ALL).
	s.Dirty = get("stats.arenas.4096.pdirty") * 4096
	s.Muzzy = get("stats.arenas.4096.pmuzzy") * 4096
	return s, true
}
