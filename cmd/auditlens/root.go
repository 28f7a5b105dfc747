package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/store"
)

// app holds what every command shares: global flags and the I/O streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	dbPath     string
	configPath string
	readOnly   bool
	debugLog   string
	encrypt    bool
	keyEnv     string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return report(stderr, err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "auditlens",
		Short: "Explore Database Activity Streams and pgAudit logs of Aurora / RDS PostgreSQL",
		Long: `auditlens syncs Database Activity Streams (DAS) and pgAudit logs from S3 or local
folders into one local DuckDB case file, and explores them in a terminal UI: filter by
cluster, database, user, class, command, time and text, drill into sessions, and see what
each capture path lost.

Run without a command to open the explorer on the case file.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLogging()
		},
		RunE: a.runExplorer,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbPath, "db", "", "case file (DuckDB); default: db: from the config")
	pf.StringVar(&a.configPath, "config", "", "config file (default ~/.config/auditlens/config.yaml)")
	pf.BoolVar(&a.readOnly, "read-only", false, "open the case file read-only (forensic review)")
	pf.StringVar(&a.debugLog, "debug", "", "write a debug log to this file")
	pf.BoolVar(&a.encrypt, "encrypt", false, "create the case file encrypted (AES-GCM; passphrase asked, or from --key-env)")
	pf.StringVar(&a.keyEnv, "key-env", "", "environment variable holding the case file passphrase")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })
	root.AddCommand(
		a.versionCommand(),
		a.sqlCommand(),
	)
	a.addCommands(root)
	return root
}

func (a *app) setupLogging() error {
	if a.debugLog == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
		return nil
	}
	f, err := os.OpenFile(a.debugLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return usageError("debug log %s: %v", a.debugLog, err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return nil
}

// openStore opens the case file named by --db or the config.
func (a *app) openStore(ctx context.Context, readOnly bool) (*store.Store, error) {
	path, err := a.casePath()
	if err != nil {
		return nil, err
	}
	opts := store.Options{ReadOnly: readOnly || a.readOnly}
	_, statErr := os.Stat(path)
	if a.encrypt && statErr != nil {
		key, err := a.casePassphrase(true)
		if err != nil {
			return nil, err
		}
		opts.EncryptionKey = key
		return store.Open(ctx, path, opts)
	}
	st, err := store.Open(ctx, path, opts)
	if errors.Is(err, store.ErrEncrypted) && statErr == nil && opts.EncryptionKey == "" {
		// An encrypted case file: ask for its key and try again.
		key, kerr := a.casePassphrase(false)
		if kerr != nil {
			return nil, kerr
		}
		opts.EncryptionKey = key
		return store.Open(ctx, path, opts)
	}
	return st, err
}
