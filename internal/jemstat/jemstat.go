//go:build linux && cgo

package jemstat

/*
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) __attribute__((weak));

static int read_size(const char *name, size_t *out) {
	size_t len = sizeof(size_t);
	return duckdb_je_mallctl(name, out, &len, NULL, 0);
}

static int refresh(void) {
	if (duckdb_je_mallctl == NULL) return -1;
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);
	return duckdb_je_mallctl("epoch", &epoch, &len, &epoch, len);
}
*/
import "C"

import "unsafe"

// Read refreshes jemalloc's statistics and returns them; ok is false when the
// allocator does not answer (a DuckDB built without jemalloc).
func Read() (s Stats, ok bool) {
	if C.refresh() != 0 {
		return s, false
	}
	get := func(name string) uint64 {
		cs := C.CString(name)
		defer C.free(unsafe.Pointer(cs))
		var v C.size_t
		if C.read_size(cs, &v) != 0 {
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
