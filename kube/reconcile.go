package kube

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

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

// reconcile is Reconcile.
func reconcile(in Input) (*Result, error) {
	if in.Inventory == nil {
		return nil, errors.New("reconcile: no inventory")
	}
	ix := newIndex(in.Inventory)
	j := newJoiner(ix, in.Node)
	j.join(in.Report)
	r := &reconciler{in: in, ix: ix, j: j, rules: newRuleIndex(in.Ruleset), out: []Finding{}}
	r.services()
	r.staleServices()
	r.hostPorts()
	r.hostNetwork()
	r.nodePortsAll()
	r.unowned()
	slices.SortFunc(r.out, compareFinding)
	return &Result{Node: in.Node, Findings: r.out}, nil
}

// reconciler collects the findings of one node.
type reconciler struct {
	in    Input
	ix    *index
	j     *joiner
	rules *ruleIndex
	out   []Finding
	// bySvc: see serviceExposures.
	bySvc map[string][]*exposure.Exposure
}

// add records a finding (evidence never nil).
func (r *reconciler) add(id FindingID, sev Severity, obj ObjectRef, msg string, evidence []string) {
	if evidence == nil {
		evidence = []string{}
	}
	r.out = append(r.out, Finding{ID: id, Severity: sev, Object: obj, Message: msg, Evidence: evidence})
}

// compareFinding orders findings by id, namespace, name, message.
func compareFinding(a, b Finding) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Object.Namespace, b.Object.Namespace),
		cmp.Compare(a.Object.Name, b.Object.Name), cmp.Compare(a.Object.Kind, b.Object.Kind), cmp.Compare(a.Message, b.Message))
}

// serviceRef is the ObjectRef of a Service.
func serviceRef(s *corev1.Service) ObjectRef {
	return ObjectRef{Kind: exposure.KindService, Namespace: s.Namespace, Name: s.Name}
}

// podRef is the ObjectRef of a Pod.
func podRef(p *corev1.Pod) ObjectRef {
	return ObjectRef{Kind: exposure.KindPod, Namespace: p.Namespace, Name: p.Name}
}

// capList keeps the first n items and says how many more there are.
func capList(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return append(items[:n:n], fmt.Sprintf("... and %d more", len(items)-n))
}
