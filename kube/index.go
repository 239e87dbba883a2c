package kube

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// index looks the inventory's objects up by name, UID and address.
type index struct {
	inv *Inventory
	// services sorted by namespace and name; byName by "namespace/name".
	services []*corev1.Service
	byName   map[string]*corev1.Service
	// slices of a Service, by "namespace/name" (label
	// kubernetes.io/service-name).
	slices map[string][]*discoveryv1.EndpointSlice
	pods   []*corev1.Pod
	podUID map[string]*corev1.Pod
	// podIP maps a pod IP to its (non-hostNetwork) pods.
	podIP map[netip.Addr][]*corev1.Pod
	// eps caches the endpoints of each Service port.
	eps map[*corev1.ServicePort][]endpoint
}

// newIndex indexes inv.
func newIndex(inv *Inventory) *index {
	ix := &index{inv: inv, byName: make(map[string]*corev1.Service, len(inv.Services)),
		slices: make(map[string][]*discoveryv1.EndpointSlice, len(inv.Services)),
		podUID: make(map[string]*corev1.Pod, len(inv.Pods)), podIP: make(map[netip.Addr][]*corev1.Pod, len(inv.Pods)),
		eps: make(map[*corev1.ServicePort][]endpoint, len(inv.Services))}
	for i := range inv.Services {
		s := &inv.Services[i]
		ix.services = append(ix.services, s)
		ix.byName[s.Namespace+"/"+s.Name] = s
	}
	slices.SortFunc(ix.services, func(a, b *corev1.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for i := range inv.EndpointSlices {
		es := &inv.EndpointSlices[i]
		if svc := es.Labels[discoveryv1.LabelServiceName]; svc != "" {
			k := es.Namespace + "/" + svc
			ix.slices[k] = append(ix.slices[k], es)
		}
	}
	for i := range inv.Pods {
		ix.addPod(&inv.Pods[i])
	}
	return ix
}

// addPod indexes one pod.
func (ix *index) addPod(p *corev1.Pod) {
	ix.pods = append(ix.pods, p)
	if p.UID != "" {
		ix.podUID[string(p.UID)] = p
	}
	if p.Spec.HostNetwork || finished(p) {
		return
	}
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			ix.podIP[a] = append(ix.podIP[a], p)
		}
	}
	if len(p.Status.PodIPs) == 0 && p.Status.PodIP != "" {
		if a, err := netip.ParseAddr(p.Status.PodIP); err == nil {
			ix.podIP[a] = append(ix.podIP[a], p)
		}
	}
}

// nodeNames lists the Node names, sorted ([""] when there are none).
func (ix *index) nodeNames() []string {
	var out []string
	for _, n := range ix.inv.Nodes {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	if len(out) == 0 {
		return []string{""}
	}
	return out
}

// podsOn lists the unfinished pods scheduled on node, sorted.
func (ix *index) podsOn(node string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range ix.pods {
		if node != "" && p.Spec.NodeName == node && !finished(p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// finished: a pod whose containers have all terminated (kubelet tears its
// sandbox and hostports down).
func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// podReady reports the pod's Ready condition.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return p.Status.Phase == corev1.PodRunning
}

// podContainers lists the containers whose ports count: the regular ones
// and restartable init containers (sidecars).
func podContainers(p *corev1.Pod) []corev1.Container {
	out := slices.Clone(p.Spec.Containers)
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, c)
		}
	}
	return out
}

// proxied reports whether kube-proxy programs s: not ExternalName, not
// headless (pkg/proxy/servicechangetracker skips both).
func proxied(s *corev1.Service) bool {
	return s.Spec.Type != corev1.ServiceTypeExternalName && s.Spec.ClusterIP != corev1.ClusterIPNone && s.Spec.ClusterIP != ""
}

// localPolicy: externalTrafficPolicy Local, which kube-proxy honours only
// for Services with external addresses (NodePort, LoadBalancer, externalIPs).
func localPolicy(s *corev1.Service) bool {
	return s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// portName is the Service port's name, or its number when unnamed.
func portName(sp *corev1.ServicePort) string {
	if sp.Name != "" {
		return sp.Name
	}
	return strconv.Itoa(int(sp.Port))
}

// sourceRanges returns spec.loadBalancerSourceRanges (LoadBalancer only).
func sourceRanges(s *corev1.Service) []string {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil
	}
	return s.Spec.LoadBalancerSourceRanges
}

// lbIPs returns the ingress IPs kube-proxy programs: status ingress IPs of
// a LoadBalancer Service, except ipMode Proxy.
func lbIPs(s *corev1.Service) []string {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil
	}
	var out []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" && (in.IPMode == nil || *in.IPMode != corev1.LoadBalancerIPModeProxy) {
			out = append(out, in.IP)
		}
	}
	return out
}

// endpoint is one usable endpoint of a Service port.
type endpoint struct {
	Addr netip.Addr
	Port int
	Node string
}

// endpoints returns the endpoints kube-proxy uses for the Service port:
// the ready ones; when none is ready, the serving and terminating ones
// (pkg/proxy/topology.go CategorizeEndpoints). An endpoint's first address
// counts, as kube-proxy uses it.
func (ix *index) endpoints(s *corev1.Service, sp *corev1.ServicePort) []endpoint {
	if eps, ok := ix.eps[sp]; ok {
		return eps
	}
	eps := ix.usableEndpoints(s, sp)
	ix.eps[sp] = eps
	return eps
}

// usableEndpoints computes endpoints.
func (ix *index) usableEndpoints(s *corev1.Service, sp *corev1.ServicePort) []endpoint {
	var ready, terminating []endpoint
	for _, es := range ix.slices[s.Namespace+"/"+s.Name] {
		port, ok := slicePort(es, sp)
		if !ok {
			continue
		}
		for _, e := range es.Endpoints {
			if len(e.Addresses) == 0 {
				continue
			}
			a, err := netip.ParseAddr(e.Addresses[0])
			if err != nil {
				continue
			}
			ep := endpoint{Addr: a, Port: port, Node: deref(e.NodeName)}
			c := e.Conditions
			switch {
			case c.Ready == nil || *c.Ready:
				ready = append(ready, ep)
			case (c.Serving == nil || *c.Serving) && c.Terminating != nil && *c.Terminating:
				terminating = append(terminating, ep)
			}
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

// slicePort finds the Service port's number in an EndpointSlice (ports
// match by name and protocol).
func slicePort(es *discoveryv1.EndpointSlice, sp *corev1.ServicePort) (int, bool) {
	for _, p := range es.Ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if deref(p.Name) == sp.Name && proto == cmp.Or(sp.Protocol, corev1.ProtocolTCP) && p.Port != nil {
			return int(*p.Port), true
		}
	}
	return 0, false
}

// externalEndpoints counts the endpoints external traffic to the Service
// port reaches from node: all of them, or under externalTrafficPolicy
// Local only node's own (an empty node counts all).
func (ix *index) externalEndpoints(s *corev1.Service, sp *corev1.ServicePort, node string) int {
	eps := ix.endpoints(s, sp)
	if !localPolicy(s) || node == "" {
		return len(eps)
	}
	n := 0
	for _, e := range eps {
		if e.Node == node {
			n++
		}
	}
	return n
}

// localEndpointCount counts node's endpoints over all the Service's ports
// (what the health check server reports).
func (ix *index) localEndpointCount(s *corev1.Service, node string) int {
	seen := map[netip.Addr]bool{}
	for i := range s.Spec.Ports {
		for _, e := range ix.endpoints(s, &s.Spec.Ports[i]) {
			if node == "" || e.Node == node {
				seen[e.Addr] = true
			}
		}
	}
	return len(seen)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
