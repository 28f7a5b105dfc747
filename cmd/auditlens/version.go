package main

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/internal/version"
	"github.com/auditlens/auditlens/store"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit, DuckDB version and schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "auditlens %s\ncommit:  %s\nbuilt:   %s\nduckdb:  %s\nschema:  %d\ngo:      %s %s/%s\n",
				version.Version, version.Commit, version.Date, duckdbVersion(cmd.Context()), store.SchemaVersion(),
				runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

func duckdbVersion(ctx context.Context) string {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		return "unknown"
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return "unknown"
	}
	return v
}
