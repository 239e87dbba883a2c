package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newTraceCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "trace", Short: "(in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("trace: not built yet")
	}}
}
