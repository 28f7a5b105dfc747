// Package benchstat measures what benchmarks report next to wall time: the
// process's CPU time (comparable on a shared machine) and its peak resident
// memory. It imports only the standard library.
package benchstat

import (
	"os"
	"strconv"
	"strings"
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
