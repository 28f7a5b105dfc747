// Package benchstat measures what benchmarks report next to wall time: the
// process's CPU time (comparable on a shared machine) and its peak resident
// memory. It imports only the standard library.
package benchstat

import (
	"database/sql"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
)

// PeakRSSMB is the process's peak resident set size in MiB (VmHWM), or 0 where
// /proc is not available.
func PeakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// ResetPeakRSS starts a new peak for PeakRSSMB (Linux: clear_refs 5), so that
// a phase of a benchmark can be measured alone. It reports whether it could.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// EnvSQL runs the statement in AUDITLENS_BENCH_SQL (a SET, say) on db, so a
// benchmark can be tried under another DuckDB setting without a rebuild.
func EnvSQL(tb testing.TB, db *sql.DB) {
	tb.Helper()
	if q := os.Getenv("AUDITLENS_BENCH_SQL"); q != "" {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
}

// EnvCPUProfile starts a CPU profile into the file AUDITLENS_BENCH_CPUPROFILE
// names, so that a benchmark can profile the phase it times alone; the
// returned function stops it (a no-op when the variable is unset).
func EnvCPUProfile(tb testing.TB) (stop func()) {
	tb.Helper()
	p := os.Getenv("AUDITLENS_BENCH_CPUPROFILE")
	if p == "" {
		return func() {}
	}
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		tb.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

// EnvHeapProfile writes a heap profile of what is live now into the file
// AUDITLENS_BENCH_HEAPPROFILE names (a no-op when it is unset), replacing an
// earlier one: called at the Go heap's peak, it shows what held it.
func EnvHeapProfile(tb testing.TB) {
	tb.Helper()
	p := os.Getenv("AUDITLENS_BENCH_HEAPPROFILE")
	if p == "" {
		return
	}
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}

// RSSSplit is the process's resident memory now, in MiB, by kind: anonymous
// memory (the Go heap, C allocators such as DuckDB's, thread stacks) and
// file-backed pages (the binary's text, mapped files). The Go heap's share of
// the first is runtime.MemStats Sys − HeapReleased, about.
type RSSSplit struct {
	Anon, File float64
}

// ResidentSplit reads /proc/self/smaps and sums each mapping's Rss by kind.
// It returns the zero value where /proc is not available.
func ResidentSplit() RSSSplit {
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return RSSSplit{}
	}
	var s RSSSplit
	var kind *float64
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if _, _, ok := strings.Cut(f[0], "-"); ok && len(f) >= 5 && !strings.HasSuffix(f[0], ":") {
			if len(f) >= 6 && strings.HasPrefix(f[5], "/") {
				kind = &s.File
			} else {
				kind = &s.Anon
			}
			continue
		}
		if f[0] == "Rss:" && kind != nil && len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			*kind += kb / 1024
		}
	}
	return s
}
