package kubeproxy

import (
	"io"
	"net/netip"
	"strconv"
)

// Chain names kube-proxy (pkg/proxy/iptables/proxier.go) and the kubelet (pkg/kubelet/kubelet_network_linux.go) use.
const (
	chainServices         = "KUBE-SERVICES"
	chainExternalServices = "KUBE-EXTERNAL-SERVICES"
	chainNodePorts        = "KUBE-NODEPORTS"
	chainPostrouting      = "KUBE-POSTROUTING"
	chainMarkMasq         = "KUBE-MARK-MASQ"
	chainForward          = "KUBE-FORWARD"
	chainProxyFirewall    = "KUBE-PROXY-FIREWALL"
	chainProxyCanary      = "KUBE-PROXY-CANARY"
	chainFirewall         = "KUBE-FIREWALL"
	chainKubeletCanary    = "KUBE-KUBELET-CANARY"
	chainHint             = "KUBE-IPTABLES-HINT"
	masqMark              = "0x4000"
	nfacctInvalid         = "ct_state_invalid_dropped_pkts"
	nfacctLocalhostNP     = "localhost_nps_accepted_pkts"
)

// Stats counts what a generated ruleset holds.
type Stats struct {
	Services  int // service ports
	Endpoints int
	Chains    int // user chains over all tables
	Rules     int // `-A` lines over all tables (nftables: rules, set/map elements excluded)
	Elements  int // nftables set and map elements
	Large     bool
}

// IPTablesSave writes the IPv4 ruleset a node running kube-proxy v1.34 in iptables mode holds, in iptables-save
// format (mangle, filter and nat; no counters). The ruleset is what one full sync leaves behind, every rule shaped
// as iptables-save prints it back. Services are emitted sorted by port name where kube-proxy's order is random.
func IPTablesSave(w io.Writer, node Node, services []Service, opt Options) (Stats, error) {
	return iptablesSave(w, node, services, opt, false)
}

// IP6TablesSave is IPTablesSave for the IPv6 family (ip6tables-save): IPv6 ClusterIPs and endpoints only,
// no localhost NodePorts and no KUBE-FIREWALL rule, as kube-proxy's IPv6 proxier writes.
func IP6TablesSave(w io.Writer, node Node, services []Service, opt Options) (Stats, error) {
	return iptablesSave(w, node, services, opt, true)
}

func iptablesSave(w io.Writer, node Node, services []Service, opt Options, v6 bool) (Stats, error) {
	ports, err := expand(services, v6)
	if err != nil {
		return Stats{}, err
	}
	g := newIPTGen(node, opt, v6, ports)
	tables := g.build(ports)
	st := Stats{Services: len(ports), Endpoints: countEndpoints(ports), Large: !g.comments}
	for _, t := range tables {
		st.Chains += len(t.user)
		st.Rules += t.ruleCount()
	}
	return st, writeTables(w, tables, v6, opt)
}

// iptGen holds one generation run.
type iptGen struct {
	node      Node
	v6        bool
	comments  bool // per-endpoint comments (false in large cluster mode)
	localhost bool // IPv4 localhost NodePorts
	probs     probabilities
	mangle    *table
	filter    *table
	nat       *table
}

func newIPTGen(node Node, opt Options, v6 bool, ports []*svcPort) *iptGen {
	g := &iptGen{node: node, v6: v6, localhost: !v6 && !node.NoLocalhostNodePorts}
	switch opt.Comments {
	case CommentsAlways:
		g.comments = true
	case CommentsAuto:
		g.comments = countEndpoints(ports) <= largeClusterEndpointsThreshold
	}
	g.mangle = newTable("mangle", "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
	g.filter = newTable("filter", "INPUT", "FORWARD", "OUTPUT")
	g.nat = newTable("nat", "PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")
	return g
}

func (g *iptGen) build(ports []*svcPort) map[string]*table {
	g.base()
	for _, p := range ports {
		g.service(p)
	}
	g.tail()
	return map[string]*table{"mangle": g.mangle, "filter": g.filter, "nat": g.nat}
}

// host is an address as iptables-save prints a -s/-d host match.
func (g *iptGen) host(a netip.Addr) string {
	if a.Is6() {
		return a.String() + "/128"
	}
	return a.String() + "/32"
}

func (g *iptGen) rejectWith() string {
	if g.v6 {
		return "-j REJECT --reject-with icmp6-port-unreachable"
	}
	return "-j REJECT --reject-with icmp-port-unreachable"
}

func (g *iptGen) recentMask() string {
	if g.v6 {
		return "--mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource"
	}
	return "--mask 255.255.255.255 --rsource"
}

// localDetect reports whether `--detect-local-mode ClusterCIDR` is usable for this family.
func (g *iptGen) localDetect() bool {
	return g.node.ClusterCIDR.IsValid() && g.node.ClusterCIDR.Addr().Is6() == g.v6
}

// base writes the chains and rules that do not depend on Services: canaries, the jump rules kube-proxy and the
// kubelet prepend to the built-in chains, KUBE-POSTROUTING, KUBE-MARK-MASQ and KUBE-FIREWALL.
func (g *iptGen) base() {
	for _, t := range []*table{g.mangle, g.filter, g.nat} {
		t.declare(chainProxyCanary)
		if g.node.Kubelet {
			t.declare(chainKubeletCanary)
		}
	}
	if g.node.Kubelet {
		g.mangle.declare(chainHint)
	}
	for _, c := range []string{chainServices, chainExternalServices, chainForward, chainNodePorts, chainProxyFirewall, chainFirewall} {
		g.filter.declare(c)
	}
	for _, c := range []string{chainServices, chainNodePorts, chainPostrouting, chainMarkMasq} {
		g.nat.declare(c)
	}
	g.filterJumps()
	g.nat.add("PREROUTING", comment("kubernetes service portals"), "-j", chainServices)
	g.nat.add("OUTPUT", comment("kubernetes service portals"), "-j", chainServices)
	g.nat.add("POSTROUTING", comment("kubernetes postrouting rules"), "-j", chainPostrouting)
	g.nat.add(chainMarkMasq, "-j MARK --set-xmark "+masqMark+"/"+masqMark)
	g.nat.add(chainPostrouting, "-m mark ! --mark "+masqMark+"/"+masqMark, "-j RETURN")
	g.nat.add(chainPostrouting, "-j MARK --set-xmark "+masqMark+"/0x0")
	g.nat.add(chainPostrouting, comment("kubernetes service traffic requiring SNAT"), "-j MASQUERADE --random-fully")
	if !g.v6 && (g.localhost || g.node.Kubelet) {
		g.filter.add(chainFirewall, "! -s 127.0.0.0/8 -d 127.0.0.0/8", comment("block incoming localnet connections"),
			"-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT", "-j DROP")
	}
}

// filterJumps writes INPUT/FORWARD/OUTPUT. kube-proxy prepends (-I) its jumps in iptablesJumpChains order and
// then -j KUBE-FIREWALL; the kubelet (IPv4 only) prepended -j KUBE-FIREWALL before kube-proxy started, so there
// it ends up last.
func (g *iptGen) filterJumps() {
	ctNew := "-m conntrack --ctstate NEW"
	fwFirst := !(g.node.Kubelet && !g.v6)
	if fwFirst {
		g.filter.add("INPUT", "-j", chainFirewall)
		g.filter.add("OUTPUT", "-j", chainFirewall)
	}
	g.filter.add("INPUT", ctNew, comment("kubernetes load balancer firewall"), "-j", chainProxyFirewall)
	g.filter.add("INPUT", comment("kubernetes health check service ports"), "-j", chainNodePorts)
	g.filter.add("INPUT", ctNew, comment("kubernetes externally-visible service portals"), "-j", chainExternalServices)
	g.filter.add("FORWARD", ctNew, comment("kubernetes load balancer firewall"), "-j", chainProxyFirewall)
	g.filter.add("FORWARD", comment("kubernetes forwarding rules"), "-j", chainForward)
	g.filter.add("FORWARD", ctNew, comment("kubernetes service portals"), "-j", chainServices)
	g.filter.add("FORWARD", ctNew, comment("kubernetes externally-visible service portals"), "-j", chainExternalServices)
	g.filter.add("OUTPUT", ctNew, comment("kubernetes load balancer firewall"), "-j", chainProxyFirewall)
	g.filter.add("OUTPUT", ctNew, comment("kubernetes service portals"), "-j", chainServices)
	if !fwFirst {
		g.filter.add("INPUT", "-j", chainFirewall)
		g.filter.add("OUTPUT", "-j", chainFirewall)
	}
}

// tail writes what kube-proxy writes after the per-service loop: the KUBE-NODEPORTS jump that must be the last
// rule of nat KUBE-SERVICES, and KUBE-FORWARD.
func (g *iptGen) tail() {
	dst := ""
	if g.v6 {
		dst = "! -d ::1/128"
	} else if !g.localhost {
		dst = "! -d 127.0.0.0/8"
	}
	g.nat.add(chainServices, dst, comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain"),
		"-m addrtype --dst-type LOCAL", "-j", chainNodePorts)
	if !g.node.ConntrackTCPLiberal {
		acct := ""
		if !g.node.NoNFAcct {
			acct = "-m nfacct --nfacct-name  " + nfacctInvalid
		}
		g.filter.add(chainForward, "-m conntrack --ctstate INVALID", acct, "-j DROP")
	}
	g.filter.add(chainForward, comment("kubernetes forwarding rules"), "-m mark --mark "+masqMark+"/"+masqMark, "-j ACCEPT")
	g.filter.add(chainForward, comment("kubernetes forwarding conntrack rule"), "-m conntrack --ctstate RELATED,ESTABLISHED", "-j ACCEPT")
}

// dport is `-p PROTO <comment> -m PROTO --dport N` preceded by an optional -d match.
func dport(dst, proto, cmt string, port int) []string {
	return []string{dst, "-p", proto, comment(cmt), "-m", proto, "--dport", strconv.Itoa(port)}
}

// service writes everything for one service port, in kube-proxy's syncProxyRules order.
func (g *iptGen) service(p *svcPort) {
	pol := p.policy()
	internalChain, externalPolicy := p.svcChain(), p.svcChain()
	if pol.internalLocal {
		internalChain = p.svlChain()
	}
	if pol.externalLocal {
		externalPolicy = p.svlChain()
	}
	lbChain := p.extChain()
	usesFW := pol.hasEndpoints && len(p.svc.lbVIPs()) > 0 && len(p.svc.LoadBalancerSourceRanges) > 0
	if usesFW {
		lbChain = p.fwChain()
	}
	intTarget, intComment, extTarget, extComment := g.filterTargets(p, pol)
	g.capture(p, pol, internalChain, lbChain, usesFW, intTarget, intComment, extTarget, extComment)
	if pol.hasInternal {
		args := dport("-d "+g.host(p.svc.ClusterIP), p.proto, p.name+" cluster IP", p.port.Port)
		switch {
		case g.node.MasqueradeAll:
			g.nat.add(internalChain, append(args, "-j", chainMarkMasq)...)
		case g.localDetect():
			args[0] = "! -s " + g.node.ClusterCIDR.Masked().String() + " " + args[0]
			g.nat.add(internalChain, append(args, "-j", chainMarkMasq)...)
		}
	}
	if pol.hasEndpoints && pol.externallyAccessible {
		g.extChain(p, pol, externalPolicy)
	}
	if usesFW {
		g.fwChainRules(p)
	}
	if pol.usesCluster && len(pol.cluster) > 0 {
		g.nat.declare(p.svcChain())
		g.endpointJumps(p, p.svcChain(), pol.cluster)
	}
	if pol.usesLocal && len(pol.local) > 0 {
		g.nat.declare(p.svlChain())
		g.endpointJumps(p, p.svlChain(), pol.local)
	}
	for _, ep := range pol.reachable {
		g.sep(p, ep)
	}
}

// filterTargets are the REJECT/DROP verdicts and comments for missing (local) endpoints.
func (g *iptGen) filterTargets(p *svcPort, pol policy) (intT, intC, extT, extC string) {
	if !pol.hasEndpoints {
		return g.rejectWith(), p.name + " has no endpoints", g.rejectWith(), p.name + " has no endpoints"
	}
	if !pol.hasInternal {
		intT, intC = "-j DROP", p.name+" has no local endpoints"
	}
	if !pol.hasExternal {
		extT, extC = "-j DROP", p.name+" has no local endpoints"
	}
	return intT, intC, extT, extC
}

// capture writes the KUBE-SERVICES / KUBE-NODEPORTS entry rules and the filter-table verdicts for one port.
func (g *iptGen) capture(p *svcPort, pol policy, internalChain, lbChain string, usesFW bool, intT, intC, extT, extC string) {
	s := p.svc
	if pol.hasInternal {
		g.nat.add(chainServices, append(dport("-d "+g.host(s.ClusterIP), p.proto, p.name+" cluster IP", p.port.Port), "-j", internalChain)...)
	} else {
		g.filter.add(chainServices, append(dport("-d "+g.host(s.ClusterIP), p.proto, intC, p.port.Port), intT)...)
	}
	for _, ip := range s.ExternalIPs {
		if ip.Is6() != g.v6 {
			continue
		}
		if pol.hasEndpoints {
			g.nat.add(chainServices, append(dport("-d "+g.host(ip), p.proto, p.name+" external IP", p.port.Port), "-j", p.extChain())...)
		}
		if !pol.hasExternal {
			g.filter.add(chainExternalServices, append(dport("-d "+g.host(ip), p.proto, extC, p.port.Port), extT)...)
		}
	}
	vips := g.familyAddrs(s.lbVIPs())
	for _, ip := range vips {
		if pol.hasEndpoints {
			g.nat.add(chainServices, append(dport("-d "+g.host(ip), p.proto, p.name+" loadbalancer IP", p.port.Port), "-j", lbChain)...)
		}
		if usesFW {
			g.filter.add(chainProxyFirewall, append(dport("-d "+g.host(ip), p.proto, p.name+" traffic not accepted by "+p.fwChain(), p.port.Port), "-j DROP")...)
		}
	}
	if !pol.hasExternal {
		for _, ip := range vips {
			g.filter.add(chainExternalServices, append(dport("-d "+g.host(ip), p.proto, extC, p.port.Port), extT)...)
		}
	}
	g.nodePort(p, pol, extT, extC)
	if hc := p.healthCheckNodePort(); hc != 0 {
		g.filter.add(chainNodePorts, append(dport("", "tcp", p.name+" health check node port", hc), "-j ACCEPT")...)
	}
}

func (g *iptGen) familyAddrs(in []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range in {
		if a.Is6() == g.v6 {
			out = append(out, a)
		}
	}
	return out
}

// nodePort writes the KUBE-NODEPORTS rules (a localhost copy counted by nfacct first) or the filter verdict.
func (g *iptGen) nodePort(p *svcPort, pol policy, extT, extC string) {
	np := p.nodePort()
	if np == 0 {
		return
	}
	if pol.hasEndpoints {
		if g.localhost && !g.node.NoNFAcct {
			args := dport("-d 127.0.0.0/8", p.proto, p.name, np)
			g.nat.add(chainNodePorts, append(args, "-m nfacct --nfacct-name  "+nfacctLocalhostNP, "-j", p.extChain())...)
		}
		g.nat.add(chainNodePorts, append(dport("", p.proto, p.name, np), "-j", p.extChain())...)
	}
	if !pol.hasExternal {
		g.filter.add(chainExternalServices, "-p", p.proto, comment(extC), "-m addrtype --dst-type LOCAL",
			"-m", p.proto, "--dport", strconv.Itoa(np), extT)
	}
}

// extChain writes KUBE-EXT-*: masquerade for Cluster policy; pod/host short-circuits for Local policy.
func (g *iptGen) extChain(p *svcPort, pol policy, externalPolicy string) {
	c := p.extChain()
	g.nat.declare(c)
	if !pol.externalLocal {
		g.nat.add(c, comment("masquerade traffic for "+p.name+" external destinations"), "-j", chainMarkMasq)
	} else {
		if g.localDetect() {
			g.nat.add(c, "-s", g.node.ClusterCIDR.Masked().String(), comment("pod traffic for "+p.name+" external destinations"), "-j", p.svcChain())
		}
		g.nat.add(c, comment("masquerade LOCAL traffic for "+p.name+" external destinations"), "-m addrtype --src-type LOCAL", "-j", chainMarkMasq)
		g.nat.add(c, comment("route LOCAL traffic for "+p.name+" external destinations"), "-m addrtype --src-type LOCAL", "-j", p.svcChain())
	}
	if pol.hasExternal {
		g.nat.add(c, "-j", externalPolicy)
	}
}

// fwChainRules writes KUBE-FW-*: one accept-to-EXT rule per source range, the LB IPs themselves when a range
// holds the node IP, and a final rule with no target.
func (g *iptGen) fwChainRules(p *svcPort) {
	c := p.fwChain()
	g.nat.declare(c)
	cmt := comment(p.name + " loadbalancer IP")
	allowNode := false
	for _, r := range p.svc.LoadBalancerSourceRanges {
		if r.Addr().Is6() != g.v6 {
			continue
		}
		g.nat.add(c, "-s", r.Masked().String(), cmt, "-j", p.extChain())
		if len(g.node.IPs) > 0 && r.Contains(g.node.IPs[0]) {
			allowNode = true
		}
	}
	if allowNode {
		for _, ip := range g.familyAddrs(p.svc.lbVIPs()) {
			g.nat.add(c, "-s", g.host(ip), cmt, "-j", p.extChain())
		}
	}
	g.nat.add(c, comment("other traffic to "+p.name+" will be dropped by KUBE-PROXY-FIREWALL"))
}

func (g *iptGen) epComment(text string) string {
	if !g.comments {
		return ""
	}
	return comment(text)
}

// endpointJumps is writeServiceToEndpointRules: affinity checks, then one statistic jump per endpoint with
// probability 1/(n-i), the last one unconditional.
func (g *iptGen) endpointJumps(p *svcPort, chain string, eps []epInfo) {
	if p.svc.SessionAffinity {
		secs := strconv.Itoa(p.svc.affinitySeconds())
		for _, ep := range eps {
			g.nat.add(chain, g.epComment(p.name+" -> "+ep.str),
				"-m recent --rcheck --seconds "+secs+" --reap --name "+ep.sep+" "+g.recentMask(), "-j", ep.sep)
		}
	}
	n := len(eps)
	for i, ep := range eps {
		stat := ""
		if i < n-1 {
			stat = "-m statistic --mode random --probability " + g.probs.get(n-i)
		}
		g.nat.add(chain, g.epComment(p.name+" -> "+ep.str), stat, "-j", ep.sep)
	}
}

// sep writes a KUBE-SEP-* chain: hairpin masquerade, then DNAT (recording the client for affinity).
func (g *iptGen) sep(p *svcPort, ep epInfo) {
	g.nat.declare(ep.sep)
	cmt := g.epComment(p.name)
	g.nat.add(ep.sep, "-s", g.host(ep.addr.Addr()), cmt, "-j", chainMarkMasq)
	recent := ""
	if p.svc.SessionAffinity {
		recent = "-m recent --set --name " + ep.sep + " " + g.recentMask()
	}
	g.nat.add(ep.sep, "-p", p.proto, cmt, recent, "-m", p.proto, "-j DNAT --to-destination", ep.str)
}
