package main

import (
	"github.com/spf13/cobra"
)

func (a *app) runExplorer(cmd *cobra.Command, _ []string) error {
	return usageError("the explorer is not available in this build; use `auditlens sql` or `auditlens --help`")
}
