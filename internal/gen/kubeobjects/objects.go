package kubeobjects

import (
	"fmt"
	"math"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
	"github.com/exposure-audit/exposure/kube"
)

// Options shape the generated objects.
type Options struct {
	// Node is the name of the node kube-proxy runs on (the endpoints
	// kubeproxy marks Local are on it); default "node-000".
	Node string
	// Nodes is the number of Nodes (default 100): node-000 … ; the other
	// endpoints are spread over them.
	Nodes int
	// Pods is the number of Pods: one per distinct endpoint address, in
	// order, until the count is reached; then idle pods without a Service
	// or IP. 0: one per endpoint address.
	Pods int
	// NodeIP is the Node's InternalIP (default 192.0.2.2, kubeproxy.ScaleNode).
	NodeIP netip.Addr
}

// Inventory returns the objects of services: each Service with its spec
// and LoadBalancer status, one EndpointSlice per Service (ready endpoints,
// a nodeName each), the Pods behind the endpoint addresses and the Nodes.
func Inventory(services []kubeproxy.Service, opt Options) *kube.Inventory {
	opt = defaults(opt)
	inv := &kube.Inventory{Nodes: nodes(opt)}
	limit := opt.Pods
	if limit <= 0 {
		limit = math.MaxInt
	}
	podAt := map[netip.Addr]bool{}
	for i := range services {
		s := &services[i]
		inv.Services = append(inv.Services, service(s))
		inv.EndpointSlices = append(inv.EndpointSlices, slice(s, opt, i))
		for k, ep := range s.Endpoints {
			if len(inv.Pods) >= limit || podAt[ep.IP] {
				continue
			}
			podAt[ep.IP] = true
			inv.Pods = append(inv.Pods, pod(s, ep, nodeOf(ep, opt, i+k), len(inv.Pods)))
		}
	}
	for n := len(inv.Pods); n < opt.Pods; n++ {
		p := pod(&kubeproxy.Service{Namespace: "idle", Name: "idle"}, kubeproxy.Endpoint{}, nodeName(n%opt.Nodes), n)
		p.Status.PodIP, p.Status.PodIPs = "", nil
		inv.Pods = append(inv.Pods, p)
	}
	return inv
}

func defaults(opt Options) Options {
	if opt.Node == "" {
		opt.Node = nodeName(0)
	}
	if opt.Nodes < 1 {
		opt.Nodes = 100
	}
	if !opt.NodeIP.IsValid() {
		opt.NodeIP = netip.MustParseAddr("192.0.2.2")
	}
	return opt
}

func nodeName(i int) string { return fmt.Sprintf("node-%03d", i) }

// nodes returns the Nodes; opt.Node has opt.NodeIP, the others
// 203.0.113.x-style addresses of their own.
func nodes(opt Options) []corev1.Node {
	out := []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: opt.Node},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: opt.NodeIP.String()}}}}}
	for i := 1; i < opt.Nodes; i++ {
		ip := netip.AddrFrom4([4]byte{100, 127, byte(i >> 8), byte(i)})
		out = append(out, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName(i)},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip.String()}}}})
	}
	return out
}

// nodeOf places an endpoint: kubeproxy's Local endpoints on opt.Node, the
// others on one of the other nodes.
func nodeOf(ep kubeproxy.Endpoint, opt Options, i int) string {
	if ep.Local || opt.Nodes == 1 {
		return opt.Node
	}
	return nodeName(1 + i%(opt.Nodes-1))
}

// service returns the v1.Service of s.
func service(s *kubeproxy.Service) corev1.Service {
	typ := corev1.ServiceType(s.Type)
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	out := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name},
		Spec: corev1.ServiceSpec{Type: typ, ClusterIP: s.ClusterIP.String(), ClusterIPs: []string{s.ClusterIP.String()},
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicy(s.ExternalTrafficPolicy),
			HealthCheckNodePort:   int32(s.HealthCheckNodePort)}}
	for _, p := range s.Ports {
		out.Spec.Ports = append(out.Spec.Ports, corev1.ServicePort{Name: p.Name, Protocol: corev1.Protocol(p.Protocol),
			Port: int32(p.Port), TargetPort: intstr.FromInt32(int32(p.TargetPort)), NodePort: int32(p.NodePort)})
	}
	for _, ip := range s.ExternalIPs {
		out.Spec.ExternalIPs = append(out.Spec.ExternalIPs, ip.String())
	}
	for _, r := range s.LoadBalancerSourceRanges {
		out.Spec.LoadBalancerSourceRanges = append(out.Spec.LoadBalancerSourceRanges, r.String())
	}
	for _, ip := range s.LoadBalancerIPs {
		out.Status.LoadBalancer.Ingress = append(out.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip.String()})
	}
	if s.SessionAffinity {
		out.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	}
	return out
}

// slice returns the EndpointSlice of s (every endpoint serves every port).
func slice(s *kubeproxy.Service, opt Options, i int) discoveryv1.EndpointSlice {
	ready := true
	out := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name + "-gen",
		Labels: map[string]string{discoveryv1.LabelServiceName: s.Name}}, AddressType: discoveryv1.AddressTypeIPv4}
	for _, p := range s.Ports {
		name, proto, port := p.Name, corev1.Protocol(p.Protocol), int32(p.TargetPort)
		out.Ports = append(out.Ports, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &port})
	}
	for k, ep := range s.Endpoints {
		node := nodeOf(ep, opt, i+k)
		out.Endpoints = append(out.Endpoints, discoveryv1.Endpoint{Addresses: []string{ep.IP.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: &node})
	}
	return out
}

// pod returns the running pod n behind endpoint ep of s.
func pod(s *kubeproxy.Service, ep kubeproxy.Endpoint, node string, n int) corev1.Pod {
	name := fmt.Sprintf("%s-%06d", strings.TrimPrefix(s.Name, "svc-"), n)
	c := corev1.Container{Name: "app"}
	for _, p := range s.Ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: p.Name, Protocol: corev1.Protocol(p.Protocol), ContainerPort: int32(p.TargetPort)})
	}
	out := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: name, UID: types.UID(fmt.Sprintf("uid-%08d", n))},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{c}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ep.IP.String(), PodIPs: []corev1.PodIP{{IP: ep.IP.String()}},
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, ContainerID: fmt.Sprintf("containerd://%064x", n)}}}}
	return out
}
