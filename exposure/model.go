package exposure

import (
	"net/netip"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// States a remote scanner observes, in nmap's vocabulary, plus forwarded.
const (
	// Open: the packet reaches a local listener (TCP SYN-ACK, UDP to a
	// bound socket, SCTP INIT-ACK, ICMP echo reply).
	Open = "open"
	// Closed: the packet reaches the host stack and nothing listens (TCP
	// RST, ICMP port unreachable for UDP), or a REJECT answers the way the
	// stack would (tcp-reset for TCP, icmp-port-unreachable for UDP, which
	// nmap reports as closed).
	Closed = "closed"
	// Filtered: dropped, or rejected with an ICMP error nmap reports as
	// filtered (any ICMP error for TCP; anything but port-unreachable for UDP).
	Filtered = "filtered"
	// Forwarded: DNAT/REDIRECT or routing sends the packet to another host
	// (Exposure.To says where, with probabilities).
	Forwarded = "forwarded"
)

// Report is the exposure map of a node.
type Report struct {
	// Exposures cover the whole port space of every analysed address,
	// interface and protocol, sorted.
	Exposures []Exposure `json:"exposures"`
	// Notes say what the analysis could not know (printed by the CLI, not
	// part of the JSON contract).
	Notes []string `json:"-"`
}

// Exposure is one port range of one local address, as seen from the
// sources listed, arriving on Iface.
type Exposure struct {
	Proto string `json:"proto"`
	Addr  string `json:"addr"`
	// PortFrom..PortTo inclusive; 0..0 for ICMP echo.
	PortFrom int    `json:"port_from"`
	PortTo   int    `json:"port_to"`
	State    string `json:"state"`
	// Sources are the source CIDRs that observe this state
	// ("0.0.0.0/0" or "::/0" when every source does).
	Sources []string `json:"sources"`
	Iface   string   `json:"iface"`
	// To lists where forwarded packets go, with probabilities (kube-proxy's
	// endpoint choice); empty otherwise.
	To       []Target     `json:"to"`
	Owner    Owner        `json:"owner"`
	Listener Listener     `json:"listener"`
	Path     []trace.Step `json:"path"`
	// Conditions the state rests on (assumptions of the tracer: limits,
	// recent, marks set elsewhere, unknown sets); empty when the rules and
	// the packet alone decide.
	Conditions []string `json:"conditions"`
	// Sensitive names the well-known control-plane port in the range
	// (kubelet, API server, etcd, NodePort range), when open or forwarded.
	Sensitive string `json:"sensitive,omitempty"`
}

// Target is where a forwarded (or redirected) packet goes.
type Target struct {
	Addr string `json:"addr"`
	Port int    `json:"port"`
	// PortTo is set when the range keeps its ports (DNAT without a port):
	// PortFrom..PortTo map to Port..PortTo.
	PortTo      int     `json:"port_to,omitempty"`
	Probability float64 `json:"probability"`
}

// Owner says who set up the path: the component whose chains and comments
// decide it (kube-proxy, ovn-kubernetes, cni-portmap, crio, docker, podman,
// calico, firewalld), host for a plain local listener or policy, or
// unattributed with the deciding chain and rule; and, when the rules or the
// cluster's objects say so, the Kubernetes object behind it (Kind,
// Namespace, Name, Port) and how it is exposed (Via).
type Owner struct {
	Component string `json:"component"`
	Chain     string `json:"chain,omitempty"`
	Rule      int    `json:"rule,omitempty"`
	Comment   string `json:"comment,omitempty"`
	// Kind is the Kubernetes object kind (KindService, KindPod); Namespace
	// and Name name the object. The analysis fills them from kube-proxy,
	// OVN-Kubernetes and CRI-O comments and chain names; package kube
	// checks them against the API and adds Pods.
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Port is the Service port's name, or its number when unnamed (the
	// number is known only with the Service object: kube-proxy names
	// unnamed ports by an empty string).
	Port string `json:"port,omitempty"`
	// Via is how the port is exposed (nodePort, externalIP, loadBalancer,
	// healthCheckNodePort, hostPort, hostNetwork, published).
	Via Via `json:"via,omitempty"`
	// SourceRanges restrict a LoadBalancer (loadBalancerSourceRanges).
	SourceRanges []string `json:"source_ranges,omitempty"`
	// Container is the container or sandbox id named by the rules, or the
	// container id of a hostNetwork pod's listener; ContainerName is the
	// pod spec's container name (set by package kube).
	Container     string `json:"container,omitempty"`
	ContainerName string `json:"container_name,omitempty"`
}

// Kubernetes object kinds of Owner.Kind.
const (
	KindService = "Service"
	KindPod     = "Pod"
)

// Via is how a port is exposed, in the Kubernetes API's camelCase
// vocabulary (Service spec fields, container ports, pod hostNetwork), plus
// published for Docker/Podman -p ports.
type Via string

// Via values.
const (
	// ViaNodePort: a Service's spec.ports[].nodePort on node addresses.
	ViaNodePort Via = "nodePort"
	// ViaExternalIP: a Service's spec.externalIPs.
	ViaExternalIP Via = "externalIP"
	// ViaLoadBalancer: a Service's status.loadBalancer.ingress IPs.
	ViaLoadBalancer Via = "loadBalancer"
	// ViaHealthCheckNodePort: spec.healthCheckNodePort, served by
	// kube-proxy itself (externalTrafficPolicy Local).
	ViaHealthCheckNodePort Via = "healthCheckNodePort"
	// ViaHostPort: a container's ports[].hostPort (CNI portmap or CRI-O DNAT).
	ViaHostPort Via = "hostPort"
	// ViaHostNetwork: a listener of a hostNetwork pod.
	ViaHostNetwork Via = "hostNetwork"
	// ViaPublished: a Docker or Podman published port (-p).
	ViaPublished Via = "published"
)

// Listener is a local socket that accepts packets, with the process,
// container and pod that own it (read from /proc by package collect).
type Listener struct {
	Proto string `json:"proto,omitempty"`
	Addr  string `json:"addr,omitempty"`
	Port  int    `json:"port,omitempty"`
	// Wildcard: bound to 0.0.0.0 or :: (every address of the family; a ::
	// socket also takes IPv4 unless it is IPV6_V6ONLY).
	Wildcard bool   `json:"wildcard,omitempty"`
	Inode    uint64 `json:"inode,omitempty"`
	PID      int    `json:"pid,omitempty"`
	Process  string `json:"process,omitempty"`
	Cmdline  string `json:"cmdline,omitempty"`
	// Runtime (crio, docker, containerd, podman) and Container id from the
	// process's cgroup; PodUID from a kubepods slice.
	Runtime   string `json:"runtime,omitempty"`
	Container string `json:"container,omitempty"`
	PodUID    string `json:"pod_uid,omitempty"`
	// HostNetNS: the process shares the host network namespace (a
	// hostNetwork pod when Container is set).
	HostNetNS bool `json:"host_netns,omitempty"`
}

// Input is what the analysis needs about a node.
type Input struct {
	Ruleset   *nf.Ruleset
	Env       *nf.Env
	Listeners []Listener
}

// Options choose the view.
type Options struct {
	// Ifaces are the input interfaces; default every non-loopback
	// interface of Env (or "eth0" when none is known, with a note).
	Ifaces []string
	// Addrs are the local addresses to scan; default every non-loopback
	// local address.
	Addrs []netip.Addr
	// Protos among tcp, udp, sctp, icmp; default all four.
	Protos []string
	// From fixes the source (one client's view); zero: every source class.
	From netip.Addr
	// SourcePort of the probes (default 40000; nmap -g sets it).
	SourcePort uint16
	// Workers tracing in parallel (default GOMAXPROCS).
	Workers int
}
