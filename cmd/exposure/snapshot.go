package main

import (
	"context"
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
	k8s  k8sOpts
}

func newSnapshotCmd(a *app) *cobra.Command {
	o := &snapshotOpts{}
	cmd := &cobra.Command{
		Use:   "snapshot -o FILE",
		Short: "Collect this node's rules, addresses, routes, sockets and processes into one portable bundle (read-only)",
		Long: `snapshot reads everything exposure audit reads, read-only, and writes it as one versioned
JSON document (gzip'd when FILE ends in .gz) with where each input came from; analyse it
anywhere with exposure audit --snapshot FILE (or exposure ports --snapshot FILE).
When it can reach the API server (--kubeconfig, $KUBECONFIG, ~/.kube/config or the in-cluster
service account) it also records the cluster's Nodes, Pods, Services and EndpointSlices
(k8s_objects), which audit --snapshot then joins; --k8s-objects records files instead.
The format is documented in docs/exposure.md.`,
		Example: `  sudo exposure snapshot -o node1.bundle.gz && exposure ports --snapshot node1.bundle.gz`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshot(cmd, a, o)
		},
	}
	cmd.Flags().StringVarP(&o.out, "output", "o", "", "bundle file to write (- for stdout)")
	cmd.Flags().StringVar(&o.proc, "proc", "/proc", "proc filesystem to read")
	o.k8s.register(cmd.Flags(), "")
	return cmd
}

func runSnapshot(cmd *cobra.Command, a *app, o *snapshotOpts) error {
	if o.out == "" {
		return usageError(fmt.Errorf("-o FILE is required"))
	}
	if err := o.k8s.check(); err != nil {
		return usageError(err)
	}
	b := liveCollector(o.proc).Snapshot(cmd.Context())
	b.NodeFiles = captureNodeFiles(cmd.Context(), o.proc)
	if err := o.recordObjects(cmd.Context(), b); err != nil {
		return err
	}
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

// recordObjects adds the cluster's objects to the bundle, with where they
// came from; an unreachable API is a note unless it was named.
func (o *snapshotOpts) recordObjects(ctx context.Context, b *collect.Bundle) error {
	objs, err := o.k8s.inventory(ctx, nil, true)
	if err != nil {
		return err
	}
	if objs.inv == nil {
		b.Notes = append(b.Notes, objs.note)
		return nil
	}
	b.K8sObjects = objs.inv
	if b.Provenance == nil {
		b.Provenance = map[string]string{}
	}
	b.Provenance["k8s_objects"] = objs.from
	return nil
}
