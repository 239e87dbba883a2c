// Package audit runs every node check of `exposure check` and assembles the
// report: it finds the kubelet (configz, then the process, distribution
// files and systemd units), decides its settings, runs the CIS kubelet
// controls for the matching benchmark, and the hygiene checks on units,
// files and, when given, rulesets.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/apiserver"
	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/checks/hygiene"
	"github.com/exposure-audit/exposure/checks/kubelet"
)

// API is the part of the Kubernetes API the checks use; apiserver.Client
// implements it, tests use httptest servers or fakes.
type API interface {
	GetNode(ctx context.Context, name string) (apiserver.Node, error)
	Configz(ctx context.Context, node string, n apiserver.Node) ([]byte, string, error)
}

var _ API = (*apiserver.Client)(nil)

// Options are the inputs of a node audit.
type Options struct {
	// FS is the host filesystem (--root).
	FS hostfs.FS
	// Procs lists the host's processes; nil when they cannot be read.
	Procs kubelet.Processes
	// Cmdline and Cwd stand in for the live kubelet process
	// (--kubelet-cmdline, --kubelet-cwd); CmdlineSource names their origin
	// in the report (a snapshot bundle's captured process).
	Cmdline, Cwd, CmdlineSource string
	// Version is the kubelet version (--kubelet-version); "" asks the API.
	Version string
	// Node is the node name (--node); "" means the kubelet's
	// --hostname-override or the host's /etc/hostname.
	Node string
	// API, when set, is asked for the node and its configz.
	API API
	// Rules are the rulesets to check (--rules); nil skips those checks.
	Rules []hygiene.Snapshot
}

// Run audits the node. It returns an error only for bad options; anything
// it cannot decide on the node becomes an ERROR result.
func Run(ctx context.Context, o Options) (checks.Report, error) {
	v, err := kubelet.ParseVersion(o.Version)
	if err != nil {
		return checks.Report{}, err
	}
	k := o.kubeletState(ctx, v)
	rep := checks.Report{Node: k.node, Platform: string(k.target.Platform), KubeletVersion: k.target.Version.Raw,
		Benchmark: k.target.Benchmark.Name}
	rep.Results = append(rep.Results, k.source)
	rep.Results = append(rep.Results, kubelet.Evaluate(k.target)...)
	rep.Results = append(rep.Results, o.hygiene(k)...)
	rep.Sort()
	return rep, nil
}

// kubeletState is what the audit learnt about the kubelet.
type kubeletState struct {
	inv    kubelet.Invocation
	node   string
	target kubelet.Target
	source checks.Result
}

// kubeletState discovers the kubelet, then prefers the live configz view.
func (o Options) kubeletState(ctx context.Context, v kubelet.Version) kubeletState {
	d := kubelet.Discoverer{FS: o.FS, Procs: o.Procs, Cmdline: o.Cmdline, Cwd: o.Cwd, CmdlineSource: o.CmdlineSource}
	inv, err := d.Discover()
	var cfg kubelet.Config
	if err == nil {
		cfg, err = kubelet.Load(o.FS, inv)
	}
	st := kubeletState{inv: inv, node: o.nodeName(cfg)}
	t := kubelet.Target{Config: cfg, Err: err, FS: o.FS, Version: v}
	configzNote := "no --kubeconfig given"
	if o.API != nil {
		var zcfg kubelet.Config
		var zerr error
		zcfg, t.Version, configzNote, zerr = o.configz(ctx, st.node, v)
		if zerr == nil {
			t.Config, t.Err = zcfg, nil
		}
	}
	t.Platform = kubelet.DetectPlatform(o.FS, inv)
	t.Benchmark = kubelet.SelectBenchmark(t.Platform, t.Version)
	st.target = t
	st.source = sourceResult(t, inv, err, configzNote)
	return st
}

// configz reads the node (for the kubelet version) and its configz. The
// note says what happened, for the kubelet-source result.
func (o Options) configz(ctx context.Context, node string, v kubelet.Version) (kubelet.Config, kubelet.Version, string, error) {
	if node == "" {
		return kubelet.Config{}, v, "configz not tried: node name unknown (pass --node)", errors.New("node name unknown")
	}
	n, nerr := o.API.GetNode(ctx, node)
	if !v.Known() && nerr == nil {
		v, _ = kubelet.ParseVersion(n.KubeletVersion)
	}
	body, from, err := o.API.Configz(ctx, node, n)
	if err != nil {
		return kubelet.Config{}, v, "configz unavailable: " + err.Error(), err
	}
	tree, err := kubelet.DecodeConfigz(body)
	if err != nil {
		return kubelet.Config{}, v, "configz unusable: " + err.Error(), err
	}
	doc := kubelet.Doc{Layer: checks.LayerConfigz, Path: from, Tree: tree}
	return kubelet.Config{Docs: []kubelet.Doc{doc}, Configz: true}, v, "configz from " + from, nil
}

// nodeName is --node, else the kubelet's --hostname-override, else the
// host's /etc/hostname.
func (o Options) nodeName(cfg kubelet.Config) string {
	if o.Node != "" {
		return o.Node
	}
	if f, ok := cfg.Args.Last("hostname-override"); ok && f.Value != "" {
		return f.Value
	}
	b, err := o.FS.ReadFile("/etc/hostname")
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(string(b)))
}

// sourceResult reports where the kubelet's settings were read from.
func sourceResult(t kubelet.Target, inv kubelet.Invocation, discErr error, configzNote string) checks.Result {
	r := checks.Result{ID: "kubelet-source", Group: "kubelet", Title: "Where the kubelet's settings were read",
		Severity: checks.Note, Status: checks.Info, Benchmark: t.Benchmark.Name}
	switch {
	case t.Config.Configz:
		r.Evidence = checks.Evidence{Layer: checks.LayerConfigz, Path: t.Config.Docs[0].Path, Actual: "live configuration", Expected: "configz or the kubelet's own files"}
	case discErr != nil:
		r.Status = checks.Error
		r.Evidence = checks.Evidence{Actual: "not found", Expected: "configz or the kubelet's own files"}
	default:
		r.Evidence = checks.Evidence{Path: inv.Source, Actual: describeInvocation(t, inv), Expected: "configz or the kubelet's own files"}
	}
	msgs := []string{configzNote}
	if discErr != nil && !t.Config.Configz {
		msgs = append(msgs, discErr.Error())
	}
	if t.Benchmark.Note != "" {
		msgs = append(msgs, t.Benchmark.Note)
	}
	if _, ok := t.Config.Args.Last("config-dir"); ok && t.Version.AtLeast(1, 28) && !t.Version.AtLeast(1, 30) {
		msgs = append(msgs, "kubelet "+t.Version.Raw+" accepts --config-dir only with KUBELET_CONFIG_DROPIN_DIR_ALPHA set in its environment (alpha in 1.28–1.29)")
	}
	msgs = append(msgs, fmt.Sprintf("platform %s, benchmark %s, kubelet %s", t.Platform, t.Benchmark.Name, versionText(t.Version)))
	r.Message = strings.Join(msgs, "; ")
	return r
}

func describeInvocation(t kubelet.Target, inv kubelet.Invocation) string {
	parts := []string{fmt.Sprintf("%d arguments, cwd %s", len(inv.Argv), inv.Cwd)}
	for _, d := range t.Config.Docs {
		parts = append(parts, string(d.Layer)+" "+d.Path)
	}
	return strings.Join(parts, "; ")
}

func versionText(v kubelet.Version) string {
	if !v.Known() {
		return "version unknown"
	}
	return v.Raw
}

// hygiene runs the unit, file and ruleset checks.
func (o Options) hygiene(k kubeletState) []checks.Result {
	cs := hygiene.Components{}
	if o.Procs != nil {
		if ps, err := o.Procs.Processes(); err == nil {
			for _, p := range ps {
				cs.FromProcess(p.Argv, fmt.Sprintf("/proc/%d", p.PID))
			}
		}
	}
	cs.FromUnits(o.FS)
	if k.inv.Source != "" && !cs.Has(hygiene.Kubelet) && k.target.Err == nil {
		cs[hygiene.Kubelet] = k.inv.Source
	}
	out := hygiene.RestoreServices(o.FS, cs)
	out = append(out, hygiene.FirewalldAndIptables(o.FS))
	if o.Rules == nil {
		return append(out, noRules())
	}
	makeChains := ""
	if s, err := k.target.Config.Get(kubelet.MakeIPTablesUtilChains); err == nil && k.target.Err == nil {
		makeChains = s.Value
	}
	return append(out, hygiene.Rules(hygiene.Merge(o.Rules...), cs, makeChains)...)
}

func noRules() checks.Result {
	return checks.Result{ID: "ruleset", Group: "hygiene", Title: "Ruleset checks", Status: checks.Info, Severity: checks.Note,
		Message:  "no ruleset given: pass --rules FILE (iptables-save of each family and backend, or nft output; repeatable) to check for flushed chains, mixed backends and misplaced admin rules",
		Evidence: checks.Evidence{Layer: checks.LayerRules, Actual: "not read", Expected: "the node's rulesets"}}
}
