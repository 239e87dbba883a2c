package kubeproxy

import (
	"net/netip"
)

// Protocol is a Service port protocol as the Kubernetes API spells it (v1.Protocol).
type Protocol string

// Service port protocols. kube-proxy lower-cases them for iptables (`-p tcp`) and nft (`meta l4proto tcp`).
const (
	TCP  Protocol = "TCP"
	UDP  Protocol = "UDP"
	SCTP Protocol = "SCTP"
)

// ServiceType is spec.type of a Service (v1.ServiceType). ExternalName Services are never proxied.
type ServiceType string

// Service types kube-proxy programs.
const (
	ClusterIP    ServiceType = "ClusterIP"
	NodePort     ServiceType = "NodePort"
	LoadBalancer ServiceType = "LoadBalancer"
)

// TrafficPolicy is spec.externalTrafficPolicy / spec.internalTrafficPolicy. The empty value means Cluster,
// the API default.
type TrafficPolicy string

// Traffic policies (v1.ServiceExternalTrafficPolicy, v1.ServiceInternalTrafficPolicy).
const (
	PolicyCluster TrafficPolicy = "Cluster"
	PolicyLocal   TrafficPolicy = "Local"
)

// DefaultAffinitySeconds is the API default of spec.sessionAffinityConfig.clientIP.timeoutSeconds
// (10800 s = 3 h), which kube-proxy writes as `--seconds 10800` and nft prints as `timeout 3h`.
const DefaultAffinitySeconds = 10800

// Service is the subset of a v1.Service plus its ready endpoints that kube-proxy turns into rules.
// Headless Services (no ClusterIP) are skipped, as kube-proxy does.
type Service struct {
	Namespace string
	Name      string
	Type      ServiceType // empty means ClusterIP
	ClusterIP netip.Addr
	// ExternalIPs is spec.externalIPs.
	ExternalIPs []netip.Addr
	// LoadBalancerIPs is status.loadBalancer.ingress[].ip (only used when Type is LoadBalancer).
	LoadBalancerIPs []netip.Addr
	// LoadBalancerSourceRanges is spec.loadBalancerSourceRanges (KUBE-FW-* / firewall-* chains).
	LoadBalancerSourceRanges []netip.Prefix
	ExternalTrafficPolicy    TrafficPolicy
	InternalTrafficPolicy    TrafficPolicy
	// HealthCheckNodePort is spec.healthCheckNodePort (LoadBalancer with externalTrafficPolicy Local).
	HealthCheckNodePort int
	// SessionAffinity is spec.sessionAffinity == ClientIP; AffinitySeconds 0 means DefaultAffinitySeconds.
	SessionAffinity bool
	AffinitySeconds int
	Ports           []Port
	// Endpoints are the ready endpoints of all the Service's EndpointSlices. Every endpoint serves every port
	// (at Port.TargetPort), which is what a Deployment behind a Service yields.
	Endpoints []Endpoint
}

// Port is one entry of spec.ports.
type Port struct {
	Name       string // may be empty for a single-port Service
	Protocol   Protocol
	Port       int
	TargetPort int // the endpoint port
	NodePort   int // 0 for ClusterIP Services
}

// Endpoint is one ready endpoint address; Local means its nodeName is this node.
type Endpoint struct {
	IP    netip.Addr
	Local bool
}

// Node describes the node kube-proxy runs on and the flags it runs with.
type Node struct {
	// IPs are the node's addresses; the first is the primary node IP (`--nodeport-addresses primary` in
	// nftables mode puts it into set nodeport-ips; iptables mode checks source ranges against it).
	IPs []netip.Addr
	// ClusterCIDR is the pod CIDR used by `--detect-local-mode ClusterCIDR` (`! -s CIDR -j KUBE-MARK-MASQ`).
	// If invalid, the local-traffic detector is "not implemented" and those rules are left out, as kube-proxy does.
	ClusterCIDR netip.Prefix
	// ServiceCIDRs are the cluster's ServiceCIDRs; nftables mode v1.33+ drops traffic to unallocated ClusterIPs.
	ServiceCIDRs []netip.Prefix
	// Kubelet adds what the kubelet programs (KUBE-IPTABLES-HINT, KUBE-KUBELET-CANARY, its KUBE-FIREWALL
	// jumps), as on a real node; the corpus capture ran kube-proxy alone.
	Kubelet bool
	// NoLocalhostNodePorts is `--iptables-localhost-nodeports=false`.
	NoLocalhostNodePorts bool
	// NoNFAcct means the nfacct counters could not be created (no `-m nfacct` matches are written then).
	NoNFAcct bool
	// MasqueradeAll is `--masquerade-all`.
	MasqueradeAll bool
	// ConntrackTCPLiberal is `--conntrack-tcp-be-liberal` (no INVALID drop rule in KUBE-FORWARD).
	ConntrackTCPLiberal bool
}

// Comments selects kube-proxy's comment behaviour on per-endpoint rules.
type Comments int

// Comment modes. kube-proxy drops the comments of KUBE-SEP-* rules and of the KUBE-SVC → KUBE-SEP jumps when a
// sync has more than 1000 endpoints ("large cluster mode", proxier.go largeClusterEndpointsThreshold).
const (
	CommentsAuto   Comments = iota // as kube-proxy: dropped above 1000 endpoints
	CommentsAlways                 // keep them (kube-proxy's output below the threshold, at any size)
	CommentsNever                  // large cluster mode at any size
)

// largeClusterEndpointsThreshold is kube-proxy's switch to "large cluster mode" (pkg/proxy/iptables/proxier.go).
const largeClusterEndpointsThreshold = 1000

// Flavour selects which iptables-save binary's output to imitate.
type Flavour int

// Flavours of iptables-save output.
const (
	// FlavourNFT is `iptables-nft-save` 1.8.9: header "(nf_tables)", tables in creation order (mangle, filter, nat).
	FlavourNFT Flavour = iota
	// FlavourLegacy is `iptables-legacy-save` 1.8.9: no "(nf_tables)", tables newest-first (nat, filter, mangle),
	// as /proc/net/ip_tables_names lists them.
	FlavourLegacy
)

// Version selects the kube-proxy minor version whose nftables layout is written. The iptables-mode rules are
// identical in v1.32 and v1.34.
type Version int

// kube-proxy versions.
const (
	// V134 (default): filter-prerouting-pre-dnat / filter-output-pre-dnat at dstnat-10, filter-* at priority filter,
	// ClusterIP masquerade rule without a port match, "Drop traffic to unallocated ClusterIPs".
	V134 Version = iota
	// V132: filter-* at dstnat-10 plus filter-output-post-dnat at dstnat+10, `tcp dport N` in the masquerade rule
	// (the layout in the corpus capture, kube-proxy v1.32.13).
	V132
)

// Options are the output options of the generators.
type Options struct {
	Flavour  Flavour
	Comments Comments
	Version  Version
	// Stamp is the text after "on " in the `# Generated by` / `# Completed on` lines (C asctime format, e.g.
	// "Sun Nov 22 15:40:26 2026"). Empty leaves those lines out, so the output is stable.
	Stamp string
	// Program is the command name in the "# Generated by" line; empty means iptables-nft-save (FlavourNFT) or
	// iptables-save (FlavourLegacy), with the "ip6" prefix for IPv6. xtables-nft-multi prints the name it was
	// invoked as, so a capture of `iptables-save` on an nft system says "iptables-save v1.8.9 (nf_tables)".
	Program string
	// Counters prefixes every rule with "[0:0] ", as `iptables-save -c` prints a ruleset that saw no traffic.
	Counters bool
}
