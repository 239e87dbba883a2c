package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCheckCmd is a placeholder owned by the check work in progress.
func newCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "check", Short: "(in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("check: not built yet")
	}}
}
