package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exposure-audit/exposure/collect"
)

// snapshotOpts are the flags of `exposure snapshot`.
type snapshotOpts struct {
	out  string
	proc string
}

func newSnapshotCmd(a *app) *cobra.Command {
	o := &snapshotOpts{}
	cmd := &cobra.Command{
		Use:   "snapshot -o FILE",
		Short: "Collect this node's rules, addresses, routes, sockets and processes into one portable bundle (read-only)",
		Long: `snapshot reads everything exposure audit reads, read-only, and writes it as one versioned
JSON document (gzip'd when FILE ends in .gz) with where each input came from; analyse it
anywhere with exposure audit --snapshot FILE (or exposure ports --snapshot FILE).
The format is documented in docs/exposure.md.`,
		Example: `  sudo exposure snapshot -o node1.bundle.gz && exposure ports --snapshot node1.bundle.gz`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshot(cmd, a, o)
		},
	}
	cmd.Flags().StringVarP(&o.out, "output", "o", "", "bundle file to write (- for stdout)")
	cmd.Flags().StringVar(&o.proc, "proc", "/proc", "proc filesystem to read")
	return cmd
}

func runSnapshot(cmd *cobra.Command, a *app, o *snapshotOpts) error {
	if o.out == "" {
		return usageError(fmt.Errorf("-o FILE is required"))
	}
	b := liveCollector(o.proc).Snapshot(cmd.Context())
	b.NodeFiles = captureNodeFiles(cmd.Context(), o.proc)
	for _, n := range b.Notes {
		a.log.Warn("snapshot", "note", n)
	}
	var w io.Writer = a.stdout
	if o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
		defer f.Close()
		w = f
	}
	return collect.WriteBundle(w, b, strings.HasSuffix(o.out, ".gz"))
}
