package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/diff"
	"github.com/exposure-audit/exposure/exposure"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// diffOptions are the flags of `exposure diff`.
type diffOptions struct {
	output        string
	exitCode      bool
	before, after []string
	// The node view for the exposure comparison.
	localAddrs []string
	ifaces     []string
	inIfaces   []string
}

// newDiffCmd builds `exposure diff A B`: the semantic difference between
// two rulesets, each change attributed to the component that wrote it.
func newDiffCmd(a *app) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff BEFORE AFTER",
		Short: "Compare two rulesets: chains, rules, policies and sets changed, and who changed them",
		Long: `diff compares two rulesets (snapshots of one node at two times, or two nodes) the way the
kernel sees them, not line by line: tables and chains added, removed or emptied; rules
inserted, deleted, moved or changed, found by aligning each chain's rules by identity and
position (an insertion at position 1 is one insertion); base chain policies and hooks;
nftables sets and elements. Each change names its writer: docker, kube-proxy, kubelet,
ovn-kubernetes, cni, netavark, firewalld, calico, cri-o, or admin.

BEFORE and AFTER are files in any format --rules reads (iptables-save of either flavour,
iptables -S, iptables -L -n -v, nft list ruleset, nft -j list ruleset), snapshot bundles
written by exposure snapshot, or - for standard input; the two may differ in format. Add more files to either side with --before/--after
(for example the nat table's -S, or the ip6tables and legacy dumps of the same moment).

With the node's addresses (--local-addrs, --iface), or with two snapshot bundles (each
side's own interfaces and listening sockets), both rulesets also go through the exposure map, and exposure_changes lists the ports that became open, closed, filtered or
forwarded, with the changed rules on the packet's path.`,
		Example: `  iptables -S > before; docker run -d -p 8080:80 nginx; iptables -S > after
  exposure diff before after
  exposure diff before.v4 after.v4 --before before.v6 --after after.v6 -o json --exit-code
  exposure diff before after --iface eth0=198.51.100.1/24 --iface docker0=172.17.0.1/16 --in-iface eth0`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError(fmt.Errorf("diff: want BEFORE and AFTER, got %d argument(s)", len(args)))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error { return runDiff(a, o, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "table", "output format: "+strings.Join(diff.Formats, "|"))
	f.BoolVar(&o.exitCode, "exit-code", false, "exit 1 when the rulesets differ (after printing the differences)")
	f.StringArrayVar(&o.before, "before", nil, "another ruleset file of the BEFORE side (repeatable)")
	f.StringArrayVar(&o.after, "after", nil, "another ruleset file of the AFTER side (repeatable)")
	f.StringSliceVar(&o.localAddrs, "local-addrs", nil, "the node's addresses, comma-separated: compare what a remote scanner sees on them (exposure_changes)")
	f.StringArrayVar(&o.ifaces, "iface", nil, "a node interface and its addresses, NAME=CIDR[,CIDR] (repeatable; docker0=172.17.0.1/16 lets forwarded ports resolve)")
	f.StringArrayVar(&o.inIfaces, "in-iface", nil, "interface the scanner's packets arrive on (repeatable; default every --iface but lo, else eth0)")
	return cmd
}

func runDiff(a *app, o *diffOptions, before, after string) error {
	if !slices.Contains(diff.Formats, o.output) {
		return usageError(fmt.Errorf("diff: unknown output %q (want %s)", o.output, strings.Join(diff.Formats, "|")))
	}
	bs, as := append([]string{before}, o.before...), append([]string{after}, o.after...)
	if slices.Contains(bs, "-") && slices.Contains(as, "-") {
		return usageError(fmt.Errorf("diff: only one side can be read from standard input"))
	}
	sb, err := loadSide(a, bs)
	if err != nil {
		return usageError(err)
	}
	sa, err := loadSide(a, as)
	if err != nil {
		return usageError(err)
	}
	res := diff.Compare(sb.rs, sa.rs)
	res.Before, res.After = bs, as
	if err := addExposure(o, sb, sa, res); err != nil {
		return usageError(err)
	}
	if err := diff.Write(a.stdout, o.output, res); err != nil {
		return err
	}
	if o.exitCode && !res.Empty() {
		return findingExit()
	}
	return nil
}

// addExposure fills res.ExposureChanges when the node is known: from
// --local-addrs/--iface (the same node on both sides), or from two snapshot
// bundles (each side's own interfaces and listening sockets). Otherwise it
// says why the list stays empty.
func addExposure(o *diffOptions, sb, sa side, res *diff.Result) error {
	flags := len(o.localAddrs) > 0 || len(o.ifaces) > 0
	if !flags && (sb.input == nil || sa.input == nil) {
		if len(res.Changes) > 0 {
			res.Notes = append(res.Notes, "exposure_changes: not computed: give the node's addresses (--local-addrs, --iface), or compare two snapshot bundles")
		}
		return nil
	}
	ib, ia := inputOf(sb), inputOf(sa)
	if flags {
		env, err := diffEnv(o)
		if err != nil {
			return err
		}
		ib.Env, ia.Env = env, env
	}
	ec, notes, err := diff.CompareExposure(ib, ia, exposure.Options{Ifaces: o.inIfaces}, res.Changes)
	if err != nil {
		// The structural diff stands on its own; say why the rest is missing.
		res.Notes = append(res.Notes, "exposure_changes: not computed: "+err.Error())
		return nil
	}
	res.ExposureChanges = ec
	res.Notes = append(res.Notes, notes...)
	if len(ib.Listeners) == 0 && len(ia.Listeners) == 0 {
		res.Notes = append(res.Notes, "exposure_changes: no listening sockets are known (compare snapshot bundles to include them): a port that reaches the host reads closed on both sides")
	}
	return nil
}

// inputOf is a side's exposure input: the bundle's, or just its ruleset.
func inputOf(s side) exposure.Input {
	if s.input != nil {
		return *s.input
	}
	return exposure.Input{Ruleset: s.rs}
}

// diffEnv builds the node from --iface (collect.Env: every interface
// address is local, and its prefix routed out of that interface) and
// --local-addrs.
func diffEnv(o *diffOptions) (*nf.Env, error) {
	var ifs []collect.Interface
	for _, spec := range o.ifaces {
		name, cidrs, ok := strings.Cut(spec, "=")
		if !ok || name == "" || cidrs == "" {
			return nil, fmt.Errorf("--iface %q: want NAME=CIDR[,CIDR]", spec)
		}
		ifc := collect.Interface{Name: name}
		for _, c := range strings.Split(cidrs, ",") {
			if _, err := netip.ParsePrefix(strings.TrimSpace(c)); err != nil {
				return nil, fmt.Errorf("--iface %q: %q is not an address/length", spec, c)
			}
			ifc.Addrs = append(ifc.Addrs, strings.TrimSpace(c))
		}
		ifs = append(ifs, ifc)
	}
	local, err := (&ruleInputs{localAddrs: o.localAddrs}).env()
	if err != nil {
		return nil, err
	}
	env := collect.Env(ifs, nil)
	for a := range local.Local {
		env.Local[a] = true
	}
	return env, nil
}

// side is one side of the comparison: its merged ruleset and, for a
// snapshot bundle, the node it was taken on (environment and listeners).
type side struct {
	rs    *nf.Ruleset
	input *exposure.Input
}

// loadSide reads one side's files ("-" is standard input), merges their
// tables as the kernel runs them together, and validates the result. A
// snapshot bundle (exposure snapshot) stands alone on its side.
func loadSide(a *app, files []string) (side, error) {
	l := newLoader()
	rs := &nf.Ruleset{}
	for _, f := range files {
		data, err := readInput(a, f)
		if err != nil {
			return side{}, err
		}
		if isBundle(data) {
			if len(files) > 1 {
				return side{}, fmt.Errorf("diff: %s is a snapshot bundle: give it alone on its side", f)
			}
			return loadBundle(a, l, data, f)
		}
		part, err := l.Parse(data, f)
		if err != nil {
			return side{}, fmt.Errorf("diff: %w", err)
		}
		collect.Merge(rs, part)
	}
	if err := nf.Validate(rs); err != nil {
		return side{}, fmt.Errorf("diff: load %s: %w", strings.Join(files, ", "), err)
	}
	warn(a, rs)
	return side{rs: rs}, nil
}

// isBundle recognises a snapshot bundle: gzip'd, or JSON of kind
// exposure-snapshot (its second key).
func isBundle(data []byte) bool {
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		return true
	}
	head := data[:min(len(data), 512)]
	return bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")) && bytes.Contains(head, []byte(`"`+collect.BundleKind+`"`))
}

func loadBundle(a *app, l collect.Loader, data []byte, name string) (side, error) {
	b, err := collect.ReadBundle(data)
	if err != nil {
		return side{}, fmt.Errorf("diff: %s: %w", name, err)
	}
	in, err := b.Input(l)
	if err != nil {
		return side{}, fmt.Errorf("diff: %s: %w", name, err)
	}
	warn(a, in.Ruleset)
	return side{rs: in.Ruleset, input: &in}, nil
}

func warn(a *app, rs *nf.Ruleset) {
	for _, w := range rs.Warnings {
		a.log.Warn("ruleset", "warning", w.String())
	}
}

func readInput(a *app, name string) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, fmt.Errorf("diff: read standard input: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("diff: read rules: %w", err)
	}
	return data, nil
}
