package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDiffCmd is a placeholder owned by the diff work in progress.
func newDiffCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "diff", Short: "(in progress)", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("diff: not built yet")
	}}
}
