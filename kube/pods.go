package kube

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/exposure-audit/exposure/exposure"
)

// hostPorts compares the hostPorts of this node's running pods with the
// hostport DNATs (CNI portmap, CRI-O): a declared hostPort needs a DNAT
// to the pod's IP and container port; a DNAT needs such a declaration.
func (r *reconciler) hostPorts() {
	matched := make([]bool, len(r.rules.hostports))
	for _, p := range r.ix.podsOn(r.in.Node) {
		if p.Spec.HostNetwork {
			continue
		}
		ips := podIPs(p)
		if len(ips) == 0 {
			continue // no sandbox network yet: kubelet sets hostports up with it
		}
		var missing []string
		for _, c := range podContainers(p) {
			for _, cp := range c.Ports {
				if cp.HostPort == 0 {
					continue
				}
				if i := r.findHostport(p, ips, cp); i >= 0 {
					matched[i] = true
					continue
				}
				missing = append(missing, fmt.Sprintf("container %s: hostPort %s %s:%d → %s:%d: no DNAT", c.Name,
					strings.ToLower(string(cmpProto(cp.Protocol))), cmp0(cp.HostIP, "*"), cp.HostPort, ips[0], cp.ContainerPort))
			}
		}
		if len(missing) > 0 {
			r.add(HostPortNotProgrammed, High, podRef(p), fmt.Sprintf("pod %s/%s declares %d hostPorts with no DNAT on node %s", p.Namespace, p.Name, len(missing), r.in.Node), missing)
		}
	}
	r.staleHostPorts(matched)
}

func cmp0(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// podIPs returns a pod's IPs.
func podIPs(p *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			out = append(out, a.Unmap())
		}
	}
	if len(out) == 0 && p.Status.PodIP != "" {
		if a, err := netip.ParseAddr(p.Status.PodIP); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// findHostport returns the index of the hostport DNAT serving a container
// port, or -1.
func (r *reconciler) findHostport(p *corev1.Pod, ips []netip.Addr, cp corev1.ContainerPort) int {
	proto := strings.ToLower(string(cmpProto(cp.Protocol)))
	for i, h := range r.rules.hostports {
		if h.proto != proto || h.hostPort != int(cp.HostPort) || int(h.target.Port()) != int(cp.ContainerPort) {
			continue
		}
		if cp.HostIP != "" && h.hostIP.IsValid() && h.hostIP.String() != addrKey(cp.HostIP) {
			continue
		}
		if slices.Contains(ips, h.target.Addr()) || h.podName == p.Name && h.podNS == p.Namespace {
			return i
		}
	}
	return -1
}

// staleHostPorts reports hostport DNATs that no running pod of this node
// declares: by the pod the rule names (kubelet/CRI-O comments), else the
// pod holding the target IP, else the sandbox id or target.
func (r *reconciler) staleHostPorts(matched []bool) {
	byObj := map[ObjectRef][]string{}
	for i, h := range r.rules.hostports {
		if matched[i] {
			continue
		}
		obj := r.hostportObject(h)
		byObj[obj] = append(byObj[obj], fmt.Sprintf("%s hostPort %d → %s: %s", h.proto, h.hostPort, h.target, h.evidence))
	}
	for obj, ev := range byObj {
		slices.Sort(ev)
		r.add(StaleHostPort, Medium, obj, fmt.Sprintf("%d hostport DNATs for a pod that is gone or does not declare them", len(ev)), capList(ev, 20))
	}
}

// hostportObject names the pod a stale hostport DNAT is for.
func (r *reconciler) hostportObject(h hostportRule) ObjectRef {
	if h.podName != "" {
		return ObjectRef{Kind: exposure.KindPod, Namespace: h.podNS, Name: h.podName}
	}
	if ps := r.ix.podIP[h.target.Addr()]; len(ps) == 1 {
		return podRef(ps[0])
	}
	if h.container != "" {
		return ObjectRef{Kind: exposure.KindPod, Name: "sandbox:" + shortID(h.container)}
	}
	return ObjectRef{Kind: exposure.KindPod, Name: "ip:" + h.target.Addr().String()}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// hostNetwork checks the listeners of hostNetwork pods: ports their spec
// does not declare, and wildcard binds.
func (r *reconciler) hostNetwork() {
	undeclared := map[*corev1.Pod][]string{}
	wildcard := map[*corev1.Pod][]string{}
	for _, l := range r.in.Listeners {
		if !l.HostNetNS || loopback(l.Addr) || r.j.healthCheck(l.Proto, l.Port) != nil {
			continue // kube-proxy's health check server answers for the Service
		}
		pc, ok := r.j.listenerPod(l)
		if !ok || !pc.pod.Spec.HostNetwork {
			continue
		}
		desc := listenerText(l)
		if !declaresPort(pc.pod, l.Proto, l.Port) {
			undeclared[pc.pod] = append(undeclared[pc.pod], desc)
		}
		if l.Wildcard {
			wildcard[pc.pod] = append(wildcard[pc.pod], desc)
		}
	}
	for p, ev := range undeclared {
		ev = slices.Compact(sorted(ev))
		r.add(UndeclaredHostPort, Medium, podRef(p), fmt.Sprintf("hostNetwork pod %s/%s listens on %s its spec does not declare", p.Namespace, p.Name, countPorts(len(ev))), ev)
	}
	for p, ev := range wildcard {
		r.add(WildcardHostBind, Low, podRef(p), fmt.Sprintf("hostNetwork pod %s/%s binds every address of the node where its node IP would do", p.Namespace, p.Name), slices.Compact(sorted(ev)))
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

// loopback reports a listener bound to a loopback address only.
func loopback(addr string) bool {
	a, err := netip.ParseAddr(addr)
	return err == nil && a.Unmap().IsLoopback()
}

// declaresPort reports whether a pod's spec declares proto/port (as a
// containerPort or hostPort of any container).
func declaresPort(p *corev1.Pod, proto string, port int) bool {
	for _, c := range podContainers(p) {
		for _, cp := range c.Ports {
			if strings.EqualFold(string(cmpProto(cp.Protocol)), proto) && (int(cp.ContainerPort) == port || int(cp.HostPort) == port) {
				return true
			}
		}
	}
	return false
}

// listenerText describes a listener for evidence.
func listenerText(l exposure.Listener) string {
	s := l.Proto + " " + netip.AddrPortFrom(netip.MustParseAddr(cmp0(l.Addr, "0.0.0.0")), uint16(l.Port)).String()
	if l.Process != "" {
		s += " " + l.Process + "[" + strconv.Itoa(l.PID) + "]"
	}
	if l.Container != "" {
		s += " container " + shortID(l.Container)
	}
	return s
}

// countPorts spells a number of ports for a message.
func countPorts(n int) string {
	if n == 1 {
		return "1 port"
	}
	return fmt.Sprintf("%d ports", n)
}
