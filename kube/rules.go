package kube

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/exposure-audit/exposure/exposure"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// svcKey names a Service port the way kube-proxy does (ServicePortName):
// namespace, name and the port's name ("" when unnamed).
type svcKey struct{ ns, name, port string }

func (k svcKey) String() string {
	if k.port == "" {
		return k.ns + "/" + k.name
	}
	return k.ns + "/" + k.name + ":" + k.port
}

// svcRules is what a node's rules program for one Service port.
type svcRules struct {
	// chains that hold rules naming the Service port (evidence of
	// staleness; map elements count as "map NAME"): the first
	// maxChainsKept, possibly repeated, of nChains.
	chains  []string
	nChains int
	// nodePorts: "tcp/30080" → the rule or map element programming it.
	nodePorts map[string]string
	// dests: "192.0.2.3/tcp/80" → rule or element, for externalIPs and
	// LoadBalancer IPs (and, in nftables mode, ClusterIPs: the map holds
	// all three).
	dests map[string]string
	// targets: DNAT addr:port of the Service's endpoint chains → chain.
	targets map[netip.AddrPort]string
	// local: targets of the externalTrafficPolicy Local path (KUBE-SVL-*,
	// nft local-*), when such a chain exists (hasLocal); localJumps are the
	// endpoint chains that path jumps to, resolved into local at the end.
	local      map[netip.AddrPort]string
	localJumps []localJump
	hasLocal   bool
	// proxied: the Service port has per-Service chains with rules
	// (KUBE-SVC/SVL/EXT/FW/SEP-*, nft service-/external-/firewall-/local-/
	// endpoint-): kube-proxy's NAT for it is there, its DNAT targets can be
	// compared. Filter rules naming it (firewall drops, health checks, "has
	// no endpoints" rejects) do not count.
	proxied bool
	// health: healthCheckNodePort accept rules (iptables mode), by port.
	health map[string]string
}

// localJump is a jump of a Local-path chain to an endpoint chain.
type localJump struct {
	table    *nf.Table
	from, to string
}

// hostportRule is one hostport DNAT (CNI portmap, CRI-O).
type hostportRule struct {
	proto    string
	hostIP   netip.Addr // invalid: every local address
	hostPort int
	target   netip.AddrPort
	// pod named by a kubelet/CRI-O comment ("name_namespace hostport N");
	// container the sandbox/container id of a CNI comment or the hash of a
	// CRI-O nft element comment.
	podNS, podName, container string
	evidence                  string
}

// ruleIndex is what package kube reads from a node's rules.
type ruleIndex struct {
	svcs map[svcKey]*svcRules
	// allNodePorts: rules that send NodePorts of every local address to
	// kube-proxy or OVN-Kubernetes (no destination restriction).
	allNodePorts []string
	// families that hold kube-proxy Service rules.
	families map[nf.Family]bool
	// ovnNodePorts and ovnDests are OVN-Kubernetes NodePort and
	// externalIP/LB DNATs (no Service names in their rules).
	ovnNodePorts map[string]string
	ovnDests     map[string]string
	hostports    []hostportRule
	// cniIDs: CNI-DN-* chain → container id, and chainSvc: kube-proxy
	// per-Service chain → Service port, for the table being read.
	cniIDs   map[string]string
	chainSvc map[*nf.Chain]*svcRules
}

var (
	// nftChainRE reads kube-proxy nftables chain names
	// (pkg/proxy/nftables: "service-HASH-ns/name/proto/port", external-,
	// firewall-, local-, "endpoint-HASH-ns/name/proto/port__ip/port").
	nftChainRE = regexp.MustCompile(`^(service|external|firewall|local|endpoint)-[A-Z0-9]{8}-([^/]+)/([^/]+)/([^/]+)/([^_/]*)`)
	nftJumpRE  = regexp.MustCompile(`(?:goto|jump) (\S+)`)
	// hostport comments: kubelet/CRI-O "name_namespace hostport N", CNI
	// portmap `dnat name: "NET" id: "ID"`.
	hpCommentRE  = regexp.MustCompile(`^(\S+)_(\S+) hostport (\d+)`)
	cniCommentRE = regexp.MustCompile(`dnat name: "[^"]*" id: "([^"]*)"`)
)

// newRuleIndex reads the kube-proxy, OVN-Kubernetes and hostport state of
// rs (nil gives an empty index).
func newRuleIndex(rs *nf.Ruleset) *ruleIndex {
	ri := &ruleIndex{svcs: map[svcKey]*svcRules{}, families: map[nf.Family]bool{},
		ovnNodePorts: map[string]string{}, ovnDests: map[string]string{}}
	if rs == nil {
		return ri
	}
	for _, t := range rs.Tables {
		switch {
		case t.IsIptables():
			ri.iptablesTable(t)
		case t.Name == "kube-proxy":
			ri.nftKubeProxy(t)
		case t.Name == "crio-hostports":
			ri.nftCRIO(t)
		}
	}
	ri.resolveLocal(rs)
	return ri
}

// svc returns the entry of a Service port, creating it.
func (ri *ruleIndex) svc(k svcKey) *svcRules {
	s := ri.svcs[k]
	if s == nil {
		s = &svcRules{}
		ri.svcs[k] = s
	}
	return s
}

// commentService reads the Service port a kube-proxy comment names: the
// first word shaped "namespace/name" or "namespace/name:port" (DNS label
// namespace, DNS subdomain name, IANA-style port name).
func commentService(c string) (svcKey, bool) {
	for c != "" {
		word, rest, _ := strings.Cut(c, " ")
		c = rest
		if k, ok := parseServicePortName(word); ok {
			return k, true
		}
	}
	return svcKey{}, false
}

// parseServicePortName parses "namespace/name[:port]".
func parseServicePortName(w string) (svcKey, bool) {
	nsName, port, _ := strings.Cut(w, ":")
	ns, name, ok := strings.Cut(nsName, "/")
	if !ok || !dnsName(ns, false) || !dnsName(name, true) || !dnsName(port, false) && port != "" {
		return svcKey{}, false
	}
	return svcKey{ns: ns, name: name, port: port}, true
}

// dnsName reports a lower-case DNS label (dots allowed in a subdomain):
// alphanumerics and '-', starting and ending alphanumeric.
func dnsName(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case (c == '-' || dots && c == '.') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// iptablesTable reads one iptables table (kube-proxy iptables mode,
// OVN-Kubernetes, CNI portmap, CRI-O/kubelet hostports).
func (ri *ruleIndex) iptablesTable(t *nf.Table) {
	ri.cniIDs = cniChainIDs(t)
	ri.chainSvc = ri.serviceChains(t)
	for _, c := range t.Chains {
		if perServiceChain(c.Name) {
			if len(c.Rules) > 0 {
				ri.serviceChain(t, c)
			}
			continue
		}
		for _, r := range c.Rules {
			switch {
			case strings.HasPrefix(c.Name, "CNI-DN-") || strings.HasPrefix(c.Name, "KUBE-HP-") || strings.HasPrefix(c.Name, "CNI-HOSTPORT-DNAT"):
				ri.iptablesHostport(c, r)
			case strings.HasPrefix(c.Name, "OVN-KUBE-NODEPORT") || strings.HasPrefix(c.Name, "OVN-KUBE-EXTERNALIP") || strings.HasPrefix(c.Name, "OVN-KUBE-ETP"):
				ri.ovnRule(c, r)
			case strings.HasPrefix(c.Name, "KUBE-"):
				ri.kubeProxyRule(t, c, r)
			}
		}
	}
}

// serviceChain reads a kube-proxy per-Service chain (KUBE-SVC-, KUBE-SVL-,
// KUBE-EXT-, KUBE-FW-, KUBE-SEP-): its endpoint DNAT, or its jumps to
// endpoint chains on the Local path.
func (ri *ruleIndex) serviceChain(t *nf.Table, c *nf.Chain) {
	s := ri.chainSvc[c]
	if s == nil {
		return
	}
	s.addChain(c.Name)
	s.proxied = true
	ri.families[t.Family] = true
	sep, svl := strings.HasPrefix(c.Name, "KUBE-SEP-"), strings.HasPrefix(c.Name, "KUBE-SVL-")
	for _, r := range c.Rules {
		switch {
		case sep:
			if to, ok := dnatTarget(r); ok {
				put(&s.targets, to, c.Name)
			}
		case svl:
			s.hasLocal = true
			s.localJumps = append(s.localJumps, localJump{t, c.Name, r.Target()})
		}
	}
}

// put sets m[k] = v, making the map on first use.
func put[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

// kubeProxyRule reads one rule of a KUBE-* chain.
func (ri *ruleIndex) kubeProxyRule(t *nf.Table, c *nf.Chain, r *nf.Rule) {
	if c.Name == "KUBE-SERVICES" && r.Target() == "KUBE-NODEPORTS" && !dstRestricted(r) && hasRules(t.Chain("KUBE-NODEPORTS")) {
		ri.allNodePorts = append(ri.allNodePorts, ruleText(t, c, r))
	}
	k, ok := commentService(r.Comment())
	if !ok {
		return
	}
	s := ri.svc(k)
	s.addChain(c.Name)
	ri.families[t.Family] = true
	proto, port := protoPort(r)
	switch {
	case c.Name == "KUBE-NODEPORTS" && strings.Contains(r.Comment(), "health check node port"):
		put(&s.health, strconv.Itoa(port), ruleText(t, c, r))
	case c.Name == "KUBE-NODEPORTS" && t.Name == "nat" && port != 0:
		put(&s.nodePorts, proto+"/"+strconv.Itoa(port), ruleText(t, c, r))
	case c.Name == "KUBE-SERVICES" && (strings.Contains(r.Comment(), "external IP") || strings.Contains(r.Comment(), "loadbalancer IP")):
		if dst, ok := dstAddr(r); ok {
			put(&s.dests, dst.String()+"/"+proto+"/"+strconv.Itoa(port), ruleText(t, c, r))
		}
	}
}

// ovnRule reads an OVN-Kubernetes NodePort or externalIP DNAT.
func (ri *ruleIndex) ovnRule(c *nf.Chain, r *nf.Rule) {
	if _, ok := dnatTarget(r); !ok {
		return
	}
	proto, port := protoPort(r)
	key := proto + "/" + strconv.Itoa(port)
	if dst, ok := dstAddr(r); ok {
		ri.ovnDests[dst.String()+"/"+key] = ruleText(c.Table, c, r)
		return
	}
	ri.ovnNodePorts[key] = ruleText(c.Table, c, r)
	if strings.HasPrefix(c.Name, "OVN-KUBE-NODEPORT") && !dstRestricted(r) && len(ri.allNodePorts) == 0 {
		ri.allNodePorts = append(ri.allNodePorts, ruleText(c.Table, c, r))
	}
}

// iptablesHostport reads a CNI portmap or kubelet/CRI-O hostport DNAT.
func (ri *ruleIndex) iptablesHostport(c *nf.Chain, r *nf.Rule) {
	to, ok := dnatTarget(r)
	if !ok {
		return
	}
	proto, port := protoPort(r)
	h := hostportRule{proto: proto, hostPort: port, target: to, evidence: ruleText(c.Table, c, r)}
	if dst, ok := dstAddr(r); ok {
		h.hostIP = dst
	}
	if m := hpCommentRE.FindStringSubmatch(r.Comment()); m != nil {
		h.podName, h.podNS = m[1], m[2]
		h.hostPort, _ = strconv.Atoi(m[3])
	}
	if m := cniCommentRE.FindStringSubmatch(r.Comment()); m != nil {
		h.container = m[1]
	} else if id := ri.cniIDs[c.Name]; id != "" {
		h.container = id
	}
	if h.hostPort == 0 {
		return
	}
	ri.hostports = append(ri.hostports, h)
}

// cniChainIDs maps each CNI-DN-* chain to the container id of the
// CNI-HOSTPORT-DNAT rule jumping to it (portmap comments the jump, not the
// DNATs).
func cniChainIDs(t *nf.Table) map[string]string {
	out := map[string]string{}
	c := t.Chain("CNI-HOSTPORT-DNAT")
	if c == nil {
		return out
	}
	for _, r := range c.Rules {
		if m := cniCommentRE.FindStringSubmatch(r.Comment()); m != nil && strings.HasPrefix(r.Target(), "CNI-DN-") {
			out[r.Target()] = m[1]
		}
	}
	return out
}

// perServiceChain reports a kube-proxy chain that belongs to one Service
// port (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-, KUBE-SEP-).
func perServiceChain(name string) bool {
	if len(name) < 9 || name[:5] != "KUBE-" {
		return false
	}
	switch name[5:9] {
	case "SVC-", "SVL-", "EXT-", "SEP-":
		return true
	}
	return name[5:8] == "FW-"
}

// serviceChains maps kube-proxy's per-Service chains to their Service
// port: KUBE-SVC-/SVL-/EXT-/FW- chains from a comment in the chain, the
// KUBE-SEP-* chains from the KUBE-SVC-/KUBE-SVL- chain jumping to them
// (kube-proxy's large cluster mode, above 1000 endpoints, drops their
// comments), else from their own comment.
func (ri *ruleIndex) serviceChains(t *nf.Table) map[*nf.Chain]*svcRules {
	out := make(map[*nf.Chain]*svcRules, len(t.Chains))
	var seps []*nf.Chain
	for _, c := range t.Chains {
		switch {
		case strings.HasPrefix(c.Name, "KUBE-SEP-"):
			seps = append(seps, c)
		case perServiceChain(c.Name):
			if s := ri.commentedService(c); s != nil {
				out[c] = s
			}
		}
	}
	for c, s := range out {
		if !strings.HasPrefix(c.Name, "KUBE-SVC-") && !strings.HasPrefix(c.Name, "KUBE-SVL-") {
			continue
		}
		for _, r := range c.Rules {
			if sep := jumpTarget(t, r); sep != nil && strings.HasPrefix(sep.Name, "KUBE-SEP-") && out[sep] == nil {
				out[sep] = s
			}
		}
	}
	for _, c := range seps {
		if out[c] == nil {
			if s := ri.commentedService(c); s != nil {
				out[c] = s
			}
		}
	}
	return out
}

// commentedService returns the Service port the first commented rule of a
// chain names.
func (ri *ruleIndex) commentedService(c *nf.Chain) *svcRules {
	for _, r := range c.Rules {
		if k, ok := commentService(r.Comment()); ok {
			return ri.svc(k)
		}
	}
	return nil
}

// jumpTarget returns the chain a rule jumps or goes to (resolved by
// netfilter.Validate, else looked up by name).
func jumpTarget(t *nf.Table, r *nf.Rule) *nf.Chain {
	for i := len(r.Exprs) - 1; i >= 0; i-- {
		if v, ok := r.Exprs[i].(*nf.VerdictExpr); ok && (v.V.Kind == nf.VerdictJump || v.V.Kind == nf.VerdictGoto) {
			if v.V.Target != nil {
				return v.V.Target
			}
			return t.Chain(v.V.Chain)
		}
	}
	return nil
}

// addChain records a chain of the Service port (rules of a chain come in a
// row: repeats are skipped cheaply).
func (s *svcRules) addChain(name string) {
	if n := len(s.chains); n > 0 && s.chains[n-1] == name {
		return
	}
	s.nChains++
	if len(s.chains) < maxChainsKept {
		s.chains = append(s.chains, name)
	}
}

// maxChainsKept bounds the chains kept as evidence per Service port.
const maxChainsKept = 20

// hasRules reports whether a chain exists and has rules.
func hasRules(c *nf.Chain) bool { return c != nil && len(c.Rules) > 0 }

// ruleText quotes a rule for evidence: "table chain #N: text".
func ruleText(t *nf.Table, c *nf.Chain, r *nf.Rule) string {
	return fmt.Sprintf("%s %s %s #%d: %s", t.Family, t.Name, c.Name, r.Index(), r.Text)
}

// protoPort returns the rule's protocol and single destination port.
func protoPort(r *nf.Rule) (string, int) {
	proto, port := "", 0
	for _, e := range r.Exprs {
		m, ok := e.(*nf.FieldMatch)
		if !ok || m.Neg || len(m.Values) != 1 || m.Values[0].Kind != nf.ValInt || !m.Values[0].IsSingle() {
			continue
		}
		switch m.Field {
		case nf.FieldProto:
			proto = protoName(m.Values[0].Lo)
		case nf.FieldDPort:
			port = int(m.Values[0].Lo)
		}
	}
	return proto, port
}

// protoName spells an IP protocol number as Kubernetes does (lower case).
func protoName(n uint64) string {
	switch n {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 132:
		return "sctp"
	}
	return strconv.FormatUint(n, 10)
}

// dstAddr returns the single destination address a rule matches.
func dstAddr(r *nf.Rule) (netip.Addr, bool) {
	for _, e := range r.Exprs {
		m, ok := e.(*nf.FieldMatch)
		if ok && m.Field == nf.FieldDst && !m.Neg && len(m.Values) == 1 && m.Values[0].IsSingle() {
			if a := m.Values[0].AddrLo(); a.IsValid() {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// dstRestricted reports whether a rule matches only some destination
// addresses: a positive daddr comparison or set lookup (kube-proxy
// --nodeport-addresses writes one; without it, iptables mode matches
// `-m addrtype --dst-type LOCAL`, every local address).
func dstRestricted(r *nf.Rule) bool {
	for _, e := range r.Exprs {
		switch m := e.(type) {
		case *nf.FieldMatch:
			if m.Field == nf.FieldDst && !m.Neg {
				return true
			}
		case *nf.SetMatch:
			if len(m.Keys) > 0 && m.Keys[0] == nf.FieldDst && !m.Neg {
				return true
			}
		}
	}
	return false
}

// dnatTarget returns the address and port a DNAT statement of r sends to.
func dnatTarget(r *nf.Rule) (netip.AddrPort, bool) {
	for _, e := range r.Exprs {
		if s, ok := e.(*nf.NATStmt); ok && s.Kind == nf.NATDNAT && s.AddrLo().IsValid() {
			return netip.AddrPortFrom(s.AddrLo().Unmap(), s.PortLo), true
		}
	}
	return netip.AddrPort{}, false
}

// resolveLocal turns the Local-path jumps into the DNAT targets of the
// endpoint chains jumped to.
func (ri *ruleIndex) resolveLocal(rs *nf.Ruleset) {
	for _, s := range ri.svcs {
		for _, j := range s.localJumps {
			c := j.table.Chain(j.to)
			if c == nil {
				continue
			}
			for _, r := range c.Rules {
				if to, ok := dnatTarget(r); ok {
					put(&s.local, to, j.from)
				}
			}
		}
	}
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// viaOfComment reads how a kube-proxy KUBE-SERVICES rule exposes.
func viaOfComment(c string) exposure.Via {
	switch {
	case strings.Contains(c, "external IP"):
		return exposure.ViaExternalIP
	case strings.Contains(c, "loadbalancer IP"):
		return exposure.ViaLoadBalancer
	}
	return ""
}
