package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/exposure-audit/exposure/checks/audit"
	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/checks/hygiene"
	"github.com/exposure-audit/exposure/checks/kubelet"
	"github.com/exposure-audit/exposure/collect"
)

// captureNodeFiles runs the node checks once on this host with a recording
// filesystem, so the snapshot bundle keeps every file they read (kubelet
// config, drop-ins, units, distribution files) and the kubelet's live
// invocation.
func captureNodeFiles(ctx context.Context, proc string) *hostfs.Capture {
	rec := hostfs.NewRecorder()
	fsys := hostfs.FS{Root: "/", Rec: rec}
	procs := kubelet.ProcFS{FS: hostfs.New("/"), Dir: proc}
	inv, err := kubelet.Discoverer{FS: fsys, Procs: procs}.Discover()
	if _, rerr := audit.Run(ctx, audit.Options{FS: fsys, Procs: procs}); rerr != nil {
		return nil
	}
	c := rec.Capture()
	if err == nil && strings.HasPrefix(inv.Source, "/proc/") {
		c.Kubelet = &hostfs.Kubelet{Argv: inv.Argv, Cwd: inv.Cwd, Source: inv.Source}
	}
	return c
}

// snapshotAudit sets up `exposure check --snapshot FILE`: the bundle's
// node files materialized in a temporary root, its kubelet invocation, and
// its rulesets. The returned cleanup removes the temporary root.
func snapshotAudit(path string, o *checkOptions) (audit.Options, func(), error) {
	none := func() {}
	data, err := os.ReadFile(path)
	if err != nil {
		return audit.Options{}, none, fmt.Errorf("read snapshot: %w", err)
	}
	b, err := collect.ReadBundle(data)
	if err != nil {
		return audit.Options{}, none, err
	}
	if b.NodeFiles == nil {
		return audit.Options{}, none, fmt.Errorf("snapshot %s holds no node_files section (made by an older exposure snapshot)", path)
	}
	dir, err := os.MkdirTemp("", "exposure-check-")
	if err != nil {
		return audit.Options{}, none, fmt.Errorf("replay snapshot: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	if err := b.NodeFiles.Materialize(dir); err != nil {
		cleanup()
		return audit.Options{}, none, err
	}
	opts := audit.Options{FS: hostfs.New(dir), Cmdline: o.cmdline, Cwd: o.cwd, Version: o.version, Node: o.node}
	if k := b.NodeFiles.Kubelet; k != nil && o.cmdline == "" {
		opts.Cmdline, opts.CmdlineSource = kubelet.JoinWords(k.Argv), "snapshot "+k.Source
		if o.cwd == "" {
			opts.Cwd = k.Cwd
		}
	}
	if len(b.Rulesets) > 0 {
		rs, err := b.Rules(newLoader())
		if err != nil {
			cleanup()
			return audit.Options{}, none, err
		}
		opts.Rules = append(opts.Rules, hygiene.FromRuleset(rs))
	}
	return opts, cleanup, nil
}
