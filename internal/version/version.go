// Package version carries the build's version and commit, set with -ldflags -X
// by the Makefile and goreleaser.
package version

// These are set at link time; they are not changed at run time.
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)
