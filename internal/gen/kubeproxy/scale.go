package kubeproxy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// Address plan of Scale and ScaleNode (documentation and benchmark ranges, as in the corpus's scale-300 run).
var (
	scaleServiceCIDR = netip.MustParsePrefix("10.0.0.0/16")    // ClusterIPs
	scalePodCIDR     = netip.MustParsePrefix("198.18.0.0/15")  // endpoints (RFC 2544 benchmark range)
	scaleLBPool      = netip.MustParsePrefix("100.64.0.0/16")  // LoadBalancer ingress (a MetalLB-style pool)
	scaleNodeIP      = netip.MustParseAddr("192.0.2.2")        // the node
	scaleAPIServer   = netip.MustParseAddr("192.0.2.10")       // endpoint of default/kubernetes
	scaleExternalIPs = netip.MustParsePrefix("192.0.2.128/25") // spec.externalIPs
	scaleSources     = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.0/24")}
)

// Node-port range of the API server (--service-node-port-range default).
const (
	nodePortFirst = 30000
	nodePortLast  = 32767
	maxScale      = 65000
)

// ScaleNode is the node Scale's Services are meant for: 192.0.2.2, pod CIDR 198.18.0.0/15, ServiceCIDR
// 10.0.0.0/16, with the kubelet's chains.
func ScaleNode() Node {
	return Node{IPs: []netip.Addr{scaleNodeIP}, ClusterCIDR: scalePodCIDR, ServiceCIDRs: []netip.Prefix{scaleServiceCIDR}, Kubelet: true}
}

// Scale returns n Services with m endpoints each (fewer for the 1% without endpoints), the same for the same
// seed. The first is default/kubernetes (one endpoint, the API server). The mix: 75% ClusterIP, 13% NodePort,
// 12% LoadBalancer (half with loadBalancerSourceRanges, a third of NodePort/LoadBalancer with
// externalTrafficPolicy Local); 85% one named TCP port, 8% http+https, 5% DNS (UDP+TCP 53), 2% one unnamed port;
// 3% ClientIP affinity; 2% of ClusterIP Services with an externalIP. ClusterIPs come from 10.0.0.0/16, endpoints
// from 198.18.0.0/15 (1 in 10 on this node), LoadBalancer IPs from 100.64.0.0/16. Once the node-port range
// (30000-32767) is used up, further NodePort/LoadBalancer picks become ClusterIP.
func Scale(n, m int, seed uint64) ([]Service, error) {
	if n < 1 || n > maxScale || m < 0 {
		return nil, fmt.Errorf("scale services: want 1-%d services and >= 0 endpoints, got %d and %d", maxScale, n, m)
	}
	sc := &scaler{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), nextNP: nodePortFirst,
		nextEP: scalePodCIDR.Addr(), nextLB: scaleLBPool.Addr().Next(), nextExt: scaleExternalIPs.Addr().Next()}
	out := make([]Service, 0, n)
	out = append(out, Service{Namespace: "default", Name: "kubernetes", ClusterIP: scaleServiceCIDR.Addr().Next(),
		Ports:     []Port{{Name: "https", Protocol: TCP, Port: 443, TargetPort: 6443}},
		Endpoints: []Endpoint{{IP: scaleAPIServer}}})
	for i := 1; i < n; i++ {
		out = append(out, sc.service(i, m))
	}
	return out, nil
}

// scaler allocates addresses and ports for Scale.
type scaler struct {
	r                       *rand.Rand
	nextNP                  int
	nextEP, nextLB, nextExt netip.Addr
}

func (sc *scaler) service(i, m int) Service {
	s := Service{
		Namespace: fmt.Sprintf("ns-%03d", i/20),
		Name:      fmt.Sprintf("svc-%05d", i),
		ClusterIP: addrAt(scaleServiceCIDR.Addr(), i+9),
		Ports:     sc.ports(),
	}
	switch x := sc.r.IntN(100); {
	case x < 75:
		s.Type = ClusterIP
	case x < 88:
		s.Type = NodePort
	default:
		s.Type = LoadBalancer
	}
	if s.Type != ClusterIP && !sc.nodePorts(&s) {
		s.Type = ClusterIP
	}
	sc.decorate(&s)
	if sc.r.IntN(100) != 0 {
		for range m {
			s.Endpoints = append(s.Endpoints, Endpoint{IP: sc.endpoint(), Local: sc.r.IntN(10) == 0})
		}
	}
	return s
}

func (sc *scaler) ports() []Port {
	switch x := sc.r.IntN(100); {
	case x < 85:
		return []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080}}
	case x < 93:
		return []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080}, {Name: "https", Protocol: TCP, Port: 443, TargetPort: 8443}}
	case x < 98:
		return []Port{{Name: "dns", Protocol: UDP, Port: 53, TargetPort: 5353}, {Name: "dns-tcp", Protocol: TCP, Port: 53, TargetPort: 5353}}
	default:
		return []Port{{Protocol: TCP, Port: 9090, TargetPort: 9090}}
	}
}

// nodePorts assigns a node port to every port (plus a health-check port for LoadBalancer + Local later);
// false when the range is exhausted.
func (sc *scaler) nodePorts(s *Service) bool {
	if sc.nextNP+len(s.Ports)+1 > nodePortLast {
		return false
	}
	for k := range s.Ports {
		s.Ports[k].NodePort = sc.nextNP
		sc.nextNP++
	}
	return true
}

// decorate adds policies, LoadBalancer status, source ranges, external IPs and affinity.
func (sc *scaler) decorate(s *Service) {
	if s.Type != ClusterIP && sc.r.IntN(3) == 0 {
		s.ExternalTrafficPolicy = PolicyLocal
	}
	if s.Type == LoadBalancer {
		s.LoadBalancerIPs = []netip.Addr{sc.nextLB}
		sc.nextLB = sc.nextLB.Next()
		if sc.r.IntN(2) == 0 {
			s.LoadBalancerSourceRanges = append(s.LoadBalancerSourceRanges, scaleSources[:1+sc.r.IntN(2)]...)
		}
		if s.ExternalTrafficPolicy == PolicyLocal {
			s.HealthCheckNodePort = sc.nextNP
			sc.nextNP++
		}
	}
	if s.Type == ClusterIP && sc.r.IntN(50) == 0 {
		s.ExternalIPs = []netip.Addr{sc.nextExt}
		if sc.nextExt = sc.nextExt.Next(); !scaleExternalIPs.Contains(sc.nextExt) {
			sc.nextExt = scaleExternalIPs.Addr().Next()
		}
	}
	s.SessionAffinity = sc.r.IntN(100) < 3
}

// endpoint returns the next pod IP, skipping .0 and .255 and wrapping inside 198.18.0.0/15.
func (sc *scaler) endpoint() netip.Addr {
	for {
		a := sc.nextEP
		sc.nextEP = a.Next()
		if !scalePodCIDR.Contains(sc.nextEP) {
			sc.nextEP = scalePodCIDR.Addr()
		}
		if b := a.As4(); b[3] != 0 && b[3] != 255 {
			return a
		}
	}
}

// addrAt is base + off for IPv4.
func addrAt(base netip.Addr, off int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(off)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ScaleClusterIP returns n single-port ClusterIP Services (ns-NNN/svc-NNNNN, port http 80→8080/TCP) with m
// endpoints each and nothing else: the shape of kube-proxy's number_generated_rules_test.go, for which iptables
// mode writes 5 + 2·n + 3·n·m nat rules (10,000 × 10 → 320,005). Addresses as in Scale; no randomness.
func ScaleClusterIP(n, m int) ([]Service, error) {
	if n < 1 || n > maxScale || m < 0 {
		return nil, fmt.Errorf("scale services: want 1-%d services and >= 0 endpoints, got %d and %d", maxScale, n, m)
	}
	sc := &scaler{nextEP: scalePodCIDR.Addr()}
	out := make([]Service, 0, n)
	for i := range n {
		s := Service{Namespace: fmt.Sprintf("ns-%03d", i/20), Name: fmt.Sprintf("svc-%05d", i),
			ClusterIP: addrAt(scaleServiceCIDR.Addr(), i+10),
			Ports:     []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080}}}
		for k := range m {
			s.Endpoints = append(s.Endpoints, Endpoint{IP: sc.endpoint(), Local: k == 0})
		}
		out = append(out, s)
	}
	return out, nil
}
