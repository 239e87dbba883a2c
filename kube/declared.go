package kube

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/exposure-audit/exposure/exposure"
)

// AnyAddr is Declaration.Addr for a port declared on every address of the
// node (a NodePort with kube-proxy's default --nodeport-addresses, a
// hostPort without hostIP, a hostNetwork container port).
const AnyAddr = "*"

// Declaration is one port the cluster declares should be reachable on a
// node: a Service's nodePort, externalIP, LoadBalancer ingress or
// healthCheckNodePort, a container's hostPort, or a hostNetwork
// container's containerPort.
type Declaration struct {
	// Node is the Node's name.
	Node string `json:"node"`
	// Proto is tcp, udp or sctp.
	Proto string `json:"proto"`
	// Addr is the address (externalIP, LB ingress IP, hostIP) or AnyAddr.
	Addr     string `json:"addr"`
	PortFrom int    `json:"port_from"`
	PortTo   int    `json:"port_to"`
	// Via is how (nodePort, externalIP, loadBalancer, healthCheckNodePort,
	// hostPort, hostNetwork).
	Via    exposure.Via `json:"via"`
	Object ObjectRef    `json:"object"`
	// Port is the Service port's name, or its number when unnamed; for
	// pods, the container port's name (empty when unnamed).
	Port string `json:"port,omitempty"`
	// Container is the pod spec's container name (pods only).
	Container string `json:"container,omitempty"`
	// TargetPort is where traffic goes: the Service's targetPort (name or
	// number) or the container port.
	TargetPort string `json:"target_port,omitempty"`
	// Endpoints counts the ready endpoints that serve the port from this
	// node (only the node's own under externalTrafficPolicy Local); for
	// pods 1 when the pod is Ready, else 0.
	Endpoints int `json:"endpoints"`
	// SourceRanges are the Service's loadBalancerSourceRanges (never nil).
	SourceRanges []string `json:"source_ranges"`
	// ExternalTrafficPolicy is Cluster or Local (Services only).
	ExternalTrafficPolicy string `json:"external_traffic_policy,omitempty"`
}

// Declared lists what the cluster declares should be exposed on node
// (`exposure k8s --node NAME`): the nodePorts of NodePort and LoadBalancer
// Services (on every node), their externalIPs and LoadBalancer ingress IPs
// (not those with ipMode Proxy, which kube-proxy leaves to the load
// balancer), healthCheckNodePorts, and the hostPorts and hostNetwork
// container ports of the pods scheduled on node that have not finished
// (phase Succeeded or Failed). Headless and ExternalName Services are left
// out, as kube-proxy does. An empty node lists every Node (and the Service
// ports with an empty Node when there are no Node objects). Sorted by node,
// proto, addr, port, namespace, name, via.
func Declared(inv *Inventory, node string) []Declaration {
	out := []Declaration{}
	if inv == nil {
		return out
	}
	ix := newIndex(inv)
	nodes := []string{node}
	if node == "" {
		nodes = ix.nodeNames()
	}
	for _, n := range nodes {
		for _, s := range ix.services {
			out = append(out, ix.serviceDecls(s, n)...)
		}
		for _, p := range ix.podsOn(n) {
			out = append(out, podDecls(p)...)
		}
	}
	slices.SortFunc(out, compareDecl)
	return out
}

// compareDecl orders declarations for output.
func compareDecl(a, b Declaration) int {
	return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.Proto, b.Proto), compareAddr(a.Addr, b.Addr),
		cmp.Compare(a.PortFrom, b.PortFrom), cmp.Compare(a.Object.Namespace, b.Object.Namespace),
		cmp.Compare(a.Object.Name, b.Object.Name), cmp.Compare(a.Via, b.Via), cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Container, b.Container))
}

// compareAddr orders addresses numerically, AnyAddr first.
func compareAddr(a, b string) int {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return cmp.Compare(a, b)
	}
	return x.Compare(y)
}

// serviceDecls lists a Service's declared ports on node.
func (ix *index) serviceDecls(s *corev1.Service, node string) []Declaration {
	if !proxied(s) {
		return nil
	}
	var out []Declaration
	ref := ObjectRef{Kind: exposure.KindService, Namespace: s.Namespace, Name: s.Name}
	ranges := sourceRanges(s)
	for i := range s.Spec.Ports {
		sp := &s.Spec.Ports[i]
		d := Declaration{Node: node, Proto: strings.ToLower(string(sp.Protocol)), Object: ref, Port: portName(sp),
			TargetPort: sp.TargetPort.String(), Endpoints: ix.externalEndpoints(s, sp, node),
			SourceRanges: []string{}, ExternalTrafficPolicy: string(s.Spec.ExternalTrafficPolicy)}
		if sp.NodePort != 0 && (s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer) {
			out = append(out, d.at(AnyAddr, int(sp.NodePort), exposure.ViaNodePort, ranges))
		}
		for _, ip := range s.Spec.ExternalIPs {
			out = append(out, d.at(ip, int(sp.Port), exposure.ViaExternalIP, nil))
		}
		for _, ip := range lbIPs(s) {
			out = append(out, d.at(ip, int(sp.Port), exposure.ViaLoadBalancer, ranges))
		}
	}
	if hc := s.Spec.HealthCheckNodePort; hc != 0 && localPolicy(s) {
		out = append(out, Declaration{Node: node, Proto: "tcp", Addr: AnyAddr, PortFrom: int(hc), PortTo: int(hc),
			Via: exposure.ViaHealthCheckNodePort, Object: ref, Endpoints: ix.localEndpointCount(s, node),
			SourceRanges: []string{}, ExternalTrafficPolicy: string(s.Spec.ExternalTrafficPolicy)})
	}
	return out
}

// at returns d on addr:port, exposed via v.
func (d Declaration) at(addr string, port int, v exposure.Via, ranges []string) Declaration {
	d.Addr, d.PortFrom, d.PortTo, d.Via = addr, port, port, v
	d.SourceRanges = append([]string{}, ranges...)
	return d
}

// podDecls lists a pod's hostPorts, or a hostNetwork pod's container ports.
func podDecls(p *corev1.Pod) []Declaration {
	var out []Declaration
	ref := ObjectRef{Kind: exposure.KindPod, Namespace: p.Namespace, Name: p.Name}
	ready := 0
	if podReady(p) {
		ready = 1
	}
	for _, c := range podContainers(p) {
		for _, cp := range c.Ports {
			d := Declaration{Node: p.Spec.NodeName, Proto: strings.ToLower(string(cmp.Or(cp.Protocol, corev1.ProtocolTCP))),
				Addr: cmp.Or(cp.HostIP, AnyAddr), Object: ref, Port: cp.Name, Container: c.Name,
				TargetPort: strconv.Itoa(int(cp.ContainerPort)), Endpoints: ready, SourceRanges: []string{}}
			switch {
			case p.Spec.HostNetwork:
				d.PortFrom, d.PortTo, d.Via = int(cp.ContainerPort), int(cp.ContainerPort), exposure.ViaHostNetwork
			case cp.HostPort != 0:
				d.PortFrom, d.PortTo, d.Via = int(cp.HostPort), int(cp.HostPort), exposure.ViaHostPort
			default:
				continue
			}
			out = append(out, d)
		}
	}
	return out
}
