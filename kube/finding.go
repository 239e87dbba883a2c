package kube

// FindingID names a kind of disagreement between the cluster's objects and
// the node (the ids of issue 8, a JSON contract).
type FindingID string

// Finding ids.
const (
	// ServiceNotProgrammed: a Service's NodePort, externalIP or
	// LoadBalancer ingress has ready endpoints but no DNAT path on this
	// node (kube-proxy or OVN-Kubernetes down, rules flushed, an
	// iptables.service restore over them).
	ServiceNotProgrammed FindingID = "service-not-programmed"
	// StaleServiceRules: rules (chains with rules, comments) for a Service
	// that does not exist.
	StaleServiceRules FindingID = "stale-service-rules"
	// EndpointsMismatch: a Service's DNAT targets disagree with its ready
	// EndpointSlice endpoints (extra, missing, wrong port).
	EndpointsMismatch FindingID = "endpoints-mismatch"
	// HostPortNotProgrammed: a running pod on this node declares a
	// hostPort and no DNAT forwards it.
	HostPortNotProgrammed FindingID = "hostport-not-programmed"
	// StaleHostPort: a hostport DNAT for a pod that is gone (or no longer
	// declares that hostPort).
	StaleHostPort FindingID = "stale-hostport"
	// UndeclaredHostPort: a hostNetwork pod listens on a port its spec
	// does not declare.
	UndeclaredHostPort FindingID = "undeclared-host-port"
	// WildcardHostBind: a hostNetwork pod bound to 0.0.0.0 or :: where
	// the node IP would do.
	WildcardHostBind FindingID = "wildcard-host-bind"
	// SourceRangesBypassed: a Service's NodePort or LoadBalancer port is
	// reachable from sources its loadBalancerSourceRanges exclude.
	SourceRangesBypassed FindingID = "source-ranges-bypassed"
	// NodePortOnAllInterfaces: NodePorts are accepted on every local
	// address (kube-proxy without --nodeport-addresses).
	NodePortOnAllInterfaces FindingID = "nodeport-on-all-interfaces"
	// UnownedExposure: an open or forwarded port that no Kubernetes object
	// and no known component explains.
	UnownedExposure FindingID = "unowned-exposure"
)

// Severity ranks a finding.
type Severity string

// Severities, most to least urgent.
const (
	High   Severity = "high"
	Medium Severity = "medium"
	Low    Severity = "low"
	Info   Severity = "info"
)

// ObjectRef names a Kubernetes object (or, for node-wide findings, the
// Node; for unowned exposures, Kind is empty and Name is "proto/addr:port").
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Finding is one disagreement between what the cluster declares and what
// the node programs or listens on.
type Finding struct {
	ID       FindingID `json:"id"`
	Severity Severity  `json:"severity"`
	// Object is the one object the finding is about.
	Object  ObjectRef `json:"object"`
	Message string    `json:"message"`
	// Evidence lists the rules, chains, addresses and ports that show it
	// (never nil).
	Evidence []string `json:"evidence"`
}

// Result is the reconciliation of one node.
type Result struct {
	Node string `json:"node"`
	// Findings are sorted by id, object namespace, object name, message
	// (never nil).
	Findings []Finding `json:"findings"`
}
