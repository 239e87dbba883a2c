package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPortsCmd is a placeholder owned by the ports work in progress.
func newPortsCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "ports", Short: "(in progress)", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("ports: not built yet")
	}}
}
