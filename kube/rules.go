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
	// staleness); map elements count as "map NAME".
	chains map[string]bool
	// nodePorts: "tcp/30080" → the rule or map element programming it.
	nodePorts map[string]string
	// dests: "192.0.2.3/tcp/80" → rule or element, for externalIPs and
	// LoadBalancer IPs (and, in nftables mode, ClusterIPs: the map holds
	// all three).
	dests map[string]string
	// targets: DNAT "addr:port" of the Service's endpoint chains → chain.
	targets map[string]string
	// local: targets of the externalTrafficPolicy Local path (KUBE-SVL-*,
	// nft local-*), when such a chain exists (hasLocal).
	local    map[string]string
	hasLocal bool
	// health: healthCheckNodePort accept rules (iptables mode).
	health map[int]string
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
	chainSvc map[string]svcKey
}

var (
	// svcCommentRE finds a ServicePortName in a kube-proxy comment
	// ("ns/name:port", "masquerade traffic for ns/name:port external
	// destinations", "other traffic to ns/name:port will be dropped").
	svcCommentRE = regexp.MustCompile(`(?:^|\s)([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(:([-a-z0-9]*))?(\s|$)`)
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
		s = &svcRules{chains: map[string]bool{}, nodePorts: map[string]string{}, dests: map[string]string{},
			targets: map[string]string{}, local: map[string]string{}, health: map[int]string{}}
		ri.svcs[k] = s
	}
	return s
}

// commentService reads the Service port a kube-proxy comment names.
func commentService(c string) (svcKey, bool) {
	m := svcCommentRE.FindStringSubmatch(c)
	if m == nil {
		return svcKey{}, false
	}
	return svcKey{ns: m[1], name: m[3], port: m[6]}, true
}

// iptablesTable reads one iptables table (kube-proxy iptables mode,
// OVN-Kubernetes, CNI portmap, CRI-O/kubelet hostports).
func (ri *ruleIndex) iptablesTable(t *nf.Table) {
	ri.cniIDs = cniChainIDs(t)
	ri.chainSvc = serviceChains(t)
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			switch {
			case strings.HasPrefix(c.Name, "CNI-DN-") || strings.HasPrefix(c.Name, "KUBE-HP-") || strings.HasPrefix(c.Name, "CNI-HOSTPORT-DNAT"):
				ri.iptablesHostport(c, r)
			case strings.HasPrefix(c.Name, "OVN-KUBE-NODEPORT") || strings.HasPrefix(c.Name, "OVN-KUBE-EXTERNALIP"):
				ri.ovnRule(c, r)
			case strings.HasPrefix(c.Name, "KUBE-"):
				ri.kubeProxyRule(t, c, r)
			}
		}
	}
}

// kubeProxyRule reads one rule of a KUBE-* chain.
func (ri *ruleIndex) kubeProxyRule(t *nf.Table, c *nf.Chain, r *nf.Rule) {
	if c.Name == "KUBE-SERVICES" && r.Target == "KUBE-NODEPORTS" && !dstRestricted(r) && hasRules(t.Chain("KUBE-NODEPORTS")) {
		ri.allNodePorts = append(ri.allNodePorts, ruleText(t, c, r))
	}
	k, ok := commentService(r.Comment)
	if !ok {
		k, ok = ri.chainSvc[c.Name]
	}
	if !ok {
		return
	}
	s := ri.svc(k)
	s.chains[c.Name] = true
	ri.families[t.Family] = true
	proto, port := protoPort(r)
	switch {
	case c.Name == "KUBE-NODEPORTS" && strings.Contains(r.Comment, "health check node port"):
		s.health[port] = ruleText(t, c, r)
	case c.Name == "KUBE-NODEPORTS" && t.Name == "nat" && port != 0:
		s.nodePorts[proto+"/"+strconv.Itoa(port)] = ruleText(t, c, r)
	case c.Name == "KUBE-SERVICES" && (strings.Contains(r.Comment, "external IP") || strings.Contains(r.Comment, "loadbalancer IP")):
		if dst, ok := dstAddr(r); ok {
			s.dests[dst.String()+"/"+proto+"/"+strconv.Itoa(port)] = ruleText(t, c, r)
		}
	case strings.HasPrefix(c.Name, "KUBE-SEP-"):
		if to, ok := dnatTarget(r); ok {
			s.targets[to.String()] = c.Name
		}
	case strings.HasPrefix(c.Name, "KUBE-SVL-"):
		s.hasLocal = true
		s.local["chain:"+r.Target] = c.Name
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
	if m := hpCommentRE.FindStringSubmatch(r.Comment); m != nil {
		h.podName, h.podNS = m[1], m[2]
		h.hostPort, _ = strconv.Atoi(m[3])
	}
	if m := cniCommentRE.FindStringSubmatch(r.Comment); m != nil {
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
		if m := cniCommentRE.FindStringSubmatch(r.Comment); m != nil && strings.HasPrefix(r.Target, "CNI-DN-") {
			out[r.Target] = m[1]
		}
	}
	return out
}

// perServiceChain reports a kube-proxy chain that belongs to one Service
// port.
func perServiceChain(name string) bool {
	for _, p := range []string{"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// serviceChains maps kube-proxy's per-Service chains to their Service
// port: from a comment in the chain, and for KUBE-SEP-* chains without
// comments (kube-proxy's large cluster mode, above 1000 endpoints, drops
// the per-endpoint comments) from the KUBE-SVC-/KUBE-SVL- chain jumping to
// them.
func serviceChains(t *nf.Table) map[string]svcKey {
	out := map[string]svcKey{}
	for _, c := range t.Chains {
		if !perServiceChain(c.Name) {
			continue
		}
		for _, r := range c.Rules {
			if k, ok := commentService(r.Comment); ok {
				out[c.Name] = k
				break
			}
		}
	}
	for _, c := range t.Chains {
		k, ok := out[c.Name]
		if !ok || !strings.HasPrefix(c.Name, "KUBE-SVC-") && !strings.HasPrefix(c.Name, "KUBE-SVL-") {
			continue
		}
		for _, r := range c.Rules {
			if _, known := out[r.Target]; strings.HasPrefix(r.Target, "KUBE-SEP-") && !known {
				out[r.Target] = k
			}
		}
	}
	return out
}

// hasRules reports whether a chain exists and has rules.
func hasRules(c *nf.Chain) bool { return c != nil && len(c.Rules) > 0 }

// ruleText quotes a rule for evidence: "table chain #N: text".
func ruleText(t *nf.Table, c *nf.Chain, r *nf.Rule) string {
	return fmt.Sprintf("%s %s %s #%d: %s", t.Family, t.Name, c.Name, r.Index, r.Text)
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
		if ok && m.Field == nf.FieldDst && !m.Neg && len(m.Values) == 1 && m.Values[0].AddrLo.IsValid() && m.Values[0].AddrLo == m.Values[0].AddrHi {
			return m.Values[0].AddrLo, true
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
		if s, ok := e.(*nf.NATStmt); ok && s.Kind == nf.NATDNAT && s.AddrLo.IsValid() {
			return netip.AddrPortFrom(s.AddrLo.Unmap(), s.PortLo), true
		}
	}
	return netip.AddrPort{}, false
}

// resolveLocal turns the Local-path jumps ("chain:NAME") into the DNAT
// targets of the chains named.
func (ri *ruleIndex) resolveLocal(rs *nf.Ruleset) {
	targetOf := map[string]string{}
	for _, s := range ri.svcs {
		for to, ch := range s.targets {
			targetOf[ch] = to
		}
	}
	for _, s := range ri.svcs {
		for k, ch := range s.local {
			if !strings.HasPrefix(k, "chain:") {
				continue
			}
			delete(s.local, k)
			if to, ok := targetOf[strings.TrimPrefix(k, "chain:")]; ok {
				s.local[to] = ch
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
