//go:build unix

package store

import (
	"syscall"
	"time"
)

// benchCPUTime is the process's user+system CPU time: the machine is shared,
// so CPU time compares runs better than wall time.
func benchCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
