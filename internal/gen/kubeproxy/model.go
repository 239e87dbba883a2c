package kubeproxy

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// policy is what kube-proxy's CategorizeEndpoints and BaseServicePortInfo derive for one service port.
type policy struct {
	externallyAccessible bool
	externalLocal        bool
	internalLocal        bool
	usesCluster          bool // KUBE-SVC / service- chain exists
	usesLocal            bool // KUBE-SVL / local- chain exists
	hasEndpoints         bool
	hasInternal          bool
	hasExternal          bool
	cluster, local       []epInfo
	reachable            []epInfo // endpoints that get a KUBE-SEP / endpoint- chain
}

func (s *Service) typ() ServiceType {
	if s.Type == "" {
		return ClusterIP
	}
	return s.Type
}

// lbVIPs are the LoadBalancer ingress IPs kube-proxy uses (only for type LoadBalancer).
func (s *Service) lbVIPs() []netip.Addr {
	if s.typ() != LoadBalancer {
		return nil
	}
	return s.LoadBalancerIPs
}

func (s *Service) affinitySeconds() int {
	if s.AffinitySeconds > 0 {
		return s.AffinitySeconds
	}
	return DefaultAffinitySeconds
}

func (p *svcPort) nodePort() int {
	if p.svc.typ() == ClusterIP {
		return 0
	}
	return p.port.NodePort
}

// healthCheckNodePort follows the API: only LoadBalancer Services with externalTrafficPolicy Local have one.
func (p *svcPort) healthCheckNodePort() int {
	if p.svc.typ() != LoadBalancer || p.svc.ExternalTrafficPolicy != PolicyLocal {
		return 0
	}
	return p.svc.HealthCheckNodePort
}

// policy mirrors BaseServicePortInfo.{ExternallyAccessible,UsesClusterEndpoints,UsesLocalEndpoints} and
// proxy.CategorizeEndpoints for ready endpoints without topology hints.
func (p *svcPort) policy() policy {
	var pol policy
	s := p.svc
	pol.externallyAccessible = p.nodePort() != 0 || len(s.lbVIPs()) > 0 || len(s.ExternalIPs) > 0
	pol.externalLocal = pol.externallyAccessible && s.ExternalTrafficPolicy == PolicyLocal
	pol.internalLocal = s.InternalTrafficPolicy == PolicyLocal
	pol.usesCluster = !pol.internalLocal || pol.externallyAccessible
	pol.usesLocal = pol.internalLocal || pol.externalLocal
	if pol.usesCluster {
		pol.cluster = p.eps
	}
	if pol.usesLocal {
		for _, e := range p.eps {
			if e.local {
				pol.local = append(pol.local, e)
			}
		}
	}
	pol.hasEndpoints = len(p.eps) > 0
	pol.reachable = pol.cluster
	if !pol.usesCluster {
		pol.reachable = pol.local
	}
	pol.hasInternal = pol.hasEndpoints && (!pol.internalLocal || len(pol.local) > 0)
	pol.hasExternal = pol.hasEndpoints && (!pol.externalLocal || len(pol.local) > 0)
	return pol
}

// expand validates the Services and returns one svcPort per (Service, port) of the wanted address family,
// sorted by port name and protocol (kube-proxy iterates a Go map; any order is what it could write), with
// endpoints sorted by "ip:port" as kube-proxy's EndpointsMap sorts them.
func expand(services []Service, v6 bool) ([]*svcPort, error) {
	var out []*svcPort
	for i := range services {
		s := &services[i]
		if err := s.validate(); err != nil {
			return nil, err
		}
		if !s.ClusterIP.IsValid() || s.ClusterIP.Is6() != v6 {
			continue
		}
		for _, pt := range s.Ports {
			out = append(out, newSvcPort(s, pt, v6))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].proto < out[j].proto
	})
	return out, nil
}

func newSvcPort(s *Service, pt Port, v6 bool) *svcPort {
	proto := strings.ToLower(string(pt.Protocol))
	p := &svcPort{svc: s, port: pt, proto: proto, name: PortName(s.Namespace, s.Name, pt.Name)}
	p.hash = ChainHash(p.name, proto)
	p.nbase = nftServiceBase(s.Namespace, s.Name, proto, pt.Name)
	for _, e := range s.Endpoints {
		if e.IP.Is6() != v6 {
			continue
		}
		ap := netip.AddrPortFrom(e.IP, uint16(pt.TargetPort))
		str := ap.String()
		p.eps = append(p.eps, epInfo{
			addr: ap, str: str, local: e.Local,
			sep:   "KUBE-SEP-" + ChainHash(p.name, proto, str),
			nbase: nftEndpointBase(s.Namespace, s.Name, proto, pt.Name, ap),
		})
	}
	sort.Slice(p.eps, func(i, j int) bool { return p.eps[i].str < p.eps[j].str })
	return p
}

func (s *Service) validate() error {
	if s.Namespace == "" || s.Name == "" {
		return fmt.Errorf("validate service %q/%q: namespace and name are required", s.Namespace, s.Name)
	}
	for _, pt := range s.Ports {
		switch pt.Protocol {
		case TCP, UDP, SCTP:
		default:
			return fmt.Errorf("validate service %s/%s: port %q: unknown protocol %q", s.Namespace, s.Name, pt.Name, pt.Protocol)
		}
		if pt.Port <= 0 || pt.Port > 65535 || pt.TargetPort <= 0 || pt.TargetPort > 65535 {
			return fmt.Errorf("validate service %s/%s: port %q: port and targetPort must be 1-65535", s.Namespace, s.Name, pt.Name)
		}
	}
	return nil
}

// countEndpoints is kube-proxy's totalEndpoints (endpoints of every service port), which decides large cluster mode.
func countEndpoints(ports []*svcPort) int {
	n := 0
	for _, p := range ports {
		n += len(p.eps)
	}
	return n
}
