package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newAuditCmd is a placeholder owned by the audit work in progress.
func newAuditCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "audit", Short: "(in progress)", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("audit: not built yet")
	}}
}
