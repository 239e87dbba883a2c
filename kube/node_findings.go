package kube

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/exposure-audit/exposure/exposure"
)

// nodePortsAll reports kube-proxy (or OVN-Kubernetes) accepting NodePorts
// on every local address: iptables mode's KUBE-SERVICES jump to
// KUBE-NODEPORTS on `-m addrtype --dst-type LOCAL` (no
// --nodeport-addresses), an nftables-mode @service-nodeports lookup with no
// daddr restriction, OVN-KUBE-NODEPORT DNATs without a destination. Only
// when some Service has a nodePort.
func (r *reconciler) nodePortsAll() {
	if len(r.rules.allNodePorts) == 0 || !r.anyNodePort() {
		return
	}
	ev := slices.Clone(r.rules.allNodePorts)
	if addrs := r.localAddrs(); len(addrs) > 0 {
		ev = append(ev, "local addresses: "+strings.Join(addrs, ", "))
	}
	r.add(NodePortOnAllInterfaces, Low, ObjectRef{Kind: "Node", Name: r.in.Node},
		"NodePorts are accepted on every local address (kube-proxy without --nodeport-addresses)", ev)
}

// anyNodePort reports whether a Service has a nodePort.
func (r *reconciler) anyNodePort() bool {
	for _, s := range r.ix.services {
		for _, sp := range s.Spec.Ports {
			if sp.NodePort != 0 && proxied(s) {
				return true
			}
		}
	}
	return false
}

// localAddrs lists the node's non-loopback local addresses, sorted.
func (r *reconciler) localAddrs() []string {
	if r.in.Env == nil {
		return nil
	}
	var as []netip.Addr
	for a := range r.in.Env.Local {
		if !a.IsLoopback() {
			as = append(as, a)
		}
	}
	slices.SortFunc(as, netip.Addr.Compare)
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// knownComponents explain a port without a Kubernetes object: their
// rules are their intent (Docker/Podman published ports, Calico, firewalld
// openings, CNI portmap and CRI-O hostports of pods not in the inventory).
var knownComponents = map[string]bool{
	exposure.CompKubeProxy: true, exposure.CompOVNK: true, exposure.CompCNIPortmap: true, exposure.CompCRIO: true,
	exposure.CompDocker: true, exposure.CompPodman: true, exposure.CompCalico: true, exposure.CompFirewalld: true,
}

// unowned reports open or forwarded TCP/UDP/SCTP ports that nothing
// explains: a DNAT in a chain no known component writes (unattributed),
// or a host socket with no process, container or pod behind it. A host
// process listening is its own explanation (the host's intent), and ICMP
// echo is the kernel's.
func (r *reconciler) unowned() {
	if r.in.Report == nil {
		return
	}
	seen := map[string]bool{}
	for i := range r.in.Report.Exposures {
		e := &r.in.Report.Exposures[i]
		if e.State != exposure.Open && e.State != exposure.Forwarded || e.Proto == "icmp" || !unexplained(e) {
			continue
		}
		name := fmt.Sprintf("%s/%s:%s", e.Proto, e.Addr, portsText(e))
		if seen[name] {
			continue
		}
		seen[name] = true
		r.add(UnownedExposure, Medium, ObjectRef{Name: name}, fmt.Sprintf("%s %s %s:%s: no Kubernetes object or known component explains it", e.State, e.Proto, e.Addr, portsText(e)), unownedEvidence(e))
	}
}

// unexplained reports an exposure no object, component or process owns.
func unexplained(e *exposure.Exposure) bool {
	o := e.Owner
	switch {
	case o.Kind != "" || knownComponents[o.Component]:
		return false
	case o.Component == exposure.CompUnattributed:
		return true
	}
	l := e.Listener
	return e.State == exposure.Open && l.PID == 0 && l.Process == "" && l.Container == "" && l.PodUID == ""
}

func portsText(e *exposure.Exposure) string {
	if e.PortFrom == e.PortTo {
		return fmt.Sprint(e.PortFrom)
	}
	return fmt.Sprintf("%d-%d", e.PortFrom, e.PortTo)
}

// unownedEvidence says what decided the exposure.
func unownedEvidence(e *exposure.Exposure) []string {
	var ev []string
	if e.Owner.Chain != "" {
		ev = append(ev, fmt.Sprintf("%s rule %s#%d %s", e.Owner.Component, e.Owner.Chain, e.Owner.Rule, e.Owner.Comment))
	}
	for _, t := range e.To {
		ev = append(ev, fmt.Sprintf("to %s:%d", t.Addr, t.Port))
	}
	if e.Listener.Port != 0 {
		ev = append(ev, fmt.Sprintf("socket %s:%d with no process", e.Listener.Addr, e.Listener.Port))
	}
	ev = append(ev, fmt.Sprintf("on %s from %s", e.Iface, strings.Join(capList(slices.Clone(e.Sources), 3), ", ")))
	return ev
}
