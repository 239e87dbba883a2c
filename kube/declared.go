package kube

import "github.com/exposure-audit/exposure/exposure"

// AnyAddr is Declaration.Addr for a port declared on every address of the
// node (a NodePort with kube-proxy's default --nodeport-addresses, a
// hostPort without hostIP, a hostNetwork container port).
const AnyAddr = "*"

// Declaration is one port the cluster declares should be reachable on a
// node: a Service's nodePort, externalIP, LoadBalancer ingress or
// healthCheckNodePort, a container's hostPort, or a hostNetwork
// container's containerPort.
type Declaration struct {
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
	// pods 1 when running and ready, else 0.
	Endpoints int `json:"endpoints"`
	// SourceRanges are the Service's loadBalancerSourceRanges (never nil).
	SourceRanges []string `json:"source_ranges"`
	// ExternalTrafficPolicy is Cluster or Local (Services only).
	ExternalTrafficPolicy string `json:"external_traffic_policy,omitempty"`
}

// Declared lists what the cluster declares should be exposed on node
// (`exposure k8s --node NAME`): NodePort/LoadBalancer Services' nodePorts
// (every node), externalIPs and LoadBalancer ingress IPs, healthCheckNodePorts,
// and the hostPorts and hostNetwork container ports of the pods scheduled on
// node that are not finished (phase Succeeded/Failed). An empty node lists
// the Service ports only. Sorted by proto, addr, port, namespace, name.
func Declared(inv *Inventory, node string) []Declaration {
	return declared(inv, node)
}
