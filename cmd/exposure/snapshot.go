package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSnapshotCmd is a placeholder owned by the snapshot work in progress.
func newSnapshotCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "snapshot", Short: "(in progress)", Hidden: true, RunE: func(*cobra.Command, []string) error {
		return errors.New("snapshot: not built yet")
	}}
}
