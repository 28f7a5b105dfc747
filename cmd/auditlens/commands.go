package main

import "github.com/spf13/cobra"

// addCommands registers the commands beyond version and sql.
func (a *app) addCommands(root *cobra.Command) {
	root.AddCommand(
		a.syncCommand(),
		a.ingestCommand(),
		a.gapsCommand(),
		a.findingsCommand(),
		a.exportCommand(),
		a.verifyExportCommand(),
		a.verifyCommand(),
		a.demoCommand(),
	)
}
