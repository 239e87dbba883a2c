package kube

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/exposure-audit/exposure/exposure"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// ovnkEnv is worker-0 of examples/openshift-ovnk-node.local-addrs.
func ovnkEnv() *nf.Env {
	env := nf.NewEnv(netip.MustParseAddr("192.0.2.20"), netip.MustParseAddr("169.254.169.2"), netip.MustParseAddr("10.128.2.2"))
	env.Ifaces = []nf.Iface{
		{Name: "br-ex", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.20/24"), netip.MustParsePrefix("169.254.169.2/29")}},
		{Name: "ovn-k8s-mp0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.128.2.2/23")}},
	}
	return env
}

// svcObjects builds a Service with one EndpointSlice of ready endpoints
// on node worker-0.
func svcObjects(ns, name string, typ corev1.ServiceType, local bool, ingress string, ports []corev1.ServicePort, eps ...string) (corev1.Service, discoveryv1.EndpointSlice) {
	s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: typ, ClusterIP: "172.30.0.99", Ports: ports}}
	if local {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}
	if ingress != "" {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ingress}}
	}
	ready, node := true, "worker-0"
	es := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: name}}, AddressType: discoveryv1.AddressTypeIPv4}
	for _, p := range ports {
		n, proto, port := p.Name, p.Protocol, p.TargetPort.IntVal
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &n, Protocol: &proto, Port: &port})
	}
	for _, ip := range eps {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: &node,
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	return s, es
}

func svcPort(name string, port, target, nodePort int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: corev1.ProtocolTCP, Port: port, TargetPort: intstr.FromInt32(target), NodePort: nodePort}
}

// ovnkInventory holds the example's demo/web and the router.
func ovnkInventory(testing.TB) *Inventory {
	inv := &Inventory{Nodes: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "worker-0"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.20"}}}}}}
	for _, o := range []struct {
		s  corev1.Service
		es discoveryv1.EndpointSlice
	}{
		func() (x struct {
			s  corev1.Service
			es discoveryv1.EndpointSlice
		}) {
			x.s, x.es = svcObjects("demo", "web", corev1.ServiceTypeNodePort, false, "", []corev1.ServicePort{svcPort("", 8080, 8080, 30080)}, "10.128.2.20")
			return
		}(),
		func() (x struct {
			s  corev1.Service
			es discoveryv1.EndpointSlice
		}) {
			x.s, x.es = svcObjects("openshift-ingress", "router-default", corev1.ServiceTypeLoadBalancer, true, "203.0.113.60",
				[]corev1.ServicePort{svcPort("http", 80, 80, 31080), svcPort("https", 443, 443, 31443)}, "10.128.2.10")
			return
		}(),
	} {
		inv.Services = append(inv.Services, o.s)
		inv.EndpointSlices = append(inv.EndpointSlices, o.es)
	}
	return inv
}

// TestReconcileOVNK: OVN-Kubernetes writes no Service names; the join
// names its NodePort DNATs by nodePort, and a Service it did not program
// is found.
func TestReconcileOVNK(t *testing.T) {
	const rules = "openshift-ovnk-node.iptables-save"
	allIfacesOVN := "nodeport-on-all-interfaces Node /worker-0"
	tests := []reconcileCase{
		{name: "programmed", rules: rules, inv: ovnkInventory, node: "worker-0", env: ovnkEnv(), iface: "br-ex", want: []string{allIfacesOVN}},
		{name: "NodePort Service OVN-K did not program", rules: rules, inv: ovnkInventory, node: "worker-0", env: ovnkEnv(), iface: "br-ex",
			edits: []edit{func(inv *Inventory) {
				s, es := svcObjects("demo", "late", corev1.ServiceTypeNodePort, false, "", []corev1.ServicePort{svcPort("http", 80, 8080, 30999)}, "10.128.2.21")
				inv.Services, inv.EndpointSlices = append(inv.Services, s), append(inv.EndpointSlices, es)
			}},
			want:     []string{allIfacesOVN, "service-not-programmed Service demo/late"},
			evidence: map[FindingID]string{ServiceNotProgrammed: "nodePort tcp/30999 (port http, 1 ready endpoint): no DNAT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, rep := runReconcile(t, tc)
			checkFindings(t, tc, res)
			owners := map[int]string{}
			for _, e := range rep.Exposures {
				if e.State == exposure.Forwarded && e.Addr == "192.0.2.20" {
					owners[e.PortFrom] = e.Owner.Component + " " + exposure.ObjectText(e.Owner) + " " + string(e.Owner.Via)
				}
			}
			for port, want := range map[int]string{30080: "ovn-kubernetes demo/web:8080 nodePort", 31080: "ovn-kubernetes openshift-ingress/router-default:http nodePort"} {
				if owners[port] != want {
					t.Errorf("owner of 192.0.2.20:%d: got %q, want %q", port, owners[port], want)
				}
			}
		})
	}
}
