package kube

import (
	"github.com/exposure-audit/exposure/exposure"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// Input is what Reconcile compares: the cluster's objects and, for one
// node, its exposure map, ruleset, listeners and environment.
type Input struct {
	Inventory *Inventory
	// Node is the Node's name (see NodeFor).
	Node string
	// Report is the node's exposure map (exposure.Analyze); Reconcile
	// fills its owners in place. May be nil (rules-only findings).
	Report *exposure.Report
	// Ruleset is the node's parsed ruleset (read for chains and DNAT
	// targets the exposure map does not reach: ClusterIP-only Services,
	// externalIPs and LB ingress IPs that are not local addresses).
	Ruleset *nf.Ruleset
	// Listeners are the node's sockets with their process, container and
	// pod (package collect).
	Listeners []exposure.Listener
	// Env holds the node's local addresses and interfaces.
	Env *nf.Env
}

// Reconcile joins the cluster's objects to the node: it sets the owner of
// every exposure of in.Report in place (Kind/Namespace/Name/Port/Via of the
// Service or Pod, checked against the inventory) and returns the findings
// (see FindingID and docs/kubernetes.md), sorted and stable. It errors only
// when in.Inventory is nil.
func Reconcile(in Input) (*Result, error) {
	return reconcile(in)
}
