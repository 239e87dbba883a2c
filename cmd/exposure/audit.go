package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/kube"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/report"
)

// auditOpts are the flags of `exposure audit` and `exposure ports`.
type auditOpts struct {
	rules    ruleInputs
	snapshot string
	proc     string
	output   string
	from     string
	ifaces   []string
	addrs    []string
	protos   []string
	failOn   []string
	allow    string
	k8s      k8sOpts
}

func newAuditCmd(a *app) *cobra.Command {
	return newExposureCmd(a, "audit", "Map every reachable port of this node (live, read-only) or of a snapshot: state, why, and who answers")
}

// newExposureCmd builds audit and its alias ports.
func newExposureCmd(a *app, use, short string) *cobra.Command {
	o := &auditOpts{}
	cmd := &cobra.Command{
		Use:   use + " [--snapshot FILE | --rules FILE --local-addrs ADDRS] [flags]",
		Short: short,
		Long: `For every local address, every TCP, UDP and SCTP port and ICMP echo, per input interface
and source class: the state a remote scanner observes (open, closed, filtered) or forwarded
(DNAT/REDIRECT/routing, with where and with which probability), the rule path that decides it,
and who answers (listening process, container and pod; or the kube-proxy Service, hostPort,
Docker or CNI rule behind a DNAT).

Without --snapshot or --rules it reads this node, read-only: iptables-legacy-save (only the
tables /proc/net/ip*_tables_names lists), iptables-nft-save, nft -j list ruleset, interfaces,
routes, sockets and processes from /proc.

With the cluster's objects (the API through --kubeconfig, $KUBECONFIG, ~/.kube/config or the
in-cluster service account; --k8s-objects files; or those a snapshot recorded) it names the
Service or Pod behind every port and reports where the node disagrees with the cluster
(findings: service-not-programmed, stale-service-rules, endpoints-mismatch, ...; see
docs/kubernetes.md). Live, an unreachable API is a note, not an error, unless --kubeconfig or
--context was given.`,
		Example: `  exposure ports --snapshot examples/kube-proxy-node.bundle
  exposure audit --rules examples/docker-host.iptables-save --local-addrs examples/docker-host.local-addrs
  exposure audit --from 198.51.100.7 -i eth0 --fail-on open,forwarded --allow allowed-ports.txt
  exposure audit --kubeconfig ~/.kube/config --node worker-1 --fail-on high
  exposure audit --rules node.iptables-save --local-addrs node.local-addrs --k8s-objects objects.json -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAudit(cmd.Context(), a, o) },
	}
	f := cmd.Flags()
	o.rules.register(f)
	f.StringVar(&o.snapshot, "snapshot", "", "analyse a snapshot bundle (exposure snapshot -o FILE) instead of this node")
	f.StringVar(&o.proc, "proc", "/proc", "proc filesystem to read sockets and processes from (live mode)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table|json|yaml")
	f.StringVar(&o.from, "from", "", "one client's view: the source address of the scanner")
	f.StringSliceVarP(&o.ifaces, "in-iface", "i", nil, "input interface(s) the scanner's packets arrive on (default: every non-loopback interface)")
	f.StringSliceVar(&o.addrs, "addr", nil, "local address(es) to analyse (default: every non-loopback local address)")
	f.StringSliceVar(&o.protos, "proto", nil, "protocols: tcp,udp,sctp,icmp (default: all)")
	f.StringSliceVar(&o.failOn, "fail-on", nil, "exit 1 when a range in these states (open, forwarded) is not in --allow, or on Kubernetes findings: finding (any), a severity (high, medium, low, info: that or worse) or a finding id")
	f.StringVar(&o.allow, "allow", "", "allow-list file: lines 'PROTO ADDR PORT[-PORT] [IFACE]', '*' for any")
	o.k8s.register(f, "the Node this host is (default: the Node whose addresses are local)")
	return cmd
}

func runAudit(ctx context.Context, a *app, o *auditOpts) error {
	if o.output != "table" && o.output != "json" && o.output != "yaml" {
		return usageError(fmt.Errorf("unknown output format %q (table|json|yaml)", o.output))
	}
	opt, err := o.options()
	if err != nil {
		return usageError(err)
	}
	allow, err := o.allowList()
	if err != nil {
		return usageError(err)
	}
	if err := o.k8s.check(); err != nil {
		return usageError(err)
	}
	src, err := o.input(ctx, a)
	if err != nil {
		return err
	}
	// The analysis allocates many short-lived trace outcomes next to a
	// large, long-lived ruleset: a higher GC target trades memory for time.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(analysisMemoryLimit()))
	rep, err := exposure.Analyze(src.in, opt)
	if err != nil {
		return usageError(err)
	}
	res, knotes, err := o.reconcile(ctx, src, rep)
	if err != nil {
		return err
	}
	for _, n := range slices.Concat(src.notes, rep.Notes, knotes) {
		a.log.Warn("audit", "note", n)
	}
	if err := renderAudit(a, o.output, res); err != nil {
		return err
	}
	bad, failed := disallowed(rep, o.failOn, allow), failingFindings(res.Findings, o.failOn)
	if len(bad) > 0 || len(failed) > 0 {
		a.log.Warn("audit", "not allowed", len(bad), "failing findings", len(failed))
		return findingExit()
	}
	return nil
}

// reconcile joins the cluster's objects, when there are any, to the
// exposure map (owners in place) and returns the findings; notes say why
// there are none.
func (o *auditOpts) reconcile(ctx context.Context, src auditInput, rep *exposure.Report) (*report.Audit, []string, error) {
	res := &report.Audit{Report: rep, Findings: []kube.Finding{}}
	objs, err := o.k8s.inventory(ctx, src.k8s, src.live)
	if err != nil || objs.inv == nil {
		return res, nonEmpty(objs.note), err
	}
	var notes []string
	node, err := o.k8s.nodeName(objs.inv, src.in.Env)
	if err != nil {
		notes = append(notes, fmt.Sprintf("which Node is this host: %v; name it with --node (reconciling without a Node)", err))
	}
	kr, err := kube.Reconcile(kube.Input{Inventory: objs.inv, Node: node, Report: rep, Ruleset: src.in.Ruleset, Listeners: src.in.Listeners, Env: src.in.Env})
	if err != nil {
		return nil, notes, usageError(fmt.Errorf("reconcile with the cluster: %w", err))
	}
	res.Node, res.Findings, res.Joined = kr.Node, kr.Findings, true
	if res.Findings == nil {
		res.Findings = []kube.Finding{}
	}
	notes = append(notes, fmt.Sprintf("Kubernetes objects from %s: %d nodes, %d pods, %d services, %d endpointslices", objs.from,
		len(objs.inv.Nodes), len(objs.inv.Pods), len(objs.inv.Services), len(objs.inv.EndpointSlices)))
	return res, notes, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func renderAudit(a *app, format string, res *report.Audit) error {
	switch format {
	case "json":
		return report.JSON(a.stdout, res)
	case "yaml":
		return report.YAML(a.stdout, res)
	}
	return report.AuditTable(a.stdout, res)
}

// options turns the view flags into analysis options.
func (o *auditOpts) options() (exposure.Options, error) {
	opt := exposure.Options{Ifaces: o.ifaces, Protos: o.protos}
	if o.from != "" {
		f, err := netip.ParseAddr(o.from)
		if err != nil {
			return opt, fmt.Errorf("--from: %q is not an IP address", o.from)
		}
		opt.From = f.Unmap()
	}
	for _, s := range o.addrs {
		ad, err := netip.ParseAddr(s)
		if err != nil {
			return opt, fmt.Errorf("--addr: %q is not an IP address", s)
		}
		opt.Addrs = append(opt.Addrs, ad.Unmap())
	}
	for _, s := range o.failOn {
		if s != exposure.Open && s != exposure.Forwarded && !findingSelector(s) {
			return opt, fmt.Errorf("--fail-on: %q is not open, forwarded, finding, a severity (high, medium, low, info) or a finding id", s)
		}
	}
	return opt, nil
}

// auditInput is the node to analyse, what the reader should know about
// it, the cluster objects a snapshot recorded, and whether it is this
// node read live (then the API is tried without --kubeconfig).
type auditInput struct {
	in    exposure.Input
	notes []string
	k8s   *kube.Inventory
	live  bool
}

// input reads the node: a bundle, rule files, or the live system.
func (o *auditOpts) input(ctx context.Context, a *app) (auditInput, error) {
	switch {
	case o.snapshot != "" && len(o.rules.files) > 0:
		return auditInput{}, usageError(fmt.Errorf("--snapshot and --rules exclude each other"))
	case o.snapshot != "":
		return snapshotInput(o.snapshot)
	case len(o.rules.files) > 0:
		in, notes, err := o.offlineInput(a)
		return auditInput{in: in, notes: notes}, err
	}
	b := liveCollector(o.proc).Snapshot(ctx)
	in, err := b.Input(newLoader())
	if err != nil {
		return auditInput{}, usageError(err)
	}
	return auditInput{in: in, notes: b.Notes, live: true}, nil
}

func snapshotInput(path string) (auditInput, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return auditInput{}, usageError(fmt.Errorf("read snapshot: %w", err))
	}
	b, err := collect.ReadBundle(data)
	if err != nil {
		return auditInput{}, usageError(err)
	}
	in, err := b.Input(newLoader())
	if err != nil {
		return auditInput{}, usageError(err)
	}
	return auditInput{in: in, notes: b.Notes, k8s: b.K8sObjects}, nil
}

// offlineInput loads --rules files; --local-addrs takes addresses or
// local-addrs files ("iface addr/prefix" lines).
func (o *auditOpts) offlineInput(a *app) (exposure.Input, []string, error) {
	rs, err := newLoader().LoadFiles(o.rules.files...)
	if err != nil {
		return exposure.Input{}, nil, usageError(err)
	}
	ifs, err := localAddrArgs(o.rules.localAddrs)
	if err != nil {
		return exposure.Input{}, nil, usageError(err)
	}
	env := collect.Env(ifs, nil)
	bare := ruleInputs{assume: o.rules.assume, localnet: o.rules.localnet, acceptLocal: o.rules.acceptLocal, rpFilter: o.rules.rpFilter}
	assumed, err := bare.env()
	if err != nil {
		return exposure.Input{}, nil, usageError(err)
	}
	env.Assume, env.RouteLocalnet, env.AcceptLocal, env.RPFilter = assumed.Assume, assumed.RouteLocalnet, assumed.AcceptLocal, assumed.RPFilter
	var notes []string
	for _, w := range rs.Warnings {
		notes = append(notes, w.String())
	}
	notes = append(notes, "offline mode: no socket tables, so no port is open (reached ports show as closed)")
	return exposure.Input{Ruleset: rs, Env: env}, notes, nil
}

func localAddrArgs(args []string) ([]collect.Interface, error) {
	var out []collect.Interface
	for _, s := range args {
		s = strings.TrimPrefix(s, "@") // trace's spelling of a file
		if data, err := os.ReadFile(s); err == nil {
			ifs, err := collect.ParseLocalAddrs(data, s)
			if err != nil {
				return nil, err
			}
			out = append(out, ifs...)
			continue
		}
		for _, part := range strings.Split(s, ",") {
			ifs, err := collect.ParseLocalAddrs([]byte(part), "--local-addrs")
			if err != nil {
				return nil, err
			}
			for _, i := range ifs {
				if !strings.Contains(part, "=") {
					i.Name = "" // a bare address: local, on no known interface
				}
				out = append(out, i)
			}
		}
	}
	return mergeUnnamed(out), nil
}

// mergeUnnamed drops the placeholder interface of bare addresses: they are
// local, on no known interface.
func mergeUnnamed(ifs []collect.Interface) []collect.Interface {
	var out []collect.Interface
	var bare []string
	for _, i := range ifs {
		if i.Name == "" {
			bare = append(bare, i.Addrs...)
			continue
		}
		out = append(out, i)
	}
	if len(bare) > 0 {
		out = append(out, collect.Interface{Name: "", Addrs: bare})
	}
	return out
}

// liveCollector reads this node.
func liveCollector(proc string) collect.Live {
	host, _ := os.Hostname()
	return collect.Live{Run: collect.ExecRunner{}, Proc: os.DirFS(proc), Net: collect.StdNet{}, Tables: collect.NetlinkTables{}, Now: time.Now(), Host: host, Tool: "exposure"}
}

// allowRule is one line of an allow-list.
type allowRule struct {
	proto, addr, iface string
	lo, hi             int
}

func (o *auditOpts) allowList() ([]allowRule, error) {
	if o.allow == "" {
		return nil, nil
	}
	data, err := os.ReadFile(o.allow)
	if err != nil {
		return nil, fmt.Errorf("read allow-list: %w", err)
	}
	return parseAllow(data, o.allow)
}

// parseAllow reads "PROTO ADDR PORT[-PORT] [IFACE]" lines.
func parseAllow(data []byte, file string) ([]allowRule, error) {
	var out []allowRule
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 || len(f) > 4 {
			return nil, nf.Errorf(file, n, 1, sc.Text(), "parse allow-list: want PROTO ADDR PORT[-PORT] [IFACE]")
		}
		r := allowRule{proto: f[0], addr: f[1], iface: "*", lo: 0, hi: 65535}
		if len(f) == 4 {
			r.iface = f[3]
		}
		if err := r.parsePorts(f[2]); err != nil {
			return nil, nf.Errorf(file, n, 1, sc.Text(), "parse allow-list: %v", err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

func (r *allowRule) parsePorts(s string) error {
	if s == "*" {
		return nil
	}
	lo, hi, rng := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		return fmt.Errorf("port %q", s)
	}
	b := a
	if rng {
		if b, err = strconv.Atoi(hi); err != nil {
			return fmt.Errorf("port %q", s)
		}
	}
	r.lo, r.hi = a, b
	return nil
}

func (r allowRule) covers(e exposure.Exposure) bool {
	m := func(pat, v string) bool { return pat == "*" || pat == v }
	return m(r.proto, e.Proto) && m(r.addr, e.Addr) && m(r.iface, e.Iface) && r.lo <= e.PortFrom && e.PortTo <= r.hi
}

// disallowed lists the exposures in a --fail-on state no allow rule covers.
func disallowed(rep *exposure.Report, failOn []string, allow []allowRule) []exposure.Exposure {
	var out []exposure.Exposure
	for _, e := range rep.Exposures {
		if !contains(failOn, e.State) {
			continue
		}
		ok := false
		for _, r := range allow {
			ok = ok || r.covers(e)
		}
		if !ok {
			out = append(out, e)
		}
	}
	return out
}

// severityRank orders finding severities, most urgent first.
var severityRank = map[kube.Severity]int{kube.High: 0, kube.Medium: 1, kube.Low: 2, kube.Info: 3}

// findingIDs are the ids --fail-on accepts.
var findingIDs = []kube.FindingID{kube.ServiceNotProgrammed, kube.StaleServiceRules, kube.EndpointsMismatch,
	kube.HostPortNotProgrammed, kube.StaleHostPort, kube.UndeclaredHostPort, kube.WildcardHostBind,
	kube.SourceRangesBypassed, kube.NodePortOnAllInterfaces, kube.UnownedExposure}

// findingSelector reports a --fail-on value about findings: "finding",
// a severity, or a finding id.
func findingSelector(s string) bool {
	_, sev := severityRank[kube.Severity(s)]
	return s == "finding" || sev || slices.Contains(findingIDs, kube.FindingID(s))
}

// failingFindings lists the findings a --fail-on value selects: every one
// for "finding", those of a severity or worse, those of an id.
func failingFindings(fs []kube.Finding, failOn []string) []kube.Finding {
	var out []kube.Finding
	for _, f := range fs {
		for _, s := range failOn {
			rank, sev := severityRank[kube.Severity(s)]
			if s == "finding" || string(f.ID) == s || sev && severityRank[f.Severity] <= rank {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// analysisMemoryLimit caps the heap the raised GC target may grow to: six
// times what is live once the inputs are loaded (the ruleset dominates),
// and at least 1.5 GiB, so that the report of a large node (hundreds of MB
// of JSON for every source class) does not make the collector thrash. A
// GOMEMLIMIT the user set is kept.
func analysisMemoryLimit() int64 {
	if cur := debug.SetMemoryLimit(-1); cur != math.MaxInt64 {
		return cur
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return max(1536<<20, 6*int64(ms.HeapAlloc))
}
