package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newEventsCmd is a placeholder owned by the events work in progress.
func newEventsCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "events", Short: "(in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("events: not built yet")
	}}
}
