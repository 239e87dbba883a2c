package main

import "github.com/spf13/cobra"

// newPortsCmd is `exposure ports`, an alias of audit (most often used with
// --snapshot).
func newPortsCmd(a *app) *cobra.Command {
	return newExposureCmd(a, "ports", "Alias of audit: the exposure map of a snapshot bundle, rule files or this node")
}
