package kubeproxy

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// nftChain is a chain of table ip kube-proxy; base chains carry their "type … hook … priority …;" line.
type nftChain struct {
	name    string
	base    string
	comment string
	rules   []string
}

// nftSet is a set or map; elements are printed in insertion order.
type nftSet struct {
	kind     string // "set" or "map"
	name     string
	typ      string
	comment  string
	extra    []string // size / flags / timeout lines
	perLine  int      // elements per output line (nft's calculate_delim: 2 for addresses, 1 for concatenations)
	elements []string
	seen     map[string]bool
}

// nftGen holds one nftables generation run.
type nftGen struct {
	node   Node
	ver    Version
	v6     bool
	ipX    string // "ip" or "ip6"
	addr   string // "ipv4_addr" or "ipv6_addr"
	perIP  int    // set elements per line for addresses (nft prints IPv4 two per line, IPv6 one)
	npIPs  []netip.Addr
	noLo   string // the "not localhost" match used when every local address takes NodePorts
	sets   []*nftSet
	byName map[string]*nftSet
	chains []*nftChain
	chainI map[string]*nftChain
}

// NFTRuleset writes table ip kube-proxy as kube-proxy v1.34 (or opt.Version) in nftables mode leaves it after one
// full sync, in the format `nft list ruleset` prints (which `nft -f` loads): sets and maps first, in creation
// order, then chains in creation order. kube-proxy's default `--nodeport-addresses primary` is assumed (set
// nodeport-ips holds node.IPs[0]). Set elements are written in Service order; the kernel lists hashed sets in its
// own order. Only opt.Version is used from opt.
func NFTRuleset(w io.Writer, node Node, services []Service, opt Options) (Stats, error) {
	return nftRuleset(w, node, services, opt, false)
}

// NFT6Ruleset is NFTRuleset for table ip6 kube-proxy (IPv6 Services and endpoints). Without an IPv6 node IP,
// kube-proxy accepts NodePorts on every local address but ::1 (no nodeport-ips set, `fib daddr type local`), as
// the corpus's ip6 table shows.
func NFT6Ruleset(w io.Writer, node Node, services []Service, opt Options) (Stats, error) {
	return nftRuleset(w, node, services, opt, true)
}

func nftRuleset(w io.Writer, node Node, services []Service, opt Options, v6 bool) (Stats, error) {
	ports, err := expand(services, v6)
	if err != nil {
		return Stats{}, err
	}
	g := &nftGen{node: node, ver: opt.Version, v6: v6, ipX: "ip", addr: "ipv4_addr", perIP: 2, noLo: "ip daddr != 127.0.0.0/8",
		byName: map[string]*nftSet{}, chainI: map[string]*nftChain{}}
	if v6 {
		g.ipX, g.addr, g.perIP, g.noLo = "ip6", "ipv6_addr", 1, "ip6 daddr != ::1"
	}
	if ips := g.family(node.IPs); len(ips) > 0 {
		g.npIPs = ips[:1] // --nodeport-addresses primary
	}
	g.setup()
	for _, p := range ports {
		g.service(p)
	}
	st := Stats{Services: len(ports), Endpoints: countEndpoints(ports), Chains: len(g.chains)}
	for _, c := range g.chains {
		st.Rules += len(c.rules)
	}
	for _, s := range g.sets {
		st.Elements += len(s.elements)
	}
	return st, g.write(w)
}

func (g *nftGen) addSet(s *nftSet) {
	g.sets = append(g.sets, s)
	g.byName[s.name] = s
}

// elem adds an element once (adding an existing element is a no-op in nft, e.g. the ClusterIP of a second port).
func (g *nftGen) elem(set, e string) {
	s := g.byName[set]
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[e] {
		return
	}
	s.seen[e] = true
	s.elements = append(s.elements, e)
}

// chain returns the named chain, creating it (and fixing its list position) on first use, like ensureChain.
func (g *nftGen) chain(name string) *nftChain {
	if c, ok := g.chainI[name]; ok {
		return c
	}
	c := &nftChain{name: name}
	g.chains = append(g.chains, c)
	g.chainI[name] = c
	return c
}

func (g *nftGen) rule(chain string, r string) { c := g.chain(chain); c.rules = append(c.rules, r) }

// baseChains are nftablesBaseChains with the hook line nft prints for them.
func (g *nftGen) baseChains() [][2]string {
	if g.ver == V132 {
		return [][2]string{
			{"filter-prerouting", "type filter hook prerouting priority dstnat - 10; policy accept;"},
			{"filter-input", "type filter hook input priority -110; policy accept;"},
			{"filter-forward", "type filter hook forward priority -110; policy accept;"},
			{"filter-output", "type filter hook output priority -110; policy accept;"},
			{"filter-output-post-dnat", "type filter hook output priority -90; policy accept;"},
			{"nat-prerouting", "type nat hook prerouting priority dstnat; policy accept;"},
			{"nat-output", "type nat hook output priority -100; policy accept;"},
			{"nat-postrouting", "type nat hook postrouting priority srcnat; policy accept;"},
		}
	}
	return [][2]string{
		{"filter-prerouting-pre-dnat", "type filter hook prerouting priority dstnat - 10; policy accept;"},
		{"filter-output-pre-dnat", "type filter hook output priority -110; policy accept;"},
		{"filter-input", "type filter hook input priority filter; policy accept;"},
		{"filter-forward", "type filter hook forward priority filter; policy accept;"},
		{"filter-output", "type filter hook output priority filter; policy accept;"},
		{"nat-prerouting", "type nat hook prerouting priority dstnat; policy accept;"},
		{"nat-output", "type nat hook output priority -100; policy accept;"},
		{"nat-postrouting", "type nat hook postrouting priority srcnat; policy accept;"},
	}
}

// jumps are nftablesJumpChains: {destination, source, prefix}.
func (g *nftGen) jumps() [][3]string {
	pre, outPre, outPost := "filter-prerouting-pre-dnat", "filter-output-pre-dnat", "filter-output"
	if g.ver == V132 {
		pre, outPre, outPost = "filter-prerouting", "filter-output", "filter-output-post-dnat"
	}
	return [][3]string{
		{"nodeport-endpoints-check", "filter-input", "ct state new "},
		{"service-endpoints-check", "filter-input", "ct state new "},
		{"service-endpoints-check", "filter-forward", "ct state new "},
		{"service-endpoints-check", "filter-output", "ct state new "},
		{"firewall-check", pre, "ct state new "},
		{"firewall-check", outPre, "ct state new "},
		{"services", "nat-output", ""},
		{"services", "nat-prerouting", ""},
		{"masquerading", "nat-postrouting", ""},
		{"cluster-ips-check", "filter-forward", "ct state new "},
		{"cluster-ips-check", outPost, "ct state new "},
	}
}

// setup is setupNFTables: base chains, jump chains, the fixed rules, sets and maps.
func (g *nftGen) setup() {
	for _, bc := range g.baseChains() {
		g.chain(bc[0]).base = bc[1]
	}
	for _, j := range g.jumps() {
		g.chain(j[0])
		g.rule(j[1], j[2]+"jump "+j[0])
	}
	for _, c := range []string{"services", "cluster-ips-check", "masquerading", "mark-for-masquerade"} {
		g.chain(c)
	}
	g.rule("mark-for-masquerade", "meta mark set meta mark | 0x00004000")
	g.rule("masquerading", "meta mark & 0x00004000 == 0x00000000 return")
	g.rule("masquerading", "meta mark set meta mark ^ 0x00004000")
	g.rule("masquerading", "masquerade fully-random")
	g.addSet(&nftSet{kind: "set", name: "cluster-ips", typ: g.addr, comment: "Active ClusterIPs", perLine: g.perIP})
	g.rule("cluster-ips-check", g.ipX+` daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`)
	if cidrs := g.prefixStrings(g.node.ServiceCIDRs); g.ver != V132 && len(cidrs) > 0 {
		g.rule("cluster-ips-check", g.ipX+" daddr "+anonSet(cidrs)+` drop comment "Drop traffic to unallocated ClusterIPs"`)
	}
	if len(g.npIPs) > 0 {
		g.addSet(&nftSet{kind: "set", name: "nodeport-ips", typ: g.addr, comment: "IPs that accept NodePort traffic", perLine: g.perIP})
		g.elem("nodeport-ips", g.npIPs[0].String())
	}
	concat := g.addr + " . inet_proto . inet_service : verdict"
	g.addSet(&nftSet{kind: "map", name: "no-endpoint-services", typ: concat, comment: "vmap to drop or reject packets to services with no endpoints", perLine: 1})
	g.addSet(&nftSet{kind: "map", name: "no-endpoint-nodeports", typ: "inet_proto . inet_service : verdict", comment: "vmap to drop or reject packets to service nodeports with no endpoints", perLine: 1})
	g.chain("reject-chain").comment = "helper for @no-endpoint-services / @no-endpoint-nodeports"
	g.rule("reject-chain", "reject")
	g.rule("service-endpoints-check", g.ipX+" daddr . meta l4proto . th dport vmap @no-endpoint-services")
	g.rule("nodeport-endpoints-check", g.nodePortMatch(false)+" meta l4proto . th dport vmap @no-endpoint-nodeports")
	g.addSet(&nftSet{kind: "map", name: "firewall-ips", typ: concat, comment: "destinations that are subject to LoadBalancerSourceRanges", perLine: 1})
	g.rule("firewall-check", g.ipX+" daddr . meta l4proto . th dport vmap @firewall-ips")
	g.addSet(&nftSet{kind: "map", name: "service-ips", typ: concat, comment: "ClusterIP, ExternalIP and LoadBalancer IP traffic", perLine: 1})
	g.addSet(&nftSet{kind: "map", name: "service-nodeports", typ: "inet_proto . inet_service : verdict", comment: "NodePort traffic", perLine: 1})
	g.rule("services", g.ipX+" daddr . meta l4proto . th dport vmap @service-ips")
	g.rule("services", g.nodePortMatch(true)+" meta l4proto . th dport vmap @service-nodeports")
}

// nodePortMatch is the destination match for NodePorts: set nodeport-ips, or (no node IP of this family) every
// local address but loopback, which the services chain checks with fib.
func (g *nftGen) nodePortMatch(fib bool) string {
	if len(g.npIPs) > 0 {
		return g.ipX + " daddr @nodeport-ips"
	}
	if fib {
		return "fib daddr type local " + g.noLo
	}
	return g.noLo
}

func (g *nftGen) prefixStrings(ps []netip.Prefix) []string {
	var out []string
	for _, p := range ps {
		if p.Addr().Is6() == g.v6 {
			out = append(out, p.Masked().String())
		}
	}
	return out
}

// family keeps the addresses of the generator's family.
func (g *nftGen) family(in []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range in {
		if a.Is6() == g.v6 {
			out = append(out, a)
		}
	}
	return out
}

// anonSet is how nft prints an anonymous set: a lone element without braces (nft folds one-element sets).
func anonSet(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return "{ " + strings.Join(items, ", ") + " }"
}

// nftPortNames are the per-service chain names of one svcPort.
type nftPortNames struct{ svc, local, ext, fw string }

func (p *svcPort) nftNames() nftPortNames {
	return nftPortNames{"service-" + p.nbase, "local-" + p.nbase, "external-" + p.nbase, "firewall-" + p.nbase}
}

// service is the per-service part of syncProxyRules in nftables mode.
func (g *nftGen) service(p *svcPort) {
	pol := p.policy()
	n := p.nftNames()
	for _, ep := range pol.reachable {
		g.chain("endpoint-" + ep.nbase)
	}
	if pol.usesCluster && len(pol.cluster) > 0 {
		g.chain(n.svc)
	}
	if pol.usesLocal && len(pol.local) > 0 {
		g.chain(n.local)
	}
	usesExt := pol.hasEndpoints && pol.externallyAccessible
	if usesExt {
		g.chain(n.ext)
	}
	internal, external := n.svc, n.svc
	if pol.internalLocal {
		internal = n.local
	}
	if pol.externalLocal {
		external = n.local
	}
	usesFW := len(p.svc.lbVIPs()) > 0 && len(p.svc.LoadBalancerSourceRanges) > 0
	if usesFW {
		g.chain(n.fw)
	}
	g.elements(p, pol, n, internal, usesFW)
	g.serviceRules(p, pol, n, internal, external, usesExt, usesFW)
}

// verdicts are the no-endpoint verdicts: goto reject-chain without endpoints, drop without local ones.
func verdicts(pol policy) (internal, external string) {
	if !pol.hasEndpoints {
		return "goto reject-chain", "goto reject-chain"
	}
	if !pol.hasInternal {
		internal = "drop"
	}
	if !pol.hasExternal {
		external = "drop"
	}
	return internal, external
}

// elements fills cluster-ips, service-ips, no-endpoint-*, firewall-ips and service-nodeports for one port.
func (g *nftGen) elements(p *svcPort, pol policy, n nftPortNames, internal string, usesFW bool) {
	key := func(ip netip.Addr) string { return ip.String() + " . " + p.proto + " . " + strconv.Itoa(p.port.Port) }
	cmt := " comment " + quote(p.name)
	intV, extV := verdicts(pol)
	g.elem("cluster-ips", p.svc.ClusterIP.String())
	if pol.hasInternal {
		g.elem("service-ips", key(p.svc.ClusterIP)+" : goto "+internal)
	} else {
		g.elem("no-endpoint-services", key(p.svc.ClusterIP)+cmt+" : "+intV)
	}
	for _, ip := range g.family(p.svc.ExternalIPs) {
		if pol.hasEndpoints {
			g.elem("service-ips", key(ip)+" : goto "+n.ext)
		}
		if !pol.hasExternal {
			g.elem("no-endpoint-services", key(ip)+cmt+" : "+extV)
		}
	}
	vips := g.family(p.svc.lbVIPs())
	for _, ip := range vips {
		if pol.hasEndpoints {
			g.elem("service-ips", key(ip)+" : goto "+n.ext)
		}
		if usesFW {
			g.elem("firewall-ips", key(ip)+" : goto "+n.fw)
		}
	}
	if !pol.hasExternal {
		for _, ip := range vips {
			g.elem("no-endpoint-services", key(ip)+cmt+" : "+extV)
		}
	}
	if np := p.nodePort(); np != 0 {
		if pol.hasEndpoints {
			g.elem("service-nodeports", p.proto+" . "+strconv.Itoa(np)+" : goto "+n.ext)
		}
		if !pol.hasExternal {
			g.elem("no-endpoint-nodeports", p.proto+" . "+strconv.Itoa(np)+cmt+" : "+extV)
		}
	}
}

// serviceRules writes the masquerade, external, firewall, dispatch and endpoint rules of one port.
func (g *nftGen) serviceRules(p *svcPort, pol policy, n nftPortNames, internal, external string, usesExt, usesFW bool) {
	detect := g.node.ClusterCIDR.IsValid() && g.node.ClusterCIDR.Addr().Is6() == g.v6
	cidr := g.node.ClusterCIDR.Masked().String()
	if pol.hasInternal {
		match := g.ipX + " daddr " + p.svc.ClusterIP.String()
		if g.ver == V132 {
			match += " " + p.proto + " dport " + strconv.Itoa(p.port.Port)
		}
		switch {
		case g.node.MasqueradeAll:
			g.rule(internal, match+" jump mark-for-masquerade")
		case detect:
			g.rule(internal, match+" "+g.ipX+" saddr != "+cidr+" jump mark-for-masquerade")
		}
	}
	if usesExt {
		g.externalRules(p, pol, n, external, detect, cidr)
	}
	if usesFW {
		g.firewallRule(p, n)
	}
	if p.svc.SessionAffinity {
		for _, ep := range pol.reachable {
			g.addSet(&nftSet{kind: "set", name: "affinity-" + ep.nbase, typ: g.addr, perLine: g.perIP,
				extra: []string{"size 65535", "flags dynamic,timeout", "timeout " + nftDuration(p.svc.affinitySeconds())}})
		}
	}
	if pol.usesCluster && len(pol.cluster) > 0 {
		g.dispatch(p, n.svc, pol.cluster)
	}
	if pol.usesLocal && len(pol.local) > 0 {
		g.dispatch(p, n.local, pol.local)
	}
	for _, ep := range pol.reachable {
		c := "endpoint-" + ep.nbase
		g.rule(c, g.ipX+" saddr "+ep.addr.Addr().String()+" jump mark-for-masquerade")
		if p.svc.SessionAffinity {
			g.rule(c, "update @affinity-"+ep.nbase+" { "+g.ipX+" saddr }")
		}
		g.rule(c, "meta l4proto "+p.proto+" dnat to "+ep.str)
	}
}

func (g *nftGen) externalRules(p *svcPort, pol policy, n nftPortNames, external string, detect bool, cidr string) {
	if !pol.externalLocal {
		g.rule(n.ext, "jump mark-for-masquerade")
	} else {
		if detect {
			g.rule(n.ext, g.ipX+" saddr "+cidr+" goto "+n.svc+` comment "short-circuit pod traffic"`)
		}
		g.rule(n.ext, `fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`)
		g.rule(n.ext, "fib saddr type local goto "+n.svc+` comment "short-circuit local traffic"`)
	}
	if pol.hasExternal {
		g.rule(n.ext, "goto "+external)
	}
}

// firewallRule drops sources outside loadBalancerSourceRanges (plus the LB IPs if a range holds the node IP).
func (g *nftGen) firewallRule(p *svcPort, n nftPortNames) {
	var src []string
	allowNode := false
	for _, r := range p.svc.LoadBalancerSourceRanges {
		if r.Addr().Is6() != g.v6 {
			continue
		}
		src = append(src, r.Masked().String())
		if nip := g.family(g.node.IPs); len(nip) > 0 && r.Contains(nip[0]) {
			allowNode = true
		}
	}
	if allowNode {
		for _, ip := range g.family(p.svc.lbVIPs()) {
			src = append(src, ip.String())
		}
	}
	g.rule(n.fw, g.ipX+" saddr != "+anonSet(src)+" drop")
}

// dispatch is writeServiceToEndpointRules: affinity lookups, then `numgen random mod N vmap { i : goto … }`.
func (g *nftGen) dispatch(p *svcPort, chain string, eps []epInfo) {
	if p.svc.SessionAffinity {
		for _, ep := range eps {
			g.rule(chain, g.ipX+" saddr @affinity-"+ep.nbase+" goto endpoint-"+ep.nbase)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "numgen random mod %d vmap { ", len(eps))
	for i, ep := range eps {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d : goto endpoint-%s", i, ep.nbase)
	}
	b.WriteString(" }")
	g.rule(chain, b.String())
}

// nftDuration prints seconds as nft prints a time value (e.g. 3h, 1d2h3m4s).
func nftDuration(secs int) string {
	if secs == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		n int
		s string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}} {
		if secs >= u.n {
			fmt.Fprintf(&b, "%d%s", secs/u.n, u.s)
			secs %= u.n
		}
	}
	return b.String()
}

// write prints the table in `nft list ruleset` layout: tabs, a blank line between blocks.
func (g *nftGen) write(out io.Writer) error {
	w := bufio.NewWriterSize(out, 1<<20)
	fmt.Fprintf(w, "table %s kube-proxy {\n\tcomment \"rules for kube-proxy\"\n", g.ipX)
	first := true
	sep := func() {
		if !first {
			w.WriteString("\n")
		}
		first = false
	}
	for _, s := range g.sets {
		sep()
		s.write(w)
	}
	for _, c := range g.chains {
		sep()
		c.write(w)
	}
	w.WriteString("}\n")
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write ruleset: %w", err)
	}
	return nil
}

func (s *nftSet) write(w *bufio.Writer) {
	fmt.Fprintf(w, "\t%s %s {\n\t\ttype %s\n", s.kind, s.name, s.typ)
	for _, e := range s.extra {
		fmt.Fprintf(w, "\t\t%s\n", e)
	}
	if s.comment != "" {
		fmt.Fprintf(w, "\t\tcomment %s\n", quote(s.comment))
	}
	if len(s.elements) > 0 {
		w.WriteString("\t\telements = { ")
		for i, e := range s.elements {
			if i > 0 {
				if i%s.perLine == 0 {
					w.WriteString(",\n\t\t\t     ")
				} else {
					w.WriteString(", ")
				}
			}
			w.WriteString(e)
		}
		w.WriteString(" }\n")
	}
	w.WriteString("\t}\n")
}

func (c *nftChain) write(w *bufio.Writer) {
	fmt.Fprintf(w, "\tchain %s {\n", c.name)
	if c.base != "" {
		fmt.Fprintf(w, "\t\t%s\n", c.base)
	}
	if c.comment != "" {
		fmt.Fprintf(w, "\t\tcomment %s\n", quote(c.comment))
	}
	for _, r := range c.rules {
		fmt.Fprintf(w, "\t\t%s\n", r)
	}
	w.WriteString("\t}\n")
}
