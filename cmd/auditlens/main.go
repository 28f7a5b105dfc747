// Command auditlens syncs Database Activity Streams and pgAudit logs of Aurora /
// RDS PostgreSQL into a local DuckDB case file and explores them in a terminal UI.
//
// This package only wires flags and configuration to the tui, ingest and store
// layers; behaviour lives in those packages.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Case files, exports and temp files hold audit data: private to the owner.
	syscall.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
