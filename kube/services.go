package kube

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/exposure-audit/exposure/exposure"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// reportIndex finds the forwarded exposures of a report by port.
type reportIndex struct {
	// fwd: "proto/port" and "addr/proto/port" → forwarded exposures.
	fwd map[string][]*exposure.Exposure
	// protos and addrs the report analysed ("tcp", "192.0.2.2/tcp").
	protos map[string]bool
	addrs  map[string]bool
}

// maxRangeIndexed bounds how many ports of one forwarded range are indexed
// (Service ports are single ports; a wide DNAT range is not a Service's).
const maxRangeIndexed = 64

func newReportIndex(rep *exposure.Report) *reportIndex {
	ri := &reportIndex{fwd: map[string][]*exposure.Exposure{}, protos: map[string]bool{}, addrs: map[string]bool{}}
	if rep == nil {
		return ri
	}
	for i := range rep.Exposures {
		e := &rep.Exposures[i]
		ri.protos[e.Proto] = true
		ri.addrs[addrKey(e.Addr)+"/"+e.Proto] = true
		if e.State != exposure.Forwarded || e.PortTo-e.PortFrom >= maxRangeIndexed {
			continue
		}
		for p := e.PortFrom; p <= e.PortTo; p++ {
			k := e.Proto + "/" + strconv.Itoa(p)
			ri.fwd[k] = append(ri.fwd[k], e)
			ri.fwd[addrKey(e.Addr)+"/"+k] = append(ri.fwd[addrKey(e.Addr)+"/"+k], e)
		}
	}
	return ri
}

// forwardedTo reports whether an exposure under key is forwarded for
// Service s (its owner names s, or it is an OVN-Kubernetes DNAT, whose
// rules name no Service).
func (ri *reportIndex) forwardedTo(key string, s *corev1.Service) bool {
	for _, e := range ri.fwd[key] {
		o := e.Owner
		if o.Kind == exposure.KindService && o.Namespace == s.Namespace && o.Name == s.Name || o.Component == exposure.CompOVNK {
			return true
		}
	}
	return false
}

// services checks every proxied Service: external ports programmed,
// DNAT targets against endpoints, source ranges.
func (r *reconciler) services() {
	rep := newReportIndex(r.in.Report)
	for _, s := range r.ix.services {
		if !proxied(s) {
			continue
		}
		var missing, mismatch []string
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			missing = append(missing, r.unprogrammed(rep, s, sp)...)
			mismatch = append(mismatch, r.endpointDiff(s, sp)...)
		}
		if len(missing) > 0 {
			r.add(ServiceNotProgrammed, High, serviceRef(s), fmt.Sprintf("Service %s/%s has ready endpoints but no DNAT for %s on node %s", s.Namespace, s.Name, plural(len(missing), "external port"), r.in.Node), missing)
		}
		if len(mismatch) > 0 {
			r.add(EndpointsMismatch, Medium, serviceRef(s), fmt.Sprintf("DNAT targets of Service %s/%s disagree with its EndpointSlices", s.Namespace, s.Name), mismatch)
		}
		r.sourceRanges(s)
	}
}

// unprogrammed lists the external ports of a Service port that should
// forward (usable endpoints from this node) and do not. The exposure map
// decides where it analysed the address and protocol (a DNAT path the
// kernel takes); elsewhere the rules do.
func (r *reconciler) unprogrammed(rep *reportIndex, s *corev1.Service, sp *corev1.ServicePort) []string {
	eps := r.ix.externalEndpoints(s, sp, r.in.Node)
	if eps == 0 {
		return nil
	}
	proto := strings.ToLower(string(cmpProto(sp.Protocol)))
	rules := r.rules.svcs[svcKey{s.Namespace, s.Name, sp.Name}]
	var out []string
	if np := int(sp.NodePort); np != 0 && (s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer) {
		key := proto + "/" + strconv.Itoa(np)
		ok := rules != nil && rules.nodePorts[key] != "" || r.rules.ovnNodePorts[key] != ""
		if rep.protos[proto] {
			ok = rep.forwardedTo(key, s)
		}
		if !ok {
			out = append(out, fmt.Sprintf("nodePort %s/%d (port %s, %s): no DNAT", proto, np, portName(sp), plural(eps, "ready endpoint")))
		}
	}
	dests := func(ips []string, via exposure.Via) {
		for _, ip := range ips {
			key := addrKey(ip) + "/" + proto + "/" + strconv.Itoa(int(sp.Port))
			ok := rules != nil && rules.dests[key] != "" || r.rules.ovnDests[key] != ""
			if rep.addrs[addrKey(ip)+"/"+proto] {
				ok = rep.forwardedTo(key, s)
			}
			if !ok {
				out = append(out, fmt.Sprintf("%s %s %s:%d (port %s, %s): no DNAT", via, proto, ip, sp.Port, portName(sp), plural(eps, "ready endpoint")))
			}
		}
	}
	dests(s.Spec.ExternalIPs, exposure.ViaExternalIP)
	dests(lbIPs(s), exposure.ViaLoadBalancer)
	return out
}

// endpointDiff compares the DNAT targets of a Service port's rules with
// its usable endpoints (of the families the rules program), and, under
// externalTrafficPolicy Local, the Local path's targets with this node's
// endpoints. A Service port without per-Service NAT chains is not compared
// (see service-not-programmed): after `iptables -t nat -F` only filter
// rules name it.
func (r *reconciler) endpointDiff(s *corev1.Service, sp *corev1.ServicePort) []string {
	rules := r.rules.svcs[svcKey{s.Namespace, s.Name, sp.Name}]
	if rules == nil || !rules.proxied {
		return nil
	}
	eps := r.ix.endpoints(s, sp)
	want := make(map[netip.AddrPort]string, len(eps))
	local := map[netip.AddrPort]string{}
	for _, e := range eps {
		if !r.rules.familyProgrammed(e.Addr) {
			continue
		}
		k := netip.AddrPortFrom(e.Addr, uint16(e.Port))
		want[k] = e.Node
		if e.Node == r.in.Node {
			local[k] = e.Node
		}
	}
	label := portName(sp)
	var out []string
	if !sameKeys(want, rules.targets) {
		out = diffTargets(label, "", want, rules.targets)
	}
	if localPolicy(s) && rules.hasLocal && !sameKeys(local, rules.local) {
		out = append(out, diffTargets(label, "local path ", local, rules.local)...)
	}
	return out
}

// sameKeys reports whether two maps have the same keys.
func sameKeys(a, b map[netip.AddrPort]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// diffTargets lists missing, extra and wrong-port targets: want maps
// addr:port to the endpoint's node, got to the chain of the DNAT.
func diffTargets(port, path string, want, got map[netip.AddrPort]string) []string {
	var out []string
	byAddr := map[netip.Addr][]netip.AddrPort{}
	for _, g := range sortedAddrPorts(got) {
		if _, ok := want[g]; !ok {
			byAddr[g.Addr()] = append(byAddr[g.Addr()], g)
		}
	}
	used := map[netip.AddrPort]bool{}
	for _, k := range sortedAddrPorts(want) {
		if _, ok := got[k]; ok {
			continue
		}
		if gs := byAddr[k.Addr()]; len(gs) > 0 {
			g := gs[0]
			byAddr[k.Addr()], used[g] = gs[1:], true
			out = append(out, fmt.Sprintf("port %s: %swrong port: %s DNATs to %s, the EndpointSlice says %s", port, path, got[g], g, k))
			continue
		}
		out = append(out, fmt.Sprintf("port %s: %smissing endpoint %s (ready, node %q): no DNAT to it", port, path, k, want[k]))
	}
	for _, g := range sortedAddrPorts(got) {
		if _, ok := want[g]; !ok && !used[g] {
			out = append(out, fmt.Sprintf("port %s: %sextra DNAT to %s (%s): no ready endpoint there", port, path, g, got[g]))
		}
	}
	return out
}

// sortedAddrPorts returns a map's keys, sorted.
func sortedAddrPorts(m map[netip.AddrPort]string) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, netip.AddrPort.Compare)
	return out
}

// familyProgrammed reports whether the rules hold kube-proxy Service rules
// of a's family (an IPv6 endpoint is not compared with an IPv4-only dump).
func (ri *ruleIndex) familyProgrammed(a netip.Addr) bool {
	if a.Is4() {
		return ri.families[nf.FamilyIPv4] || ri.families[nf.FamilyInet]
	}
	return ri.families[nf.FamilyIPv6] || ri.families[nf.FamilyInet]
}

// staleServices reports rules naming Services (or Service ports) that do
// not exist.
func (r *reconciler) staleServices() {
	byService := map[[2]string][]string{}
	for k, s := range r.rules.svcs {
		if len(s.chains) == 0 || r.portExists(k) {
			continue
		}
		id := [2]string{k.ns, k.name}
		for _, c := range slices.Compact(slices.Sorted(slices.Values(s.chains))) {
			byService[id] = append(byService[id], k.String()+": "+c)
		}
		if more := s.nChains - len(s.chains); more > 0 {
			byService[id] = append(byService[id], fmt.Sprintf("%s: ... and %d more chains", k, more))
		}
	}
	for id, ev := range byService {
		slices.Sort(ev)
		what := "Service " + id[0] + "/" + id[1] + " does not exist"
		if r.ix.byName[id[0]+"/"+id[1]] != nil {
			what = "Service " + id[0] + "/" + id[1] + " has no such port"
		}
		r.add(StaleServiceRules, Medium, ObjectRef{Kind: exposure.KindService, Namespace: id[0], Name: id[1]},
			fmt.Sprintf("%d chains or map entries carry rules for it but %s", len(ev), what), capList(ev, 20))
	}
}

// portExists reports whether the Service port a rule names exists.
func (r *reconciler) portExists(k svcKey) bool {
	s := r.ix.byName[k.ns+"/"+k.name]
	if s == nil {
		return false
	}
	for _, sp := range s.Spec.Ports {
		if sp.Name == k.port {
			return true
		}
	}
	return false
}

// sourceRanges reports the NodePort and LoadBalancer exposures of a
// Service with loadBalancerSourceRanges that sources outside the ranges
// reach (kube-proxy filters only traffic to the LB IPs; the NodePort of
// the same Service takes every source).
func (r *reconciler) sourceRanges(s *corev1.Service) {
	ranges := parsePrefixes(sourceRanges(s))
	if len(ranges) == 0 || r.in.Report == nil {
		return
	}
	var ev []string
	for _, e := range r.serviceExposures()[s.Namespace+"/"+s.Name] {
		o := e.Owner
		if o.Via != exposure.ViaNodePort && o.Via != exposure.ViaLoadBalancer {
			continue
		}
		if out := outside(e.Sources, ranges); len(out) > 0 {
			ev = append(ev, fmt.Sprintf("%s %s %s:%d on %s %s from %s", o.Via, e.Proto, e.Addr, e.PortFrom, e.Iface, e.State, strings.Join(capList(out, 3), ", ")))
		}
	}
	if len(ev) > 0 {
		slices.Sort(ev)
		ev = slices.Compact(ev)
		r.add(SourceRangesBypassed, High, serviceRef(s), fmt.Sprintf("reachable from sources outside loadBalancerSourceRanges %s", strings.Join(sourceRanges(s), ", ")), capList(ev, 20))
	}
}

// serviceExposures indexes the open and forwarded exposures owned by a
// Service, by "namespace/name" (built on first use).
func (r *reconciler) serviceExposures() map[string][]*exposure.Exposure {
	if r.bySvc != nil {
		return r.bySvc
	}
	r.bySvc = map[string][]*exposure.Exposure{}
	for i := range r.in.Report.Exposures {
		e := &r.in.Report.Exposures[i]
		if e.Owner.Kind == exposure.KindService && (e.State == exposure.Forwarded || e.State == exposure.Open) {
			k := e.Owner.Namespace + "/" + e.Owner.Name
			r.bySvc[k] = append(r.bySvc[k], e)
		}
	}
	return r.bySvc
}

// parsePrefixes parses CIDRs, skipping bad ones.
func parsePrefixes(ss []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// outside returns the source CIDRs not inside any of ranges.
func outside(sources []string, ranges []netip.Prefix) []string {
	var out []string
	for _, src := range sources {
		p, err := netip.ParsePrefix(src)
		if err != nil {
			continue
		}
		in := false
		for _, r := range ranges {
			if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
				in = true
				break
			}
		}
		if !in {
			out = append(out, src)
		}
	}
	return out
}

// plural spells a count with its noun.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
